// Downloads at the sizes and list lengths of issue 9, against the real test server on 127.0.0.1:
// images of a megabyte, which arrive in several receive buffers and are hashed and scanned block
// by block, must be accepted or rejected exactly as a whole-body check would (truncated, corrupt
// at the right byte, HTML served as an image); and a list long enough for the async strategy to
// run an event loop per core is still fetched once per URL, within the per-host limit.
#include <gtest/gtest.h>

#include <curl/curl.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"
#include "thumbfetch/fetch/manifest.hpp"
#include "thumbfetch/fetch/naming.hpp"
#include "thumbfetch/fetch/strategy.hpp"
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

FetchPolicy test_policy() {
  FetchPolicy p;
  p.connect_timeout = 5;
  p.stall_timeout = 5;
  p.total_timeout = 30;
  p.retries = 1;
  p.retry_base = 0.02;
  p.retry_max_delay = 0.1;
  return p;
}

std::vector<FetchResult> fetch_all(FetchStrategyKind kind, const std::vector<std::string>& urls,
                                   const fs::path& dir, const FetchPolicy& policy, int concurrency,
                                   int loops = 0) {
  FetchRunConfig config;
  config.out_dir = dir;
  config.policy = policy;
  config.concurrency = concurrency;
  config.loops = loops;
  std::vector<FetchItem> items;
  NameBook names;
  for (const auto& url : urls) items.push_back({url, names.claim(url, safe_stem_from_url(url))});
  return thumbfetch::fetch_all(*make_fetch_strategy(kind, config), items);
}

// Final files in `dir` (no manifest, no temp files).
std::vector<std::string> final_names(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name != kManifestName && !is_temp_file_name(name)) names.push_back(name);
  }
  return names;
}

// A JPEG of about 1.2 MB: `base` with 18 APP9 segments of 64 KB after its SOI, their payloads all
// 0xFF, which a scanner that lost its place between blocks would read as markers.
std::string big_jpeg(const std::string& base) {
  std::string segment = "\xFF\xE9\xFF\xFF";  // APP9, length 65535 (payload 65533)
  segment.append(65533, '\xFF');
  std::string out = base.substr(0, 2);
  for (int i = 0; i < 18; ++i) out += segment;
  return out + base.substr(2);
}

// A PNG of about 700 KB: `base` with a private ancillary chunk after IHDR.
std::string big_png(const std::string& base) {
  constexpr std::uint32_t kLength = 700'000;
  std::string chunk = {static_cast<char>(kLength >> 24), static_cast<char>((kLength >> 16) & 0xFF),
                       static_cast<char>((kLength >> 8) & 0xFF), static_cast<char>(kLength & 0xFF)};
  chunk += "prVt";
  chunk.append(kLength, '\x89');
  chunk.append(4, '\0');  // CRC (not checked by the end scan)
  return base.substr(0, 33) + chunk + base.substr(33);
}

class FetchScale : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  TempDir tmp_;
};

TEST_F(FetchScale, LargeImagesAreCheckedAcrossBlocksAndReadsAsAWhole) {
  ServeConfig gen;
  gen.generate = 12;
  ImageServer source(gen);
  std::string jpeg, png;
  for (const auto& name : source.image_names()) {
    if (name.ends_with(".jpg") && jpeg.empty()) jpeg = source.image_bytes(name);
    if (name.ends_with(".png") && png.empty()) png = source.image_bytes(name);
  }
  ASSERT_FALSE(jpeg.empty());
  ASSERT_FALSE(png.empty());
  const std::string whole_jpeg = big_jpeg(jpeg), whole_png = big_png(png);
  // The 11th segment's marker byte 0xFF turned into 0x00, 10 segments and the SOI in.
  constexpr size_t kBrokenAt = 2 + 10 * 65537;
  std::string broken = whole_jpeg;
  broken[kBrokenAt] = '\0';
  std::string html = "<!DOCTYPE html><html><body>";
  html.append(300'000, 'x');
  html += "</body></html>";

  TempDir site;
  const std::map<std::string, std::string> files = {{"a_whole.jpg", whole_jpeg},
                                                    {"b_whole.png", whole_png},
                                                    {"c_cut.jpg", whole_jpeg.substr(0, 900'000)},
                                                    {"d_cut.png", whole_png.substr(0, 500'000)},
                                                    {"e_broken.jpg", broken},
                                                    {"f_page.jpg", html}};
  for (const auto& [name, bytes] : files) std::ofstream(site / name, std::ios::binary) << bytes;
  ServeConfig c;
  c.dir = site.path();
  ImageServer server(c);
  server.start_in_thread();
  std::vector<std::string> urls;
  for (const auto& [name, bytes] : files) urls.push_back(server.base_url() + "/img/" + name);

  for (FetchStrategyKind kind : kAllKinds) {
    SCOPED_TRACE(std::string(to_string(kind)));
    const fs::path dir = tmp_ / std::string(to_string(kind));
    fs::create_directories(dir);
    const auto results = fetch_all(kind, urls, dir, test_policy(), 4);
    ASSERT_EQ(results.size(), 6u);
    for (size_t i : {0, 1}) {
      ASSERT_TRUE(results[i].ok()) << urls[i] << ": " << results[i].error.message;
    }
    EXPECT_EQ(results[0].sha256, sha256_hex(whole_jpeg));
    EXPECT_EQ(results[1].sha256, sha256_hex(whole_png));
    EXPECT_EQ(fs::file_size(results[0].file), whole_jpeg.size());
    EXPECT_EQ(fs::file_size(results[1].file), whole_png.size());
    for (size_t i : {2, 3}) {
      EXPECT_EQ(results[i].error.kind, ErrorKind::truncated) << results[i].error.message;
      EXPECT_NE(results[i].error.message.find("before its end"), std::string::npos);
      EXPECT_EQ(results[i].attempts, 1);
    }
    EXPECT_EQ(results[4].error.kind, ErrorKind::corrupt) << results[4].error.message;
    EXPECT_EQ(results[4].error.message,
              "corrupt: not a valid jpeg from byte " + std::to_string(kBrokenAt) + " on");
    EXPECT_EQ(results[5].error.kind, ErrorKind::not_an_image) << results[5].error.message;
    EXPECT_EQ(results[5].error.message, "not an image (text/html)");
    auto names = final_names(dir);
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"a_whole.jpg", "b_whole.png"}));
    EXPECT_EQ(remove_stale_temp_files(dir), 0);
  }
}

// 256 distinct URLs (8 images, 32 query strings each): enough for the async strategy to deal the
// list to several event loops where the machine has several cores.
std::vector<std::string> long_list(const ImageServer& server, const std::string& extra = "") {
  std::vector<std::string> urls;
  for (int k = 0; k < 32; ++k) {
    for (const auto& name : server.image_names()) {
      urls.push_back(server.base_url() + "/img/" + name + "?v=" + std::to_string(k) + extra);
    }
  }
  return urls;
}

class FetchScaleLoops : public FetchScale, public ::testing::WithParamInterface<int> {};

// 1, 2 and 4 loops (and 5, more than the window's share allows for 4 transfers each), whatever
// the machine's core count.
TEST_P(FetchScaleLoops, AsyncFetchesALongListOncePerUrl) {
  ServeConfig c;
  c.generate = 8;
  ImageServer server(c);
  server.start_in_thread();
  const auto urls = long_list(server);
  const ServerStats before = server.stats();
  const auto results =
      fetch_all(FetchStrategyKind::async, urls, tmp_.path(), test_policy(), 16, GetParam());
  const ServerStats after = server.stats();
  ASSERT_EQ(results.size(), urls.size());
  std::set<fs::path> files;
  for (size_t i = 0; i < urls.size(); ++i) {
    ASSERT_TRUE(results[i].ok()) << urls[i] << ": " << results[i].error.message;
    EXPECT_EQ(results[i].attempts, 1);
    const std::string name = server.image_names()[i % 8];
    EXPECT_EQ(results[i].sha256, sha256_hex(server.image_bytes(name))) << urls[i];
    files.insert(results[i].file);
  }
  EXPECT_EQ(files.size(), urls.size());  // a file of its own per URL
  EXPECT_EQ(final_names(tmp_.path()).size(), urls.size());
  EXPECT_EQ(after.total_requests - before.total_requests, urls.size());
  for (const auto& name : server.image_names()) {
    EXPECT_EQ(after.get_count("/img/" + name) - before.get_count("/img/" + name), 32u) << name;
  }
  EXPECT_LE(after.max_concurrent_connections, 16u);
}

INSTANTIATE_TEST_SUITE_P(Loops, FetchScaleLoops, ::testing::Values(1, 2, 4, 5));

TEST_F(FetchScale, AsyncKeepsThePerHostLimitWhateverTheLoops) {
  ServeConfig c;
  c.generate = 8;
  ImageServer server(c);
  server.start_in_thread();
  FetchPolicy p = test_policy();
  p.per_host = 4;
  // Slow answers, so that the transfers overlap and the limit is what holds them back.
  const auto results =
      fetch_all(FetchStrategyKind::async, long_list(server, "&delay=20"), tmp_.path(), p, 16, 4);
  for (const auto& r : results) ASSERT_TRUE(r.ok()) << r.error.message;
  EXPECT_LE(server.stats().max_concurrent_connections, 4u);
}

}  // namespace
