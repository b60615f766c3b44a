#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "support/serve_test_client.hpp"
#include "thumbfetch/serve/image_server.hpp"
#include "thumbfetch/util/fd_limit.hpp"

using namespace thumbfetch;
using namespace thumbfetch::testing;

namespace {

// Clients this process can hold open next to the server's end of each connection (both ends
// live in this process): up to 1,000, fewer when the descriptor limit is lower even after
// raising the soft limit to the hard one (`ulimit -n 1024` sets both).
int affordable_clients() {
  const std::size_t limit = raise_open_file_limit();
  const std::size_t in_use = count_open_fds();
  constexpr std::size_t kMargin = 64;  // the server's own descriptors, libvips, gtest
  if (limit <= in_use + kMargin) return 0;
  return static_cast<int>(std::min<std::size_t>(1000, (limit - in_use - kMargin) / 2));
}

}  // namespace

// Up to 1,000 clients connected at once to a server that waits 200 ms before every answer:
// served one after another that would take 200 s; a loop of timers answers them all in about
// 200 ms.
TEST(ServeConcurrency, HoldsAThousandSlowConnectionsAtOnce) {
  const int kClients = affordable_clients();
  if (kClients < 100) GTEST_SKIP() << "too few descriptors for 100 connections";
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
  EXPECT_LT(elapsed, 10.0);  // serial would be kClients x 200 ms: 20 s at the fewest
  ServerStats stats = server.stats();
  EXPECT_GE(stats.max_concurrent_connections, static_cast<std::uint64_t>(kClients));
  EXPECT_EQ(stats.get_count("/img/" + name), static_cast<std::uint64_t>(kClients));
  std::printf("[ measured ] %d connections x 200 ms latency answered in %.3f s\n", kClients,
              elapsed);
}

namespace {

// Lowers the soft descriptor limit of this process for a test, and restores it.
class LoweredFdLimit {
 public:
  explicit LoweredFdLimit(rlim_t soft) {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit lowered = saved_;
    lowered.rlim_cur = soft;
    ok_ = ::setrlimit(RLIMIT_NOFILE, &lowered) == 0;
  }
  ~LoweredFdLimit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
  LoweredFdLimit(const LoweredFdLimit&) = delete;
  LoweredFdLimit& operator=(const LoweredFdLimit&) = delete;
  bool ok() const { return ok_; }

 private:
  rlimit saved_{};
  bool ok_ = false;
};

}  // namespace

// Out of descriptors, the server answers the connections it cannot keep with 503 and closes
// them, rather than leaving them in the backlog (where they would wait forever, and a
// level-triggered listener would wake the loop again and again). The server shares this
// process's limit, so the test fills the descriptor table up to two free slots.
TEST(ServeConcurrency, OutOfDescriptorsRefusesWith503) {
  ServeConfig config;
  config.generate = 1;
  config.spec.min_side = 32;
  config.spec.max_side = 32;
  ImageServer server(config);
  server.start_in_thread();
  const std::string request =
      "GET /img/" + server.image_names()[0] + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  constexpr int kClients = 6;
  std::vector<UniqueFd> clients;  // made before the limit is lowered: connect() needs no new fd
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(clients.back().valid());
  }
  std::vector<int> statuses;
  std::vector<RawResponse> responses;
  {
    LoweredFdLimit limit(count_open_fds() + 32);
    ASSERT_TRUE(limit.ok());
    std::vector<UniqueFd> filler;
    for (;;) {
      UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
      if (!fd.valid()) break;
      filler.push_back(std::move(fd));
    }
    ASSERT_EQ(errno, EMFILE);
    ASSERT_GE(filler.size(), 2u);
    filler.resize(filler.size() - 2);  // two descriptors left for the server's connections
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(server.port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (const UniqueFd& fd : clients) {
      ASSERT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
      send_all(fd.get(), request);
    }
    for (const UniqueFd& fd : clients) {
      std::string pending;
      responses.push_back(read_response(fd.get(), pending, false, std::chrono::seconds(3)));
    }
  }
  int served = 0, refused = 0;
  for (const RawResponse& r : responses) {
    EXPECT_FALSE(r.timed_out) << "a connection was left waiting";
    if (r.status == 200) ++served;
    if (r.status == 503) {
      ++refused;
      EXPECT_EQ(r.header("connection"), "close");
      EXPECT_EQ(r.header("retry-after"), "1");
    }
  }
  EXPECT_EQ(served + refused, kClients);
  EXPECT_GE(refused, kClients - 2);
  EXPECT_EQ(server.stats().connections_refused, static_cast<std::uint64_t>(refused));
  // With descriptors back, the server takes connections again.
  EXPECT_EQ(http_request(server.port(), "/img/" + server.image_names()[0]).status, 200);
}
