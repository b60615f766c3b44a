// The request parser of `serve` (serve/http_request): any bytes as what a client sent. The
// answer is complete (a head no longer than the limit, whose request reads the same when it
// arrives alone or byte by byte), an error with one of its statuses, or incomplete while the
// buffer is within the limit: never a buffer that grows without bound.

#include <string>

#include "fuzz_check.hpp"
#include "thumbfetch/serve/http_request.hpp"

using namespace thumbfetch;

namespace {

void check_request(const HttpRequest& req) {
  FUZZ_CHECK(!req.method.empty(), "a method");
  FUZZ_CHECK(req.path.starts_with('/') && req.target.starts_with(req.path), "an origin-form path");
  FUZZ_CHECK(req.minor_version >= 0 && req.minor_version <= 9, "HTTP/1.x");
  for (const auto& [name, value] : req.headers) {
    FUZZ_CHECK(!name.empty(), "header names are not empty");
    (void)value;
  }
  (void)query_param(req.query, "fault");
  const std::string rest = query_without(req.query, "fault");
  FUZZ_CHECK(!query_param(rest, "fault").has_value(), "query_without removes the key");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, size_t size) {
  const std::string buffer(fuzz::as_text(data, size));
  const ParseResult r = parse_http_request(buffer);
  switch (r.state) {
    case ParseState::error:
      FUZZ_CHECK(r.error_status == 400 || r.error_status == 431 || r.error_status == 505,
                 "an error status the server sends");
      return 0;
    case ParseState::incomplete:
      // Blank lines before the request line count toward the limit too.
      FUZZ_CHECK(buffer.size() <= kMaxRequestHeadBytes, "incomplete only within the limit");
      return 0;
    case ParseState::complete:
      break;
  }
  FUZZ_CHECK(r.consumed > 0 && r.consumed <= buffer.size(), "the head lies inside the buffer");
  check_request(r.request);
  // The head alone reads the same, and so does every prefix of it: incomplete until it is whole.
  const std::string head = buffer.substr(0, r.consumed);
  const ParseResult alone = parse_http_request(head);
  FUZZ_CHECK(alone.state == ParseState::complete && alone.consumed == r.consumed,
             "the head alone is the same request");
  FUZZ_CHECK(alone.request.target == r.request.target && alone.request.headers == r.request.headers,
             "the head alone is the same request");
  // (Every cut for a short head, about 64 for a long one: the run stays fast.)
  const size_t step = head.size() <= 256 ? 1 : head.size() / 64;
  for (size_t cut = 0; cut < head.size(); cut += step) {
    const ParseResult part = parse_http_request(std::string_view(head).substr(0, cut));
    FUZZ_CHECK(part.state == ParseState::incomplete, "a request arriving in pieces is awaited");
  }
  return 0;
}
