// The URL list parser (source/url_list): any bytes as a list file. Every URL it keeps is an
// absolute http(s) URL in its normal form (normalising it again changes nothing), without white
// space, kept once; every line it refuses has a line number inside the file and a reason.

#include <sstream>
#include <string>
#include <unordered_set>

#include "fuzz_check.hpp"
#include "thumbfetch/source/url_list.hpp"

using namespace thumbfetch;

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, size_t size) {
  const std::string text(fuzz::as_text(data, size));
  std::istringstream in(text);
  const UrlList list = parse_url_list(in);

  int lines = 1;
  for (char c : text) lines += c == '\n' ? 1 : 0;
  std::unordered_set<std::string> seen;
  for (const std::string& url : list.urls) {
    FUZZ_CHECK(url.starts_with("http://") || url.starts_with("https://"), "an http(s) URL");
    FUZZ_CHECK(url.find_first_of(" \t\r\n") == std::string::npos, "no white space in a URL");
    FUZZ_CHECK(seen.insert(url).second, "each URL kept once");
    auto again = normalize_http_url(url);
    FUZZ_CHECK(again.ok(), "a kept URL is still valid");
    FUZZ_CHECK(again.value() == url, "a kept URL is in its normal form");
  }
  for (const InvalidUrlLine& bad : list.invalid) {
    FUZZ_CHECK(bad.line >= 1 && bad.line <= lines, "a refused line's number is in the file");
    FUZZ_CHECK(!bad.reason.empty(), "a refused line has a reason");
  }
  FUZZ_CHECK(list.duplicates >= 0, "duplicates counted");
  return 0;
}
