// Downloads over https as on the real web: nginx on 127.0.0.1 with a certificate from a test CA
// made in the test, over HTTP/2 and HTTP/1.1. Verification is on by default (an unknown issuer
// fails each URL once, with a certificate message, never retried); --cacert trusts the test CA;
// --insecure (-k) skips the check; over HTTP/2 the transfers share one connection, as counted in
// nginx's access log.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include <fmt/format.h>

#include "support/image_fixtures.hpp"
#include "support/output_state.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"
#include "support/tls_nginx.hpp"
#include "thumbfetch/fetch/manifest.hpp"

using namespace thumbfetch;
using namespace thumbfetch::test;
namespace fs = std::filesystem;

namespace {

constexpr int kImages = 24;

class FetchTls : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(tmp_ / "www" / "img");
    for (int i = 0; i < kImages; ++i) {
      write_quadrant_jpeg(tmp_ / "www" / "img" / fmt::format("t{:02}.jpg", i), 120 + i, 90, {});
    }
    nginx_ = std::make_unique<TlsNginx>(tmp_ / "nginx", tmp_ / "www");
    if (!nginx_->ok()) GTEST_SKIP() << "https tests skipped: " << nginx_->error();
  }

  fs::path list_for(const std::string& base) {
    const fs::path path = tmp_ / (base.substr(base.rfind(':') + 1) + ".txt");
    std::ofstream list(path);
    for (int i = 0; i < kImages; ++i) list << fmt::format("{}/img/t{:02}.jpg\n", base, i);
    return path;
  }

  CommandResult fetch(const std::string& base, const std::string& out,
                      std::vector<std::string> extra) {
    std::vector<std::string> args = {
        "fetch", "--urls", list_for(base).string(), "-o",  (tmp_ / out).string(),
        "-j",    "8",      "--retry-delay",         "10ms"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_thumbfetch(args);
  }

  // Every image there, byte for byte the served file.
  void expect_all_fetched(const std::string& out) {
    const FolderState s = folder_state(tmp_ / out);
    ASSERT_EQ(s.files.size(), static_cast<size_t>(kImages));
    for (const auto& [name, bytes] : s.files) {
      std::ifstream in(tmp_ / "www" / "img" / name, std::ios::binary);
      const std::string served{std::istreambuf_iterator<char>(in), {}};
      EXPECT_TRUE(bytes == served) << name;
    }
  }

  TempDir tmp_;
  std::unique_ptr<TlsNginx> nginx_;
};

}  // namespace

TEST_F(FetchTls, AnUnknownIssuerFailsEachUrlOnceWithACertificateMessage) {
  for (const std::string& base : {nginx_->h2_base(), nginx_->h1_base()}) {
    SCOPED_TRACE(base);
    const std::string out = "untrusted-" + base.substr(base.rfind(':') + 1);
    const CommandResult r = fetch(base, out, {"--retries", "3"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(count_lines_with(r.err, "certificate not trusted: SSL certificate problem"), kImages)
        << r.err;
    for (const ManifestRow& row : load_manifest(tmp_ / out)) {
      EXPECT_EQ(row.status, "failed") << row.url;
      EXPECT_EQ(row.attempts, 1) << "a certificate problem is not retried: " << row.url;
    }
    EXPECT_TRUE(folder_state(tmp_ / out).files.empty());
  }
  EXPECT_TRUE(nginx_->log().empty()) << "no request may go out over an unverified connection";
}

TEST_F(FetchTls, CacertTrustsTheTestCaOverHttp2AndHttp11EveryStrategy) {
  constexpr const char* kStrategies[] = {"async", "threads", "serial"};
  for (const std::string& base : {nginx_->h2_base(), nginx_->h1_base()}) {
    for (const char* strategy : kStrategies) {
      SCOPED_TRACE(base + " " + strategy);
      const std::string out = "trusted-" + base.substr(base.rfind(':') + 1) + "-" + strategy;
      const CommandResult r =
          fetch(base, out, {"--cacert", nginx_->ca_file().string(), "--strategy", strategy});
      EXPECT_EQ(r.exit_code, 0) << r.err;
      expect_all_fetched(out);
    }
  }
  std::multiset<std::string> protocols;
  for (const auto& l : nginx_->log()) protocols.insert(l.protocol);
  EXPECT_EQ(protocols.count("HTTP/2.0"), std::size(kStrategies) * kImages);
  EXPECT_EQ(protocols.count("HTTP/1.1"), std::size(kStrategies) * kImages);
}

TEST_F(FetchTls, RunTakesTheSameTlsFlags) {
  const std::string list = list_for(nginx_->h2_base()).string();
  const CommandResult untrusted =
      run_thumbfetch({"run", "--urls", list, "-o", (tmp_ / "run1").string()});
  EXPECT_EQ(untrusted.exit_code, 1) << untrusted.err;
  EXPECT_EQ(count_lines_with(untrusted.err, "certificate not trusted"), kImages) << untrusted.err;
  const CommandResult r = run_thumbfetch({"run", "--urls", list, "-o", (tmp_ / "run2").string(),
                                          "--cacert", nginx_->ca_file().string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(folder_state(tmp_ / "run2").files.size(), static_cast<size_t>(kImages));
}

TEST_F(FetchTls, InsecureSkipsTheCheckAsCurlDoes) {
  for (const char* flag : {"--insecure", "-k"}) {
    SCOPED_TRACE(flag);
    const CommandResult r = fetch(nginx_->h2_base(), std::string("insecure") + flag, {flag});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    expect_all_fetched(std::string("insecure") + flag);
  }
}

TEST_F(FetchTls, Http2MultiplexesOnOneConnection) {
  for (const char* strategy : {"async", "threads"}) {
    SCOPED_TRACE(strategy);
    const size_t before = nginx_->log().size();
    const std::string out = std::string("h2-") + strategy;
    const CommandResult r = fetch(nginx_->h2_base(), out,
                                  {"--cacert", nginx_->ca_file().string(), "--strategy", strategy});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::set<std::string> connections;
    const auto log = nginx_->log();
    for (size_t i = before; i < log.size(); ++i) {
      EXPECT_EQ(log[i].protocol, "HTTP/2.0");
      connections.insert(log[i].connection);
    }
    EXPECT_EQ(log.size() - before, static_cast<size_t>(kImages));
    if (std::string(strategy) == "async") {
      // A list this short runs one event loop, one multi handle: every transfer waits for the
      // first connection and shares it (a long list: one connection per loop).
      EXPECT_EQ(connections.size(), 1u) << "HTTP/2 transfers were not multiplexed";
    } else {
      // A handle per thread, each with its own connection: at most one per worker.
      EXPECT_LE(connections.size(), 8u);
    }
  }
  // No contrast with HTTP/1.1 here: there libcurl may also run these tiny transfers one after
  // another on a single connection (it waits to learn whether a TLS connection multiplexes), so
  // a count of several connections would depend on the machine's load.
}
