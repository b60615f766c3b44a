#pragma once
// What the test server sends back: a status line and headers, a body that may be mostly
// "virtual" (zeros streamed without allocating them), how fast it goes out, and what becomes of
// the connection afterwards. Built by the routes, written by the event loop.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace thumbfetch {

// A body that is `data` followed by zeros up to `size` bytes: real files have size ==
// data->size(); the oversized-body fault streams megabytes of padding without allocating them.
struct Body {
  std::shared_ptr<const std::string> data;
  std::uint64_t size = 0;
};

// What to do once a response has been written.
enum class After { keep_alive, close, hold };

struct Response {
  std::string head;  // status line and headers, CRLF CRLF included
  Body body;
  std::uint64_t send_bytes = 0;  // body bytes actually sent (truncate/stall send fewer)
  After after = After::keep_alive;
  int bandwidth_kbps = 0;  // KiB/s for this response; 0 = the server's --bandwidth
  int delay_ms = 0;        // before the first byte
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Whether the head announces the body's length.
enum class LengthHeader { sent, omitted };

// "Not Found" for 404, ...; "Unknown" for a status the server never sends.
std::string_view reason_phrase(int status);

// A small HTML error page, as web servers send.
std::string html_page(int status, std::string_view detail);

// A response with `body`. LengthHeader::sent announces `announced_length` (the body's size when
// absent, a lie otherwise); omitted makes it close-delimited (the connection closes after it).
// HEAD (`head_only`) sends the same headers and no body. The head ends in
// "Connection: keep-alive" until mark_close() changes it.
Response make_body_response(int status, std::string_view content_type, Body body, bool head_only,
                            const HeaderList& extra = {}, LengthHeader length = LengthHeader::sent,
                            std::uint64_t announced_length = UINT64_MAX);

// A response whose body is `body` in full.
Response make_response(int status, std::string_view content_type, std::string body, bool head_only,
                       const HeaderList& extra = {});

// The connection closes after this response: `after` becomes close (unless it holds) and the
// head says "Connection: close".
void mark_close(Response& response);

}  // namespace thumbfetch
