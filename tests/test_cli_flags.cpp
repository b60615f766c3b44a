// The flags people reach for (issue 10, point 3): -s in vipsthumbnail's forms with "fit, never
// enlarge", -i for --urls, --user-agent, -H and --proxy as a server sees them, -v one line per
// item, and thumbnails in the input tree never taken as inputs.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "support/image_fixtures.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"
#include "thumbfetch/job/thumbs_manifest.hpp"
#include "thumbfetch/serve/image_server.hpp"

using namespace thumbfetch;
using namespace thumbfetch::test;
namespace fs = std::filesystem;

namespace {

// A real HTTP listener on 127.0.0.1 that records the head of each request it gets and answers
// 404: what a server, or a proxy, sees of a request. One connection at a time. The first request
// may be answered otherwise (`first_status`, e.g. 503) and later (`first_delay`, a slow answer).
class RecordingServer {
 public:
  explicit RecordingServer(int first_status = 404,
                           std::chrono::milliseconds first_delay = std::chrono::milliseconds(0))
      : first_status_(first_status), first_delay_(first_delay) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~RecordingServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::vector<std::chrono::steady_clock::time_point> arrivals() {
    std::lock_guard lock(mutex_);
    return arrivals_;
  }

 private:
  void serve() {
    for (;;) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string head;
      char buf[4096];
      while (head.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        head.append(buf, static_cast<size_t>(n));
      }
      bool first = false;
      {
        std::lock_guard lock(mutex_);
        first = requests_.empty();
        requests_.push_back(head);
        arrivals_.push_back(std::chrono::steady_clock::now());
      }
      if (first) std::this_thread::sleep_for(first_delay_);  // the server's latency, not a wait
      const std::string status =
          first && first_status_ == 503 ? "503 Service Unavailable" : "404 Not Found";
      const std::string answer =
          "HTTP/1.1 " + status + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      (void)!::write(c, answer.data(), answer.size());
      ::close(c);
    }
  }
  int first_status_;
  std::chrono::milliseconds first_delay_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> requests_;
  std::vector<std::chrono::steady_clock::time_point> arrivals_;
};

// Output width x height of each input's row, by input file name.
std::map<std::string, std::string> sizes(const fs::path& out) {
  std::map<std::string, std::string> m;
  for (const ThumbsRow& row : load_thumbs_manifest(out)) {
    m[fs::path(row.input).filename().string()] =
        std::to_string(row.width) + "x" + std::to_string(row.height);
  }
  return m;
}

}  // namespace

TEST(CliFlags, SizeInVipsthumbnailsFormsFitsAndNeverEnlarges) {
  TempDir tmp;
  fs::create_directories(tmp / "in");
  write_quadrant_jpeg(tmp / "in" / "wide.jpg", 400, 200);
  write_quadrant_jpeg(tmp / "in" / "tall.jpg", 200, 400);
  struct Case {
    std::string size, wide, tall;
  };
  const std::vector<Case> cases = {
      {"100", "100x50", "50x100"},   {"100x100", "100x50", "50x100"}, {"100x", "100x50", "100x200"},
      {"x100", "200x100", "50x100"}, {"1000x", "400x200", "200x400"},  // never enlarged
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.size);
    const fs::path out = tmp / ("out" + c.size);
    auto r = run_thumbfetch({"thumbs", (tmp / "in").string(), "-o", out.string(), "-s", c.size});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto got = sizes(out);
    EXPECT_EQ(got.at("wide.jpg"), c.wide);
    EXPECT_EQ(got.at("tall.jpg"), c.tall);
  }
  auto r =
      run_thumbfetch({"thumbs", (tmp / "in").string(), "-o", (tmp / "bad").string(), "-s", "x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("Wx or xH"), std::string::npos) << r.err;
}

TEST(CliFlags, RequestsCarryTheUsersAgentHeadersAndProxy) {
  RecordingServer server;
  TempDir tmp;
  std::ofstream(tmp / "direct.txt") << server.url() << "/img/a.jpg\n";
  auto r =
      run_thumbfetch({"fetch", "-i", (tmp / "direct.txt").string(), "-o", (tmp / "out").string(),
                      "--retries", "0", "--user-agent", "polite-bot/2.0 (me@example.org)", "-H",
                      "X-Token: abc", "-H", "Referer: https://example.org/"});
  EXPECT_EQ(r.exit_code, 1) << r.err;  // the 404
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_NE(seen[0].find("GET /img/a.jpg HTTP/1.1\r\n"), std::string::npos) << seen[0];
  EXPECT_NE(seen[0].find("User-Agent: polite-bot/2.0 (me@example.org)\r\n"), std::string::npos)
      << seen[0];
  EXPECT_NE(seen[0].find("X-Token: abc\r\n"), std::string::npos) << seen[0];
  EXPECT_NE(seen[0].find("Referer: https://example.org/\r\n"), std::string::npos) << seen[0];

  // Through the proxy: the request goes to it, in absolute form, for a host that never resolves.
  std::ofstream(tmp / "far.txt") << "http://images.invalid/photo.jpg\n";
  r = run_thumbfetch({"fetch", "--urls", (tmp / "far.txt").string(), "-o", (tmp / "out2").string(),
                      "--retries", "0", "--proxy", server.url()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  seen = server.requests();
  ASSERT_EQ(seen.size(), 2u) << r.err;
  EXPECT_NE(seen[1].find("GET http://images.invalid/photo.jpg HTTP/1.1\r\n"), std::string::npos)
      << seen[1];
}

TEST(CliFlags, VerboseSaysOneLinePerItem) {
  ServeConfig c;
  c.generate = 3;
  c.spec.min_side = 48;
  c.spec.max_side = 64;
  ImageServer server(c);
  server.start_in_thread();
  TempDir tmp;
  {
    std::ofstream list(tmp / "urls.txt");
    for (const auto& n : server.image_names()) list << server.base_url() << "/img/" << n << "\n";
    list << server.base_url() << "/img/missing.jpg\n";
  }
  auto r = run_thumbfetch(
      {"fetch", "-v", "--urls", (tmp / "urls.txt").string(), "-o", (tmp / "out").string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  for (const auto& n : server.image_names()) EXPECT_EQ(count_lines_with(r.err, n + ": ok"), 1);
  EXPECT_EQ(count_lines_with(r.err, "missing.jpg: HTTP"), 1) << r.err;

  r = run_thumbfetch({"thumbs", "-v", (tmp / "out").string(), "-o", (tmp / "t").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_lines_with(r.err, ": ok"), 3) << r.err;
}

TEST(CliFlags, ThumbnailsInTheInputTreeAreNeverInputs) {
  TempDir tmp;
  const fs::path tree = tmp / "photos";
  fs::create_directories(tree / "2024");
  write_quadrant_jpeg(tree / "a.jpg", 300, 200);
  write_quadrant_jpeg(tree / "2024" / "b.jpg", 200, 300);
  for (int run = 0; run < 2; ++run) {  // the same output twice: its own thumbnails stay out
    auto r = run_thumbfetch(
        {"thumbs", tree.string(), "-r", "-o", (tree / "thumbs").string(), "--skip-existing"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  EXPECT_EQ(load_thumbs_manifest(tree / "thumbs").size(), 2u);
  // Another output folder: the first one's thumbnails are not inputs either.
  auto r = run_thumbfetch({"thumbs", tree.string(), "-r", "-o", (tree / "small").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("2 ok, 0 failed, 0 skipped"), std::string::npos) << r.out;
  EXPECT_EQ(load_thumbs_manifest(tree / "small").size(), 2u);
}

TEST(CliFlags, RateSpacesTheRequestsToAHost) {
  TempDir tmp;
  for (const std::string strategy : {"serial", "threads", "async"}) {
    SCOPED_TRACE(strategy);
    RecordingServer server;
    {
      std::ofstream list(tmp / "urls.txt", std::ios::trunc);
      for (int i = 0; i < 5; ++i) list << server.url() << "/img/" << i << ".jpg\n";
    }
    auto r = run_thumbfetch({"fetch", "--urls", (tmp / "urls.txt").string(), "-o",
                             (tmp / ("out-" + strategy)).string(), "--retries", "0", "-j", "8",
                             "--strategy", strategy, "--rate", "20/s"});
    EXPECT_EQ(r.exit_code, 1) << r.err;  // every answer is a 404
    const auto times = server.arrivals();
    ASSERT_EQ(times.size(), 5u);
    // 20/s: a start every 50 ms. The server notes a request when its thread reads it, which on
    // a loaded machine can be late for one and early for the next: the span of the four gaps is
    // held to 80% of 200 ms, each gap only to 20 ms (no two requests at once).
    EXPECT_GE(std::chrono::duration<double>(times.back() - times.front()).count(), 0.16);
    for (size_t i = 1; i < times.size(); ++i) {
      EXPECT_GE(std::chrono::duration<double>(times[i] - times[i - 1]).count(), 0.02) << i;
    }
  }
  auto r = run_thumbfetch({"fetch", "--urls", (tmp / "urls.txt").string(), "-o",
                           (tmp / "bad").string(), "--rate", "10/day"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--rate"), std::string::npos) << r.err;
}

// With --rate, async once reserved a start for every item of the list in one go, so a retry got a
// turn after the whole list (and the loop held a timer per item). A retry of the first item's 503
// now gets one of the next turns.
TEST(CliFlags, RateLetsARetryGoBeforeTheRestOfTheList) {
  TempDir tmp;
  for (const std::string strategy : {"threads", "async"}) {
    SCOPED_TRACE(strategy);
    RecordingServer server(503);
    const int n = 40;
    {
      std::ofstream list(tmp / "urls.txt", std::ios::trunc);
      for (int i = 0; i < n; ++i) list << server.url() << "/img/" << i << ".jpg\n";
    }
    auto r =
        run_thumbfetch({"fetch", "--urls", (tmp / "urls.txt").string(), "-o",
                        (tmp / ("out-" + strategy)).string(), "--retries", "1", "--retry-delay",
                        "0", "-j", "8", "--strategy", strategy, "--rate", "20/s"});
    EXPECT_EQ(r.exit_code, 1) << r.err;  // every other answer is a 404
    const auto heads = server.requests();
    ASSERT_EQ(heads.size(), static_cast<size_t>(n + 1));
    // The first request (answered 503) and its retry, found by their request line.
    const auto line = [](const std::string& head) { return head.substr(0, head.find("\r\n")); };
    std::vector<size_t> asks;
    for (size_t i = 0; i < heads.size(); ++i) {
      if (line(heads[i]) == line(heads[0])) asks.push_back(i);
    }
    ASSERT_EQ(asks.size(), 2u) << line(heads[0]);
    EXPECT_LT(asks[1], heads.size() / 2) << "the retry waited behind the list";
  }
}

// --rate with --per-host 1: a start waits for the host's slot and then for its turn, so when a
// slow first answer frees the slot, the requests waiting for it still go out 1/rate apart (they
// once all went at once, their turns long past).
TEST(CliFlags, RateSpacesStartsThatWaitedForTheHostSlot) {
  TempDir tmp;
  for (const std::string strategy : {"threads", "async"}) {
    SCOPED_TRACE(strategy);
    RecordingServer server(404, std::chrono::milliseconds(400));
    {
      std::ofstream list(tmp / "urls.txt", std::ios::trunc);
      for (int i = 0; i < 4; ++i) list << server.url() << "/img/" << i << ".jpg\n";
    }
    auto r = run_thumbfetch({"fetch", "--urls", (tmp / "urls.txt").string(), "-o",
                             (tmp / ("out-" + strategy)).string(), "--retries", "0", "-j", "4",
                             "--per-host", "1", "--strategy", strategy, "--rate", "10/s"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    const auto times = server.arrivals();
    ASSERT_EQ(times.size(), 4u);
    // 10/s: the three starts after the slow answer take at least 2 x 100 ms; 140 allows for the
    // server's thread being late to read the first of them on a loaded machine.
    EXPECT_GE(std::chrono::duration<double>(times[3] - times[1]).count(), 0.14);
  }
}
