// The Imgur API page reader (source/imgur): any bytes as the API's answers. The input is cut at
// NUL bytes into answer bodies, one per request the collector makes (gallery pages, then albums
// that need a request of their own); the first byte picks the query's options (limit, GIFs,
// NSFW) and the answers' status and rate-limit headers. Links come out distinct, http(s), never
// more than the limit; the requests stop when the answers run out.

#include <string>
#include <unordered_set>
#include <vector>

#include "fuzz_check.hpp"
#include "thumbfetch/source/imgur.hpp"

using namespace thumbfetch;

namespace {

std::vector<std::string> split_answers(std::string_view bytes) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= bytes.size()) {
    size_t nul = bytes.find('\0', start);
    if (nul == std::string_view::npos) nul = bytes.size();
    parts.emplace_back(bytes.substr(start, nul - start));
    start = nul + 1;
  }
  return parts;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, size_t size) {
  if (size == 0) return 0;
  const unsigned flags = data[0];
  const std::vector<std::string> bodies = split_answers(fuzz::as_text(data + 1, size - 1));

  ImgurQuery query;
  query.client_id = "fuzz";
  query.limit = static_cast<int>(flags & 7);  // 0: every page until an empty one
  query.animated = (flags & 8) != 0;
  query.nsfw = (flags & 16) != 0;
  size_t next = 0;
  auto transport = [&](const std::string& path) {
    FUZZ_CHECK(path.starts_with("/3/gallery/") || path.starts_with("/3/album/"), "an API path");
    ImgurAnswer a;
    if (next >= bodies.size()) {  // no more answers: as a network failure
      a.code = CURLE_COULDNT_CONNECT;
      a.curl_error = "no more answers";
      return a;
    }
    a.status = (flags & 32) != 0 && next > 0 ? 429 : 200;
    a.body = bodies[next++];
    if ((flags & 64) != 0) {
      a.headers["x-ratelimit-userremaining"] = "0";
      a.headers["x-ratelimit-userreset"] = a.body.substr(0, 12);
    }
    return a;
  };
  const ImgurLinks links = collect_imgur_links(query, transport);

  FUZZ_CHECK(links.requests >= 1 && static_cast<size_t>(links.requests) <= bodies.size() + 1,
             "one request per answer, and no more once they ran out");
  if (query.limit > 0) {
    FUZZ_CHECK(links.links.size() <= static_cast<size_t>(query.limit), "never past the limit");
  }
  std::unordered_set<std::string> seen;
  for (const std::string& link : links.links) {
    FUZZ_CHECK(seen.insert(link).second, "each link once");
    FUZZ_CHECK(link.size() >= 8, "an http(s) link");
  }
  FUZZ_CHECK(!links.limit_reached || !links.limit_message.empty(), "a reached limit is told");
  return 0;
}
