#pragma once
// A deliberately plain HTTP/1.1 client over POSIX sockets for the serve tests: it sees exactly
// the bytes the server sends (lying lengths, truncation, stalls), which libcurl would hide.
// Loopback only.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

#include "thumbfetch/util/fd.hpp"

namespace thumbfetch::testing {

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  bool eof = false;        // the server closed the connection
  bool timed_out = false;  // no byte came for the read timeout
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// A blocking TCP connection to 127.0.0.1:port.
inline UniqueFd connect_loopback(std::uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw std::runtime_error("connect to 127.0.0.1 failed");
  }
  return fd;
}

inline void send_all(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error("send failed");
    off += static_cast<std::size_t>(n);
  }
}

// Reads one response from `fd`. The body ends at Content-Length, at EOF when there is none, or
// when nothing arrives for `timeout`. `pending` keeps bytes read past this response.
inline RawResponse read_response(int fd, std::string& pending, bool head_request = false,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(5),
                                 std::size_t max_body = 100 * 1024 * 1024) {
  RawResponse r;
  auto read_more = [&]() -> bool {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
      r.timed_out = true;
      return false;
    }
    char buf[65536];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      r.eof = true;
      return false;
    }
    pending.append(buf, static_cast<std::size_t>(n));
    return true;
  };
  std::size_t end;
  while ((end = pending.find("\r\n\r\n")) == std::string::npos) {
    if (!read_more()) return r;
  }
  std::string head = pending.substr(0, end);
  pending.erase(0, end + 4);
  r.status = std::stoi(head.substr(9, 3));
  std::size_t pos = head.find("\r\n");
  while (pos != std::string::npos) {
    std::size_t next = head.find("\r\n", pos + 2);
    std::string line =
        head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
    std::size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::size_t v = line.find_first_not_of(' ', colon + 1);
      r.headers[name] = v == std::string::npos ? "" : line.substr(v);
    }
    pos = next;
  }
  if (head_request) return r;
  bool has_length = r.headers.count("content-length") > 0;
  std::size_t want = has_length ? std::stoull(r.headers["content-length"]) : max_body;
  while (pending.size() < want && read_more()) {
  }
  std::size_t take = std::min(want, pending.size());
  r.body = pending.substr(0, take);
  pending.erase(0, take);
  return r;
}

// One request on a new connection: `GET target` (or another method), extra header lines
// ("Name: value\r\n" each) appended.
inline RawResponse http_request(std::uint16_t port, const std::string& target,
                                const std::string& extra_headers = "",
                                const std::string& method = "GET",
                                std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  UniqueFd fd = connect_loopback(port);
  send_all(fd.get(),
           method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers + "\r\n");
  std::string pending;
  return read_response(fd.get(), pending, method == "HEAD", timeout);
}

}  // namespace thumbfetch::testing
