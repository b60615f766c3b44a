#include "thumbfetch/serve/http_response.hpp"

#include <fmt/format.h>

namespace thumbfetch {

namespace {

constexpr std::string_view kKeepAlive = "Connection: keep-alive";

}  // namespace

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 302:
      return "Found";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string html_page(int status, std::string_view detail) {
  return fmt::format(
      "<!DOCTYPE html>\n<html><head><title>{0} {1}</title></head>"
      "<body><h1>{0} {1}</h1><p>{2}</p></body></html>\n",
      status, reason_phrase(status), detail);
}

Response make_body_response(int status, std::string_view content_type, Body body, bool head_only,
                            const HeaderList& extra, LengthHeader length,
                            std::uint64_t announced_length) {
  Response r;
  r.head =
      fmt::format("HTTP/1.1 {} {}\r\nServer: thumbfetch-serve\r\n", status, reason_phrase(status));
  if (!content_type.empty()) r.head += fmt::format("Content-Type: {}\r\n", content_type);
  if (length == LengthHeader::sent) {
    r.head += fmt::format("Content-Length: {}\r\n",
                          announced_length == UINT64_MAX ? body.size : announced_length);
  } else {
    r.after = After::close;  // close-delimited: the end of the body is the end of the connection
  }
  for (const auto& [name, value] : extra) r.head += fmt::format("{}: {}\r\n", name, value);
  r.head += fmt::format("{}\r\n\r\n", kKeepAlive);
  r.send_bytes = head_only ? 0 : body.size;
  r.body = std::move(body);
  return r;
}

Response make_response(int status, std::string_view content_type, std::string body, bool head_only,
                       const HeaderList& extra) {
  auto data = std::make_shared<const std::string>(std::move(body));
  std::uint64_t size = data->size();
  return make_body_response(status, content_type, Body{std::move(data), size}, head_only, extra);
}

void mark_close(Response& response) {
  if (response.after == After::keep_alive) response.after = After::close;
  auto pos = response.head.find(kKeepAlive);
  if (pos != std::string::npos) response.head.replace(pos, kKeepAlive.size(), "Connection: close");
}

}  // namespace thumbfetch
