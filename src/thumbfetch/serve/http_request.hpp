#pragma once
// A small, strict HTTP/1.x request parser for the test server: request line and headers only
// (GET and HEAD carry no body), with hard limits so that garbage or an endless header block is
// answered with 400/431 instead of growing a buffer without bound.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace thumbfetch {

// The most bytes a request line plus headers may take; beyond it the answer is 431.
inline constexpr std::size_t kMaxRequestHeadBytes = 16 * 1024;

struct HttpRequest {
  std::string method;     // "GET", "HEAD", ... (case-sensitive token, as sent)
  std::string target;     // origin-form as sent: "/img/a.jpg?fault=500"
  std::string path;       // target before '?', percent-decoding NOT applied
  std::string query;      // after '?', without it ("" when absent)
  int minor_version = 1;  // HTTP/1.<minor_version>
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, values trimmed
  bool keep_alive = true;  // from the version and the Connection header
  bool has_body = false;   // Content-Length > 0 or Transfer-Encoding: the server closes after

  // The first header with this lower-case name, or nullptr.
  const std::string* header(std::string_view lower_name) const;
};

enum class ParseState { incomplete, complete, error };

struct ParseResult {
  ParseState state = ParseState::incomplete;
  std::size_t consumed = 0;  // bytes of the head, including the final CRLFCRLF (when complete)
  int error_status = 0;      // 400, 431, 505 (when error)
  HttpRequest request;       // valid when complete
};

// Parses one request head at the start of `buffer`. Incomplete while no blank line has been seen
// and the buffer is under kMaxRequestHeadBytes; bare LF line endings are accepted.
ParseResult parse_http_request(std::string_view buffer);

// The value of `key` in a query string ("a=1&b=2"), undecoded; "" for a bare `key`; nullopt
// when absent.
std::optional<std::string> query_param(std::string_view query, std::string_view key);

// `query` without every `key=...` (or bare `key`) parameter, other parameters in order.
std::string query_without(std::string_view query, std::string_view key);

}  // namespace thumbfetch
