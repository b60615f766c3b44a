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

// Finds and parses one request head at the start of a connection's input, incrementally: the
// input only grows between calls, and each call examines only the bytes that are new since the
// last one, so a head that trickles in byte by byte costs linear time, not quadratic.
// The whole head counts towards kMaxRequestHeadBytes: blank lines before the request line
// (skipped, RFC 9112 2.2), the request line, the headers and the blank line that ends them.
// Bare LF line endings are accepted. A request line that already cannot be HTTP is refused
// before its line ends (a TLS ClientHello, binary garbage).
class RequestHeadScanner {
 public:
  // `buffer` must start with the bytes given to the previous call (the same input, grown).
  // Incomplete while no blank line has been seen within the limit; complete or error once.
  ParseResult scan(std::string_view buffer);
  // For the next request, after the caller dropped the bytes of this one (or all of them).
  void reset() { *this = RequestHeadScanner(); }
  // Bytes looked at since construction or reset(): for tests of the linear-time promise.
  std::size_t bytes_examined() const { return examined_; }

 private:
  std::size_t pos_ = 0;          // bytes of the input already examined
  std::size_t start_ = kNone;    // the request line's first byte, once past the blank lines
  std::size_t line_start_ = 0;   // the first byte of the line being scanned
  bool method_checked_ = false;  // the request line's first space (or line end) was seen
  std::size_t examined_ = 0;
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
};

// One head at the start of `buffer`, scanned from scratch (RequestHeadScanner on a fresh state).
ParseResult parse_http_request(std::string_view buffer);

// The value of `key` in a query string ("a=1&b=2"), undecoded; "" for a bare `key`; nullopt
// when absent.
std::optional<std::string> query_param(std::string_view query, std::string_view key);

// `query` without every `key=...` (or bare `key`) parameter, other parameters in order.
std::string query_without(std::string_view query, std::string_view key);

}  // namespace thumbfetch
