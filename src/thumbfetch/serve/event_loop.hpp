#pragma once
// The test server's network half: one thread runs an epoll loop over non-blocking sockets;
// latency and pacing are timers in that loop, never sleeping threads, so a thousand slow
// connections cost a thousand sockets and nothing more. It parses request heads (each input
// byte examined once), asks a handler for the Response, and writes it: delayed, paced,
// truncated or held as the Response says. What to answer is the handler's business (routes.hpp).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "thumbfetch/serve/http_request.hpp"
#include "thumbfetch/serve/http_response.hpp"
#include "thumbfetch/serve/server_stats.hpp"

namespace thumbfetch {

using RequestHandler = std::function<Response(const HttpRequest&)>;

class EventLoop {
 public:
  // Binds `host` (an IPv4 address) and `port` (0 = a free one) and listens. Throws
  // std::runtime_error when it cannot. `bandwidth_kbps` paces every response that sets none.
  EventLoop(const std::string& host, std::uint16_t port, int bandwidth_kbps);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  std::uint16_t port() const;
  // Who answers the requests; set it before run().
  void set_handler(RequestHandler handler);
  // Serves on the calling thread until stop(); every connection is closed on return.
  void run();
  // Asks run() to return; safe from any thread, idempotent.
  void stop();
  // A consistent snapshot, safe from any thread.
  ServerStats stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace thumbfetch
