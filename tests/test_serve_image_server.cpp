#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/serve_test_client.hpp"
#include "thumbfetch/serve/image_server.hpp"
#include "thumbfetch/util/sniff.hpp"

using namespace thumbfetch;
using namespace thumbfetch::testing;
using Clock = std::chrono::steady_clock;

namespace {

ServeConfig small_corpus(int count = 6) {
  ServeConfig config;
  config.generate = count;
  config.spec.min_side = 64;
  config.spec.max_side = 160;
  return config;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

class ServeImageServer : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ImageServer>(small_corpus());
    server_->start_in_thread();
    name_ = server_->image_names().front();
  }
  RawResponse get(const std::string& target, const std::string& headers = "",
                  const std::string& method = "GET") {
    return http_request(server_->port(), target, headers, method);
  }
  std::unique_ptr<ImageServer> server_;
  std::string name_;
};

}  // namespace

TEST_F(ServeImageServer, ServesImagesWithTypeAndLength) {
  ASSERT_EQ(server_->image_names().size(), 6u);
  EXPECT_EQ(server_->base_url(), "http://127.0.0.1:" + std::to_string(server_->port()));
  for (const std::string& name : server_->image_names()) {
    RawResponse r = get("/img/" + name);
    ASSERT_EQ(r.status, 200) << name;
    std::string bytes = server_->image_bytes(name);
    EXPECT_EQ(r.body, bytes);
    EXPECT_EQ(r.header("content-length"), std::to_string(bytes.size()));
    EXPECT_EQ(r.header("connection"), "keep-alive");
    bool png = name.ends_with(".png");
    EXPECT_EQ(r.header("content-type"), png ? "image/png" : "image/jpeg");
    EXPECT_EQ(sniff_image_format(r.body), png ? ImageFormat::png : ImageFormat::jpeg);
  }
}

TEST_F(ServeImageServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  UniqueFd fd = connect_loopback(server_->port());
  std::string pending;
  const std::string request = "GET /img/" + name_ + " HTTP/1.1\r\nHost: x\r\n\r\n";
  for (int i = 0; i < 3; ++i) {
    send_all(fd.get(), request);
    RawResponse r = read_response(fd.get(), pending);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, server_->image_bytes(name_));
  }
  // Pipelined: three requests in one write, three answers in order.
  send_all(fd.get(), request + "GET /nope HTTP/1.1\r\n\r\n" + request);
  EXPECT_EQ(read_response(fd.get(), pending).status, 200);
  EXPECT_EQ(read_response(fd.get(), pending).status, 404);
  EXPECT_EQ(read_response(fd.get(), pending).status, 200);
  ServerStats stats = server_->stats();
  EXPECT_EQ(stats.connections_accepted, 1u);
  EXPECT_EQ(stats.get_count("/img/" + name_), 5u);
}

TEST_F(ServeImageServer, HeadSendsHeadersOnly) {
  UniqueFd fd = connect_loopback(server_->port());
  std::string pending;
  send_all(fd.get(), "HEAD /img/" + name_ + " HTTP/1.1\r\n\r\n");
  RawResponse head = read_response(fd.get(), pending, /*head_request=*/true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-length"), std::to_string(server_->image_bytes(name_).size()));
  // Had a body been sent, this would read image bytes instead of a status line.
  send_all(fd.get(), "GET /list.txt HTTP/1.1\r\n\r\n");
  RawResponse next = read_response(fd.get(), pending);
  EXPECT_EQ(next.status, 200);
  EXPECT_EQ(server_->stats().get_count("/img/" + name_), 0u);  // HEAD is not a GET
}

TEST_F(ServeImageServer, UnknownNamesAndRoutesAre404Html) {
  for (const char* target : {"/img/missing.jpg", "/img/../etc/passwd", "/nothing", "/"}) {
    RawResponse r = get(target);
    EXPECT_EQ(r.status, 404) << target;
    EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
    EXPECT_NE(r.body.find("<html>"), std::string::npos);
  }
}

TEST_F(ServeImageServer, BadRequestsAreRefused) {
  UniqueFd fd = connect_loopback(server_->port());
  std::string pending;
  send_all(fd.get(), "HELLO THERE\r\n\r\n");
  RawResponse r = read_response(fd.get(), pending);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(read_response(fd.get(), pending).eof);

  UniqueFd big = connect_loopback(server_->port());
  send_all(big.get(), "GET / HTTP/1.1\r\nX-Long: " + std::string(20000, 'a') + "\r\n\r\n");
  pending.clear();
  EXPECT_EQ(read_response(big.get(), pending).status, 431);

  EXPECT_EQ(get("/img/" + name_, "", "DELETE").status, 405);
}

TEST_F(ServeImageServer, AnEndlessRunOfBlankLinesIsRefusedNotBuffered) {
  // Blank lines before a request line are skipped, but they count towards the 16 KiB head: a
  // client that sends nothing else gets 431 and a closed connection, not an ever-growing buffer.
  UniqueFd fd = connect_loopback(server_->port());
  std::string blank;
  while (blank.size() < 20 * 1024) blank += "\r\n";
  send_all(fd.get(), blank);
  std::string pending;
  RawResponse r = read_response(fd.get(), pending);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.status, 431);
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(read_response(fd.get(), pending).eof);
}

TEST_F(ServeImageServer, ListHasOneAbsoluteUrlPerImage) {
  RawResponse r = get("/list.txt");
  ASSERT_EQ(r.status, 200);
  std::string expected;
  for (const std::string& name : server_->image_names()) {
    expected += server_->base_url() + "/img/" + name + "\n";
  }
  EXPECT_EQ(r.body, expected);
}

TEST_F(ServeImageServer, StatsCountGetsPerPathWithoutQuery) {
  get("/img/" + name_);
  get("/img/" + name_ + "?delay=1");
  get("/img/" + name_, "", "HEAD");
  get("/list.txt");
  ServerStats stats = server_->stats();
  EXPECT_EQ(stats.get_count("/img/" + name_), 2u);
  EXPECT_EQ(stats.get_count("/list.txt"), 1u);
  EXPECT_EQ(stats.get_count("/img/other.jpg"), 0u);
  EXPECT_EQ(stats.total_requests, 4u);
  EXPECT_EQ(stats.connections_accepted, 4u);

  RawResponse r = get("/stats");
  ASSERT_EQ(r.status, 200);
  nlohmann::json j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["get_counts"]["/img/" + name_], 2);
  EXPECT_EQ(j["total_requests"], 5);
  EXPECT_GE(j["max_concurrent_connections"].get<int>(), 1);
}

TEST_F(ServeImageServer, ServerErrorsAndRetryAfter) {
  RawResponse e500 = get("/img/" + name_ + "?fault=500");
  EXPECT_EQ(e500.status, 500);
  EXPECT_EQ(e500.header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(get("/img/" + name_ + "?fault=503").status, 503);
  RawResponse e429 = get("/img/" + name_ + "?fault=429");
  EXPECT_EQ(e429.status, 429);
  EXPECT_EQ(e429.header("retry-after"), "1");
  EXPECT_EQ(get("/img/missing.jpg?fault=500").status, 404);  // the name is checked first
  EXPECT_EQ(get("/img/" + name_ + "?fault=bogus").status, 400);
}

TEST_F(ServeImageServer, TruncateClosesHalfWayThroughTheBody) {
  std::string bytes = server_->image_bytes(name_);
  RawResponse r = get("/img/" + name_ + "?fault=truncate");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-length"), std::to_string(bytes.size()));
  EXPECT_TRUE(r.eof);
  EXPECT_EQ(r.body, bytes.substr(0, bytes.size() / 2));
}

TEST_F(ServeImageServer, StallSendsAFewBytesThenNothingWithoutBlockingOthers) {
  UniqueFd fd = connect_loopback(server_->port());
  std::string pending;
  send_all(fd.get(), "GET /img/" + name_ + "?fault=stall HTTP/1.1\r\n\r\n");
  RawResponse r = read_response(fd.get(), pending, false, std::chrono::milliseconds(300));
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.eof);
  EXPECT_EQ(r.body, server_->image_bytes(name_).substr(0, 16));
  // While that connection hangs, the server answers others at once.
  EXPECT_EQ(get("/img/" + name_).status, 200);
  // The other connection's close reaches the server a moment later; the stalled one stays.
  auto deadline = Clock::now() + std::chrono::seconds(2);
  while (server_->stats().current_connections != 1 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(server_->stats().current_connections, 1u);
}

TEST_F(ServeImageServer, WrongTypeAndHtmlPretendingToBeAnImage) {
  RawResponse wrong = get("/img/" + name_ + "?fault=wrong-type");
  EXPECT_EQ(wrong.status, 200);
  EXPECT_EQ(wrong.header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(wrong.body, server_->image_bytes(name_));
  RawResponse html = get("/img/" + name_ + "?fault=html");
  EXPECT_EQ(html.status, 200);
  EXPECT_EQ(html.header("content-type"), "image/jpeg");
  EXPECT_EQ(sniff_image_format(html.body), ImageFormat::unknown);
  EXPECT_EQ(describe_non_image(html.body), "text/html");
}

TEST_F(ServeImageServer, Redirects) {
  const std::string base = server_->base_url() + "/img/" + name_;
  RawResponse r = get("/img/" + name_ + "?a=1&fault=redirect&b=2");
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(r.header("location"), base + "?a=1&b=2");
  EXPECT_EQ(get("/img/" + name_ + "?fault=redirect").header("location"), base);
  EXPECT_EQ(get("/img/" + name_ + "?fault=redirect-file").header("location"), "file:///etc/passwd");
  EXPECT_EQ(get("/img/" + name_ + "?fault=redirect-ftp").header("location"),
            "ftp://127.0.0.1/x.jpg");
  RawResponse loop = get("/img/" + name_ + "?fault=redirect-loop");
  EXPECT_EQ(loop.status, 302);
  EXPECT_EQ(loop.header("location"), base + "?fault=redirect-loop");
}

TEST_F(ServeImageServer, BigBodiesLieOrAreCloseDelimited) {
  auto drain = [this](const std::string& fault, std::string& content_length) {
    UniqueFd fd = connect_loopback(server_->port());
    std::string pending;
    send_all(fd.get(), "GET /img/" + name_ + "?fault=" + fault + " HTTP/1.1\r\n\r\n");
    RawResponse r = read_response(fd.get(), pending, /*head_request=*/true);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(sniff_image_format(pending), ImageFormat::jpeg);
    content_length = r.header("content-length");
    std::uint64_t total = pending.size();
    char buf[1 << 16];
    ssize_t n;
    while ((n = ::recv(fd.get(), buf, sizeof buf, 0)) > 0) total += static_cast<std::uint64_t>(n);
    return total;
  };
  std::string length;
  EXPECT_EQ(drain("big", length), 60u * 1024 * 1024);
  EXPECT_EQ(length, "1000");
  EXPECT_EQ(drain("big-honest", length), 60u * 1024 * 1024);
  EXPECT_EQ(length, std::to_string(60u * 1024 * 1024));
  EXPECT_EQ(drain("big-nolength", length), 60u * 1024 * 1024);
  EXPECT_EQ(length, "");

  RawResponse r = get("/img/" + name_ + "?fault=nolength");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-length"), "");
  EXPECT_TRUE(r.eof);
  EXPECT_EQ(r.body, server_->image_bytes(name_));
}

TEST_F(ServeImageServer, FlakyCountsPerExactUrl) {
  const std::string url = "/img/" + name_ + "?flaky=2";
  RawResponse first = get(url);
  EXPECT_EQ(first.status, 503);
  EXPECT_EQ(first.header("retry-after"), "1");
  EXPECT_EQ(get(url).status, 503);
  EXPECT_EQ(get(url + "&x=1").status, 503);  // another URL, its own counter
  RawResponse third = get(url);
  EXPECT_EQ(third.status, 200);
  EXPECT_EQ(third.body, server_->image_bytes(name_));
  EXPECT_EQ(get(url).status, 200);
}

TEST_F(ServeImageServer, SlowPacesTheBodyAt20KiBPerSecond) {
  std::string bytes = server_->image_bytes(name_);
  auto start = Clock::now();
  RawResponse r = get("/img/" + name_ + "?fault=slow");
  double elapsed = seconds_since(start);
  EXPECT_EQ(r.body, bytes);
  // One tick's worth goes out at once, the rest paced: a lower bound only.
  double floor = static_cast<double>(bytes.size()) / (20 * 1024) - 0.06;
  EXPECT_GE(elapsed, floor) << bytes.size() << " bytes";
}

TEST_F(ServeImageServer, DelayParameterAddsLatency) {
  auto start = Clock::now();
  EXPECT_EQ(get("/img/" + name_ + "?delay=150").status, 200);
  EXPECT_GE(seconds_since(start), 0.150);
}

TEST(ServeImageServerConfig, LatencyIsAppliedToEveryResponse) {
  ServeConfig config = small_corpus(2);
  config.latency_ms = 100;
  ImageServer server(config);
  server.start_in_thread();
  UniqueFd fd = connect_loopback(server.port());
  std::string pending;
  for (int i = 0; i < 2; ++i) {
    auto start = Clock::now();
    send_all(fd.get(), "GET /img/" + server.image_names()[0] + " HTTP/1.1\r\n\r\n");
    EXPECT_EQ(read_response(fd.get(), pending).status, 200);
    EXPECT_GE(seconds_since(start), 0.100);
  }
}

TEST(ServeImageServerConfig, BandwidthLimitsEachConnection) {
  ServeConfig config = small_corpus(1);
  config.spec.min_side = 300;
  config.spec.max_side = 300;
  config.bandwidth_kbps = 50;
  ImageServer server(config);
  server.start_in_thread();
  std::string name = server.image_names()[0];
  auto start = Clock::now();
  RawResponse r = http_request(server.port(), "/img/" + name);
  double elapsed = seconds_since(start);
  EXPECT_EQ(r.body, server.image_bytes(name));
  EXPECT_GE(elapsed, static_cast<double>(r.body.size()) / (50 * 1024) - 0.06) << r.body.size();
}

TEST(ServeImageServerConfig, RandomFaultsAreDeterministicPerSeed) {
  auto statuses = [](std::uint64_t seed) {
    ServeConfig config = small_corpus(1);
    config.rate_500 = 0.3;
    config.rate_503 = 0.2;
    config.seed = seed;
    ImageServer server(config);
    server.start_in_thread();
    std::string sequence;
    for (int i = 0; i < 40; ++i) {
      int status = http_request(server.port(), "/img/" + server.image_names()[0]).status;
      sequence += status == 200 ? '.' : status == 500 ? 'x' : status == 503 ? 'u' : '?';
    }
    return sequence;
  };
  std::string a = statuses(5);
  EXPECT_EQ(a, statuses(5));
  EXPECT_NE(a, statuses(6));
  EXPECT_NE(a.find('.'), std::string::npos);
  EXPECT_NE(a.find('x'), std::string::npos);
  EXPECT_NE(a.find('u'), std::string::npos);
  EXPECT_EQ(a.find('?'), std::string::npos);
}

TEST(ServeImageServerConfig, RateLimitAnswers429WithRetryAfter) {
  ServeConfig config = small_corpus(1);
  config.rate_limit_per_s = 2;  // bucket of 2: the third quick request is refused
  ImageServer server(config);
  server.start_in_thread();
  const std::string target = "/img/" + server.image_names()[0];
  EXPECT_EQ(http_request(server.port(), target).status, 200);
  EXPECT_EQ(http_request(server.port(), target).status, 200);
  RawResponse refused = http_request(server.port(), target);
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.header("retry-after"), "1");
}

TEST(ServeImageServerConfig, ServesAFolderAndRefusesABusyPort) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "thumbfetch_serve_dir_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  { std::ofstream(dir / "notes.txt") << "hello"; }
  ServeConfig config;
  config.dir = dir;
  ImageServer server(config);
  server.start_in_thread();
  RawResponse r = http_request(server.port(), "/img/notes.txt");
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(r.header("content-type"), "text/plain; charset=utf-8");

  ServeConfig clash = small_corpus(1);
  clash.port = server.port();
  EXPECT_THROW(ImageServer{clash}, std::runtime_error);
  server.stop();
  server.stop();  // idempotent
  std::filesystem::remove_all(dir);
}
