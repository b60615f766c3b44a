// The download strategies against the in-process test server (127.0.0.1 only): each URL fetched
// exactly once, the same files and bytes whatever the strategy, every forced fault mapped to its
// outcome, retries, Retry-After, size limits, odd names, resume.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "support/temp_dir.hpp"
#include "support/wait_until.hpp"
#include "thumbfetch/fetch/manifest.hpp"
#include "thumbfetch/fetch/naming.hpp"
#include "thumbfetch/fetch/strategy.hpp"
#include "thumbfetch/fetch/transfer.hpp"
#include "thumbfetch/job/names.hpp"
#include "thumbfetch/serve/image_server.hpp"
#include "thumbfetch/util/atomic_file.hpp"
#include "thumbfetch/util/sha256.hpp"

using namespace thumbfetch;
using thumbfetch::test::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr FetchStrategyKind kAllKinds[] = {FetchStrategyKind::serial, FetchStrategyKind::threads,
                                           FetchStrategyKind::async};

// A policy that keeps the suite fast: short timeouts, short backoff, Retry-After capped low.
FetchPolicy fast_policy() {
  FetchPolicy p;
  p.connect_timeout = 2;
  p.stall_timeout = 1;
  p.total_timeout = 10;
  p.retries = 1;
  p.retry_base = 0.02;
  p.retry_max_delay = 0.1;
  p.retry_after_cap = 0.05;
  p.max_bytes = 2'000'000;
  return p;
}

struct FetchRun {
  std::vector<FetchItem> items;
  std::vector<FetchResult> results;
};

FetchRun fetch_all(FetchStrategyKind kind, const std::vector<std::string>& urls,
                   const fs::path& dir, const FetchPolicy& policy = fast_policy(),
                   int concurrency = 8, const std::atomic<bool>* cancel = nullptr) {
  FetchRunConfig config;
  config.out_dir = dir;
  config.policy = policy;
  config.concurrency = concurrency;
  config.cancel = cancel;
  FetchRun run;
  NameBook names;
  for (const auto& url : urls)
    run.items.push_back({url, names.claim(url, safe_stem_from_url(url))});
  run.results = fetch_all(*make_fetch_strategy(kind, config), run.items);
  return run;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Every regular file in `dir` except the manifest and temp files, by name.
std::map<std::string, std::string> final_files(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name == kManifestName || is_temp_file_name(name)) continue;
    files[name] = slurp(e.path());
  }
  return files;
}

class FetchServer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    ServeConfig c;
    c.generate = 12;
    c.spec.min_side = 48;
    c.spec.max_side = 96;
    server_ = new ImageServer(c);
    server_->start_in_thread();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static std::string url(const std::string& name, const std::string& query = "") {
    return server_->base_url() + "/img/" + name + (query.empty() ? "" : "?" + query);
  }
  static std::vector<std::string> all_urls() {
    std::vector<std::string> urls;
    for (const auto& name : server_->image_names()) urls.push_back(url(name));
    return urls;
  }

  static ImageServer* server_;
  TempDir tmp_;
};

ImageServer* FetchServer::server_ = nullptr;

TEST_F(FetchServer, EachUrlFetchedExactlyOnceWithTheSameBytesWhateverTheStrategy) {
  const auto names = server_->image_names();
  ASSERT_GE(names.size(), 10u);
  std::map<std::string, std::string> first;
  for (FetchStrategyKind kind : kAllKinds) {
    SCOPED_TRACE(std::string(to_string(kind)));
    const fs::path dir = tmp_ / std::string(to_string(kind));
    fs::create_directories(dir);
    const ServerStats before = server_->stats();
    const FetchRun run = fetch_all(kind, all_urls(), dir, fast_policy(), 4);
    const ServerStats after = server_->stats();
    for (size_t i = 0; i < names.size(); ++i) {
      const FetchResult& r = run.results[i];
      ASSERT_TRUE(r.ok()) << run.items[i].url << ": " << r.error.message;
      const std::string path = "/img/" + names[i];
      EXPECT_EQ(after.get_count(path) - before.get_count(path), 1u) << path;
      const std::string expected = server_->image_bytes(names[i]);
      EXPECT_EQ(slurp(r.file), expected);
      EXPECT_EQ(r.bytes, expected.size());
      EXPECT_EQ(r.sha256, sha256_hex(expected));
      EXPECT_EQ(r.http_code, 200);
      EXPECT_EQ(r.attempts, 1);
      EXPECT_EQ(r.file.parent_path(), dir);
      EXPECT_EQ(r.file.filename().string(), names[i]);  // stem + extension from the bytes
    }
    auto files = final_files(dir);
    EXPECT_EQ(files.size(), names.size());
    if (first.empty())
      first = files;
    else
      EXPECT_EQ(files, first);
  }
}

TEST_F(FetchServer, ThreadsAndAsyncRespectThePerHostLimit) {
  for (FetchStrategyKind kind : {FetchStrategyKind::threads, FetchStrategyKind::async}) {
    SCOPED_TRACE(std::string(to_string(kind)));
    const fs::path dir = tmp_ / std::string(to_string(kind));
    fs::create_directories(dir);
    FetchPolicy p = fast_policy();
    p.per_host = 2;
    std::vector<std::string> urls;
    for (const auto& name : server_->image_names()) urls.push_back(url(name, "delay=100"));
    const ServerStats before = server_->stats();
    const auto start = std::chrono::steady_clock::now();
    const FetchRun run = fetch_all(kind, urls, dir, p, 8);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (const auto& r : run.results) EXPECT_TRUE(r.ok()) << r.error.message;
    // 12 requests of 100 ms, 2 at a time: at least 6 rounds (8 at a time would take 2).
    EXPECT_GE(seconds, 0.58);
    if (kind == FetchStrategyKind::async) {
      EXPECT_LE(server_->stats().connections_accepted - before.connections_accepted, 2u);
    }
  }
}

struct FaultCase {
  std::string query;
  bool ok;
  ErrorKind kind;
  std::string message_part;
  int attempts;  // with retries = 1
  long http_code;
};

TEST_F(FetchServer, EveryForcedFaultMapsToItsOutcomeAndManifestRow) {
  const std::vector<FaultCase> cases = {
      {"fault=500", false, ErrorKind::http_status, "HTTP 500", 2, 500},
      {"fault=503", false, ErrorKind::http_status, "HTTP 503", 2, 503},
      {"fault=429", false, ErrorKind::http_status, "HTTP 429", 2, 429},
      {"fault=truncate", false, ErrorKind::truncated, "truncated: got", 2, 200},
      {"fault=stall", false, ErrorKind::timeout, "stalled", 2, 200},
      {"fault=wrong-type", true, ErrorKind::internal, "", 1, 200},
      {"fault=html", false, ErrorKind::not_an_image, "not an image (text/html)", 1, 200},
      {"fault=redirect", true, ErrorKind::internal, "", 1, 200},
      {"fault=redirect-file", false, ErrorKind::refused, "refused: redirect", 1, 302},
      {"fault=redirect-ftp", false, ErrorKind::refused, "refused: redirect", 1, 302},
      {"fault=redirect-loop", false, ErrorKind::refused, "more than 5 redirects", 1, 302},
      {"fault=big-honest", false, ErrorKind::too_large, "too large", 1, 200},
      {"fault=big-nolength", false, ErrorKind::too_large, "too large", 1, 200},
      {"fault=nolength", true, ErrorKind::internal, "", 1, 200},
      {"fault=slow", true, ErrorKind::internal, "", 1, 200},
      {"flaky=1", true, ErrorKind::internal, "", 2, 200},
  };
  const std::string name = server_->image_names().at(1);
  for (FetchStrategyKind kind : kAllKinds) {
    SCOPED_TRACE(std::string(to_string(kind)));
    const fs::path dir = tmp_ / std::string(to_string(kind));
    fs::create_directories(dir);
    std::vector<std::string> urls;
    // "flaky" counts per exact target: a strategy-specific parameter keeps them apart.
    for (const auto& c : cases) {
      urls.push_back(url(
          name,
          c.query + (c.query.starts_with("flaky") ? "&k=" + std::string(to_string(kind)) : "")));
    }
    urls.push_back(url("no_such_image.jpg"));
    const auto start = std::chrono::steady_clock::now();
    const FetchRun run = fetch_all(kind, urls, dir);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
    ManifestWriter manifest(dir);
    for (size_t i = 0; i < cases.size(); ++i) {
      const FaultCase& c = cases[i];
      const FetchResult& r = run.results[i];
      SCOPED_TRACE(c.query);
      manifest.append(manifest_row(urls[i], r));
      EXPECT_EQ(r.ok(), c.ok) << r.error.message;
      // Exactly: a first attempt that waited in libcurl's queue (behind the stall fault) once
      // counted as stalled and was retried; attempts must never depend on the neighbours.
      EXPECT_EQ(r.attempts, c.attempts) << r.error.message;
      EXPECT_EQ(r.http_code, c.http_code);
      if (c.ok) {
        EXPECT_EQ(slurp(r.file), server_->image_bytes(name));
      } else {
        EXPECT_EQ(r.error.kind, c.kind) << r.error.message;
        EXPECT_NE(r.error.message.find(c.message_part), std::string::npos) << r.error.message;
        EXPECT_TRUE(r.file.empty());
        EXPECT_LE(r.bytes, fast_policy().max_bytes);
      }
    }
    const FetchResult& missing = run.results.back();
    EXPECT_EQ(missing.error.kind, ErrorKind::http_status);
    EXPECT_EQ(missing.http_code, 404);
    EXPECT_EQ(missing.attempts, 1);  // a 404 is not retried

    // The manifest rows say the same.
    const auto rows = load_manifest(dir);
    ASSERT_EQ(rows.size(), cases.size());
    EXPECT_EQ(rows[0].status, "failed");
    EXPECT_EQ(rows[0].error_kind, "HTTP error");
    EXPECT_EQ(rows[0].http_code, 500);
    EXPECT_EQ(rows[5].status, "ok");
    EXPECT_EQ(rows[5].content_type.rfind("text/html", 0), 0u);  // as announced, kept anyway
    EXPECT_EQ(rows[5].sha256, sha256_hex(server_->image_bytes(name)));
    EXPECT_EQ(rows[6].error, "not an image (text/html)");
    // Nothing but complete images under final names, no temp files left.
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string file = e.path().filename().string();
      EXPECT_FALSE(is_temp_file_name(file)) << file;
      if (file != kManifestName) {
        EXPECT_EQ(slurp(e.path()), server_->image_bytes(name)) << file;
      }
    }
  }
}

TEST_F(FetchServer, LyingContentLengthNeverYieldsMoreThanAnnouncedNorSavesTheBrokenImage) {
  for (FetchStrategyKind kind : kAllKinds) {
    SCOPED_TRACE(std::string(to_string(kind)));
    const fs::path dir = tmp_ / std::string(to_string(kind));
    fs::create_directories(dir);
    const FetchRun run = fetch_all(kind, {url(server_->image_names().at(0), "fault=big")}, dir);
    const FetchResult& r = run.results[0];
    // The server announces 1000 bytes then streams 60 MiB: HTTP says the body is 1000 bytes,
    // complete, but they are a JPEG header and zeros, with no end marker.
    EXPECT_LE(r.bytes, 1000u);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.error.kind, ErrorKind::corrupt) << r.error.message;
    EXPECT_EQ(r.error.message, "corrupt: not a valid jpeg from byte 20 on");
    EXPECT_EQ(r.attempts, 1);  // the same request would get the same bytes
    EXPECT_TRUE(r.file.empty());
    EXPECT_TRUE(final_files(dir).empty());
    EXPECT_EQ(remove_stale_temp_files(dir), 0);
  }
}

TEST_F(FetchServer, ImagesCutShortOnTheServerAreNotSavedAsOk) {
  // Served whole by HTTP (honest Content-Length), but the files themselves stop early, as a
  // file still being uploaded or cut on the server's disk would.
  TempDir site;
  const std::string jpeg = server_->image_bytes(server_->image_names().at(0));
  std::string png;
  for (const auto& name : server_->image_names()) {
    if (name.ends_with(".png")) png = server_->image_bytes(name);
  }
  ASSERT_FALSE(png.empty());
  std::ofstream(site / "half.jpg", std::ios::binary) << jpeg.substr(0, jpeg.size() / 2);
  std::ofstream(site / "noeoi.jpg", std::ios::binary) << jpeg.substr(0, jpeg.size() - 2);
  std::ofstream(site / "noiend.png", std::ios::binary) << png.substr(0, png.size() - 12);
  std::ofstream(site / "whole.jpg", std::ios::binary) << jpeg << "trailer after EOI";
  ServeConfig c;
  c.dir = site.path();
  ImageServer cut(c);
  cut.start_in_thread();
  const std::vector<std::string> names = {"half.jpg", "noeoi.jpg", "noiend.png", "whole.jpg"};
  std::vector<std::string> urls;
  for (const auto& n : names) urls.push_back(cut.base_url() + "/img/" + n);
  const FetchRun run = fetch_all(FetchStrategyKind::async, urls, tmp_.path());
  for (size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(names[i]);
    const FetchResult& r = run.results[i];
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.error.kind, ErrorKind::truncated) << r.error.message;
    EXPECT_NE(r.error.message.find("before its end"), std::string::npos) << r.error.message;
    EXPECT_EQ(r.http_code, 200);
    EXPECT_EQ(r.attempts, 1);
    EXPECT_TRUE(r.file.empty());
  }
  ASSERT_TRUE(run.results[3].ok()) << run.results[3].error.message;
  EXPECT_EQ(final_files(tmp_.path()),
            (std::map<std::string, std::string>{{"whole.jpg", cut.image_bytes("whole.jpg")}}));
}

TEST_F(FetchServer, OversizeBodiesAreCutOffWhileStreaming) {
  FetchPolicy p = fast_policy();
  p.max_bytes = 100'000;
  const auto start = std::chrono::steady_clock::now();
  const FetchRun run =
      fetch_all(FetchStrategyKind::serial,
                {url(server_->image_names().at(0), "fault=big-nolength")}, tmp_.path(), p);
  EXPECT_EQ(run.results[0].error.kind, ErrorKind::too_large);
  EXPECT_LE(run.results[0].bytes, 100'000u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(final_files(tmp_.path()).empty());
  EXPECT_EQ(remove_stale_temp_files(tmp_.path()), 0);
}

TEST_F(FetchServer, RetriesSucceedOnFlakyServersWithEveryStrategy) {
  FetchPolicy p = fast_policy();
  p.retries = 3;
  for (FetchStrategyKind kind : kAllKinds) {
    const fs::path dir = tmp_ / std::string(to_string(kind));
    fs::create_directories(dir);
    const std::string u =
        url(server_->image_names().at(2), "flaky=3&s=" + std::string(to_string(kind)));
    const FetchRun run = fetch_all(kind, {u}, dir, p);
    EXPECT_TRUE(run.results[0].ok()) << to_string(kind) << ": " << run.results[0].error.message;
    EXPECT_EQ(run.results[0].attempts, 4);
    p.retries = 2;  // one retry short: fails
    const FetchRun short_run = fetch_all(kind, {u + "x"}, dir, p);
    EXPECT_FALSE(short_run.results[0].ok());
    EXPECT_EQ(short_run.results[0].attempts, 3);
    p.retries = 3;
  }
}

TEST_F(FetchServer, RetryAfterIsHonoured) {
  FetchPolicy p = fast_policy();
  p.retry_after_cap = 5;  // the server says "Retry-After: 1"
  for (FetchStrategyKind kind : {FetchStrategyKind::serial, FetchStrategyKind::async}) {
    const fs::path dir = tmp_ / std::string(to_string(kind));
    fs::create_directories(dir);
    const FetchRun run = fetch_all(
        kind, {url(server_->image_names().at(3), "flaky=1&r=" + std::string(to_string(kind)))}, dir,
        p);
    ASSERT_TRUE(run.results[0].ok()) << run.results[0].error.message;
    EXPECT_EQ(run.results[0].attempts, 2);
    EXPECT_GE(run.results[0].seconds, 0.95);
    EXPECT_LT(run.results[0].seconds, 3.0);
  }
}

TEST_F(FetchServer, OddAndHostileNamesStayInsideTheFolder) {
  TempDir site;
  const std::vector<std::string> names = {"a b.jpg", "-rf.jpg", "..jpg", "x..jpg",
                                          "percent%41.jpg"};
  const std::string jpeg = server_->image_bytes(server_->image_names().at(0));
  for (const auto& n : names) std::ofstream(site / n, std::ios::binary) << jpeg;
  ServeConfig c;
  c.dir = site.path();
  ImageServer odd(c);
  odd.start_in_thread();
  const std::string base = odd.base_url() + "/img/";
  const std::vector<std::string> urls = {base + "a%20b.jpg",
                                         base + "-rf.jpg",
                                         base + "..jpg",
                                         base + "x..jpg",
                                         base + "percent%2541.jpg",
                                         base + "..%2F..%2Fescape.jpg",
                                         base + "%2e%2e%2f%2e%2e%2fescape2.jpg",
                                         base + "a%20b.jpg?v=2"};
  const fs::path dir = tmp_ / "out";
  fs::create_directories(dir);
  const FetchRun run = fetch_all(FetchStrategyKind::async, urls, dir);
  for (size_t i = 0; i < 5; ++i)
    EXPECT_TRUE(run.results[i].ok()) << urls[i] << ": " << run.results[i].error.message;
  EXPECT_TRUE(run.results[7].ok());
  for (const auto& r : run.results) {
    if (!r.ok()) continue;
    EXPECT_EQ(r.file.parent_path(), dir);
    const std::string f = r.file.filename().string();
    EXPECT_NE(f.front(), '.');
    EXPECT_NE(f.front(), '-');
    EXPECT_EQ(f.find(".."), std::string::npos) << f;
  }
  // The same name from two URLs: the second one gets a hash, both are kept.
  EXPECT_EQ(run.results[0].file.filename(), "a_b.jpg");
  EXPECT_NE(run.results[7].file, run.results[0].file);
  // Nothing appeared next to the output folder.
  std::set<std::string> siblings;
  for (const auto& e : fs::directory_iterator(tmp_.path())) siblings.insert(e.path().filename());
  EXPECT_EQ(siblings, std::set<std::string>{"out"});
}

TEST_F(FetchServer, CancelAbortsInFlightTransfersAndLeavesNoTempFiles) {
  ServeConfig c;
  c.generate = 6;
  c.spec.min_side = 400;
  c.spec.max_side = 600;
  c.bandwidth_kbps = 8;
  ImageServer slow(c);
  slow.start_in_thread();
  std::vector<std::string> urls;
  for (const auto& n : slow.image_names()) urls.push_back(slow.base_url() + "/img/" + n);
  for (FetchStrategyKind kind : kAllKinds) {
    SCOPED_TRACE(std::string(to_string(kind)));
    const fs::path dir = tmp_ / std::string(to_string(kind));
    fs::create_directories(dir);
    std::atomic<bool> cancel{false};
    // Cancel while bodies stream into temp files, none of which may be left behind.
    std::jthread canceller([&] {
      EXPECT_TRUE(test::wait_until(
          [&] {
            std::error_code ec;
            for (const auto& e : fs::directory_iterator(dir, ec)) {
              if (is_temp_file_name(e.path().filename())) return true;
            }
            return false;
          },
          std::chrono::seconds(30)));
      cancel = true;
    });
    FetchPolicy p = fast_policy();
    p.stall_timeout = 30;
    p.total_timeout = 60;
    const auto start = std::chrono::steady_clock::now();
    const FetchRun run = fetch_all(kind, urls, dir, p, 3, &cancel);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
    int cancelled = 0;
    for (const auto& r : run.results) {
      if (!r.ok() && !r.not_started()) {
        EXPECT_EQ(r.error.kind, ErrorKind::cancelled);
        ++cancelled;
      }
    }
    EXPECT_GE(cancelled, 1);
    EXPECT_EQ(remove_stale_temp_files(dir), 0);
    for (const auto& [name, bytes] : final_files(dir)) {
      EXPECT_EQ(bytes, slow.image_bytes(name)) << name;
    }
  }
}

}  // namespace
