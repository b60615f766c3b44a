#include <gtest/gtest.h>

#include <poll.h>

#include <chrono>
#include <string>
#include <vector>

#include "support/serve_test_client.hpp"
#include "thumbfetch/serve/image_server.hpp"

using namespace thumbfetch;
using namespace thumbfetch::testing;

// 1,000 clients connected at once to a server that waits 200 ms before every answer: served
// one after another that would take 200 s; a loop of timers answers them all in about 200 ms.
TEST(ServeConcurrency, HoldsAThousandSlowConnectionsAtOnce) {
  constexpr int kClients = 1000;
  ServeConfig config;
  config.generate = 2;
  config.spec.min_side = 32;
  config.spec.max_side = 64;
  config.latency_ms = 200;
  ImageServer server(config);
  server.start_in_thread();
  const std::string name = server.image_names()[0];
  const std::size_t size = server.image_bytes(name).size();

  auto start = std::chrono::steady_clock::now();
  std::vector<UniqueFd> sockets;
  for (int i = 0; i < kClients; ++i) sockets.push_back(connect_loopback(server.port()));
  const std::string request = "GET /img/" + name + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  for (const UniqueFd& fd : sockets) send_all(fd.get(), request);

  // Read every answer as it comes (all sockets polled together, as a real client would).
  std::vector<std::string> received(kClients);
  std::vector<pollfd> polls;
  for (const UniqueFd& fd : sockets) polls.push_back({fd.get(), POLLIN, 0});
  std::string head_end = "\r\n\r\n";
  int complete = 0;
  while (complete < kClients) {
    int n = ::poll(polls.data(), polls.size(), 10'000);
    ASSERT_GT(n, 0) << "timed out with " << complete << " answers";
    for (std::size_t i = 0; i < polls.size(); ++i) {
      if (polls[i].fd < 0 || !(polls[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[8192];
      ssize_t got = ::recv(polls[i].fd, buf, sizeof buf, 0);
      ASSERT_GT(got, 0) << "connection " << i << " closed early";
      received[i].append(buf, static_cast<std::size_t>(got));
      std::size_t end = received[i].find(head_end);
      if (end != std::string::npos && received[i].size() >= end + 4 + size) {
        polls[i].fd = -1;
        ++complete;
      }
    }
  }
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const std::string& r : received) ASSERT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_GE(elapsed, 0.2);
  EXPECT_LT(elapsed, 10.0);  // serial would be 1,000 x 200 ms = 200 s
  ServerStats stats = server.stats();
  EXPECT_GE(stats.max_concurrent_connections, static_cast<std::uint64_t>(kClients));
  EXPECT_EQ(stats.get_count("/img/" + name), static_cast<std::uint64_t>(kClients));
  std::printf("[ measured ] %d connections x 200 ms latency answered in %.3f s\n", kClients,
              elapsed);
}
