// Small pieces of the download path: SHA-256, durations and sizes, retry delays, the manifest.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "thumbfetch/fetch/manifest.hpp"
#include "thumbfetch/fetch/transfer.hpp"
#include "thumbfetch/job/names.hpp"
#include "thumbfetch/util/sha256.hpp"
#include "thumbfetch/util/units.hpp"

using namespace thumbfetch;
namespace fs = std::filesystem;

TEST(FetchSha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // Streaming in odd pieces gives the same digest.
  const std::string million(1000000, 'a');
  Sha256 sha;
  for (size_t i = 0; i < million.size(); i += 777)
    sha.update(std::string_view(million).substr(i, 777));
  EXPECT_EQ(sha.hex_digest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(FetchUnits, DurationsAndSizes) {
  EXPECT_DOUBLE_EQ(*parse_duration_seconds("30"), 30);
  EXPECT_DOUBLE_EQ(*parse_duration_seconds("1.5s"), 1.5);
  EXPECT_DOUBLE_EQ(*parse_duration_seconds("250ms"), 0.25);
  EXPECT_DOUBLE_EQ(*parse_duration_seconds("2m"), 120);
  EXPECT_FALSE(parse_duration_seconds("-1s").ok());
  EXPECT_FALSE(parse_duration_seconds("fast").ok());
  EXPECT_EQ(*parse_byte_size("50MB"), 50'000'000u);
  EXPECT_EQ(*parse_byte_size("512KiB"), 524'288u);
  EXPECT_EQ(*parse_byte_size("1000"), 1000u);
  EXPECT_FALSE(parse_byte_size("12 parsecs").ok());
}

TEST(FetchPolicyRetry, ExponentialJitteredAndRetryAfterCapped) {
  FetchPolicy p;
  p.retry_base = 1;
  p.retry_max_delay = 5;
  p.retry_after_cap = 10;
  for (int i = 0; i < 50; ++i) {
    const double d1 = retry_delay_seconds(p, 1, 0), d3 = retry_delay_seconds(p, 3, 0);
    EXPECT_GE(d1, 0.5);
    EXPECT_LE(d1, 1.0);
    EXPECT_GE(d3, 2.0);
    EXPECT_LE(d3, 4.0);
    EXPECT_LE(retry_delay_seconds(p, 10, 0), 5.0);
  }
  EXPECT_DOUBLE_EQ(retry_delay_seconds(p, 1, 3), 3.0);
  EXPECT_DOUBLE_EQ(retry_delay_seconds(p, 1, 3600), 10.0);
}

TEST(FetchManifest, LatestRowPerUrlAndTornLinesIgnored) {
  const fs::path dir = fs::temp_directory_path() / ("tf-manifest-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    ManifestWriter w(dir);
    ManifestRow a{.url = "http://127.0.0.1/a.jpg", .file = "", .status = "failed"};
    w.append(a);
    a.status = "ok";
    a.file = "a.jpg";
    a.bytes = 3;
    w.append(a);
    w.append({.url = "http://127.0.0.1/b.jpg", .file = "b.jpg", .status = "ok", .bytes = 5});
  }
  { std::ofstream(dir / kManifestName, std::ios::app) << "{\"url\":\"http://127.0.0.1/c.j"; }
  std::ofstream(dir / "a.jpg") << "abc";
  const auto rows = load_manifest(dir);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].status, "ok");
  EXPECT_EQ(row_file_state(dir, rows[0].file, rows[0].bytes), RowFile::intact);
  EXPECT_NE(row_file_state(dir, rows[1].file, rows[1].bytes),
            RowFile::intact);  // b.jpg is not there
  ManifestRow evil{.url = "x", .file = "../etc/passwd", .status = "ok"};
  EXPECT_NE(row_file_state(dir, evil.file, evil.bytes), RowFile::intact);
  fs::remove_all(dir);
}
