// Inputs the fuzz targets (fuzz/fuzz_*.cpp) found to break a parser, kept as unit tests so the
// normal and sanitizer suites hold the fix. Each names its target; the README's "Sanitizers and
// fuzzing" says how to run the targets themselves.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "support/temp_dir.hpp"
#include "thumbfetch/fetch/manifest.hpp"
#include "thumbfetch/job/thumbs_manifest.hpp"

using namespace thumbfetch;
using thumbfetch::test::TempDir;

namespace {

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

}  // namespace

// fuzz_manifest (with its dictionary, fuzz/fuzz_manifest.dict): a number out of its field's range
// (1e300 as an HTTP code, a negative byte count, 3e10 attempts) was converted with a plain cast
// (undefined behaviour for a float, a wrapped value for a negative integer). Such a row is not one
// of ours: it is skipped, and the good rows around it are read.
TEST(FuzzRegression, ManifestNumbersOutOfRangeSkipTheRow) {
  TempDir dir;
  write_text(dir / kManifestName,
             "{\"url\":\"https://h/a.jpg\",\"status\":\"ok\",\"http_code\":1e300}\n"
             "{\"url\":\"https://h/b.jpg\",\"status\":\"ok\",\"bytes\":-1}\n"
             "{\"url\":\"https://h/c.jpg\",\"status\":\"ok\",\"attempts\":3e10}\n"
             "{\"url\":\"https://h/d.jpg\",\"status\":\"ok\",\"http_code\":200.5}\n"
             // What the fuzzer found: an integer too long for 64 bits is read as a float.
             "{\"url\":\"https://h/f.jpg\",\"attempts\":99999999999999999999999999}\n"
             "{\"url\":\"https://h/e.jpg\",\"status\":\"ok\",\"http_code\":200,\"bytes\":"
             "18446744073709551615,\"attempts\":2,\"seconds\":1e300}\n");
  const auto rows = load_manifest(dir.path());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].url, "https://h/e.jpg");
  EXPECT_EQ(rows[0].http_code, 200);
  EXPECT_EQ(rows[0].bytes, 18446744073709551615u);
  EXPECT_EQ(rows[0].attempts, 2);
}

TEST(FuzzRegression, ThumbsManifestNumbersOutOfRangeSkipTheRow) {
  TempDir dir;
  write_text(dir / kThumbsManifestName,
             "{\"input\":\"/in/a.jpg\",\"status\":\"ok\",\"width\":3e10}\n"
             "{\"input\":\"/in/b.jpg\",\"status\":\"ok\",\"input_mtime_ns\":1e30}\n"
             "{\"input\":\"/in/c.jpg\",\"status\":\"ok\",\"input_bytes\":-5}\n"
             "{\"input\":\"/in/d.jpg\",\"status\":\"ok\",\"height\":4294967296}\n"
             "{\"input\":\"/in/e.jpg\",\"status\":\"ok\",\"width\":128,\"height\":96,"
             "\"input_mtime_ns\":-1700000000000000000}\n");
  const auto rows = load_thumbs_manifest(dir.path());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].input, "/in/e.jpg");
  EXPECT_EQ(rows[0].width, 128);
  EXPECT_EQ(rows[0].stamp.mtime_ns, -1700000000000000000);
}
