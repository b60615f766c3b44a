#pragma once
// `thumbfetch serve`: a real HTTP/1.1 server on 127.0.0.1 that serves images and behaves like
// the internet on request (latency, jitter, bandwidth limits, errors, truncation, stalls, lying
// headers, redirects to other schemes) and plays the Imgur API v3. One thread runs an epoll loop
// over non-blocking sockets; latency and pacing are timers in that loop, never sleeping threads,
// so a thousand slow connections cost a thousand sockets and nothing more.
// Routes and faults: the README section "Test server" and tests/test_serve_*.cpp (the downloader's
// tests rely on them: change nothing without telling them).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "thumbfetch/serve/server_stats.hpp"
#include "thumbfetch/serve/synthetic_images.hpp"

namespace thumbfetch {

struct ServeConfig {
  std::string host = "127.0.0.1";  // an IPv4 address to bind (loopback by default)
  std::uint16_t port = 0;          // 0 = pick a free one
  std::filesystem::path dir;       // serve the regular files at the top of this folder, or
  int generate = 0;                // N generated images img_0000.jpg ... (some .png)
  SyntheticSpec spec;              // sizes and seed of the generated images
  int latency_ms = 0;              // before the status line of every response
  int jitter_ms = 0;               // plus a uniform [0, jitter_ms]
  int bandwidth_kbps = 0;          // per connection, KiB/s; 0 = unlimited
  // Random faults on /img/ requests (each a probability; deterministic for a seed and an order
  // of requests).
  double rate_500 = 0, rate_503 = 0, rate_429 = 0, rate_truncate = 0, rate_stall = 0,
         rate_wrong_type = 0, rate_html = 0, rate_redirect = 0;
  double rate_limit_per_s = 0;  // token bucket on /img/: beyond it 429 with Retry-After; 0 = off
  std::uint64_t seed = 1;
  // The Imgur API look-alike.
  std::string imgur_client_id = "test-client-id";
  int imgur_pages = 3;
  int imgur_per_page = 60;
  int imgur_rate_limit = 12500;  // API requests answered before 429
};

class ImageServer {
 public:
  // Loads or generates the images, builds the Imgur catalogue, binds and listens. Throws
  // std::runtime_error when it cannot (port taken, folder unreadable, nothing to serve).
  explicit ImageServer(ServeConfig config);
  // Stops the loop and joins the thread started by start_in_thread().
  ~ImageServer();
  ImageServer(const ImageServer&) = delete;
  ImageServer& operator=(const ImageServer&) = delete;

  std::uint16_t port() const;
  // "http://127.0.0.1:PORT", no trailing slash.
  std::string base_url() const;

  // Runs the event loop on the calling thread until stop(). Call at most once.
  void run();
  // Runs the event loop on a thread owned by the server (for in-process tests).
  void start_in_thread();
  // Asks the loop to end; safe from any thread or a signal-handling thread, idempotent.
  void stop();

  // A consistent snapshot, safe from any thread.
  ServerStats stats() const;
  // The corpus names, sorted ("img_0000.jpg", ...); Imgur alias names are not included.
  std::vector<std::string> image_names() const;
  // The exact bytes GET /img/<name> answers with (corpus or Imgur alias); "" when unknown.
  std::string image_bytes(std::string_view name) const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace thumbfetch
