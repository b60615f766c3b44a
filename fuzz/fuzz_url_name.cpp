// URL -> file name (fetch/naming, job/names): any bytes as a URL. The name a download gets is
// never empty, never leaves the output folder (no separator, no "." or "..", no NUL or control
// character, nothing hidden or read as an option), and stays within the length caps: the stem
// within kMaxStemLength, the file name (stem, hash suffix, extension) within NAME_MAX.

#include <climits>
#include <filesystem>
#include <string>

#include "fuzz_check.hpp"
#include "thumbfetch/fetch/naming.hpp"
#include "thumbfetch/job/names.hpp"

using namespace thumbfetch;
namespace fs = std::filesystem;

namespace {

void check_file_name(const std::string& name) {
  FUZZ_CHECK(!name.empty(), "a name is never empty");
  FUZZ_CHECK(name.size() <= NAME_MAX, "a file name within NAME_MAX");
  FUZZ_CHECK(name != "." && name != "..", "not the folder or its parent");
  FUZZ_CHECK(name.front() != '.' && name.front() != '-', "not hidden, not an option");
  for (unsigned char c : name) {
    FUZZ_CHECK(c != '/' && c != '\\' && c >= 0x20 && c != 0x7F, "no separator or control byte");
  }
  const fs::path dir = "/out";
  const fs::path file = (dir / name).lexically_normal();
  FUZZ_CHECK(file.parent_path() == dir, "the file stays in the output folder");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, size_t size) {
  const std::string url(fuzz::as_text(data, size));
  const std::string stem = safe_stem_from_url(url);
  FUZZ_CHECK(stem.size() <= kMaxStemLength, "a stem within kMaxStemLength");
  check_file_name(stem);
  FUZZ_CHECK(safe_stem_from_url(url) == stem, "the same URL gives the same stem");

  // Two other URLs want the same stem first: this one gets the hashed form of it.
  NameBook book;
  const std::string first = book.claim(url + "#a", stem);
  const std::string second = book.claim(url + "#b", stem);
  const std::string mine = book.claim(url, stem);
  FUZZ_CHECK(first == stem, "the first claim gets the stem it asked for");
  FUZZ_CHECK(name_key(second) != name_key(first) && name_key(mine) != name_key(first) &&
                 name_key(mine) != name_key(second),
             "claimed stems differ case-insensitively");
  for (const std::string& s : {second, mine}) check_file_name(s + ".jpg");
  FUZZ_CHECK(book.claim(url, stem) == mine, "a key keeps its stem");

  (void)url_host(url);
  return 0;
}
