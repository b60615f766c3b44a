// File names and URLs that are not UTF-8: JSON stays valid (no dump throws after all the work),
// and the manifests give the exact bytes back, so resume matches the same file or URL.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "support/temp_dir.hpp"
#include "thumbfetch/fetch/manifest.hpp"
#include "thumbfetch/job/thumbs_manifest.hpp"
#include "thumbfetch/util/json_bytes.hpp"

using namespace thumbfetch;
using namespace thumbfetch::test;

namespace {

const std::string kLatin1Url = "http://127.0.0.1:1/img/caf\xe9.jpg?q=\xff\xfe";
const std::string kLatin1Path = "/photos/caf\xe9/\xe9t\xe9.jpg";

void write_lines(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

}  // namespace

TEST(JsonBytes, Utf8IsRecognisedAndHexRoundTrips) {
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9 \xf0\x9f\x93\xb7"));
  EXPECT_FALSE(is_valid_utf8("caf\xe9"));
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xe2\x82"));          // cut short
  EXPECT_EQ(unhex_bytes(hex_bytes(kLatin1Url)), kLatin1Url);
  EXPECT_FALSE(unhex_bytes("abc").has_value());
  EXPECT_FALSE(unhex_bytes("zz").has_value());
}

TEST(JsonBytes, AFetchManifestGivesBackANonUtf8UrlForResume) {
  TempDir dir;
  ManifestRow row;
  row.url = kLatin1Url;
  row.file = "caf\xe9.jpg";
  row.status = "ok";
  const std::string line = row.to_json_line();
  EXPECT_TRUE(nlohmann::json::accept(line)) << line;
  write_lines(dir.path() / kManifestName, line + "\n");
  const auto rows = load_manifest(dir.path());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].url, kLatin1Url);
  EXPECT_EQ(rows[0].file, row.file);
}

TEST(JsonBytes, AThumbsManifestGivesBackANonUtf8InputForResume) {
  TempDir dir;
  ThumbsRow row;
  row.input = kLatin1Path;
  row.file = "\xe9t\xe9.jpg";
  row.stem = "\xe9t\xe9";
  row.status = "ok";
  const std::string line = row.to_json_line();
  EXPECT_TRUE(nlohmann::json::accept(line)) << line;
  write_lines(dir.path() / kThumbsManifestName, line + "\n");
  const auto rows = load_thumbs_manifest(dir.path());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].input, kLatin1Path);
  EXPECT_EQ(rows[0].file, row.file);
  EXPECT_EQ(rows[0].stem, row.stem);
}
