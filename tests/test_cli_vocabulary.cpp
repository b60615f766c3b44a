// One vocabulary across the commands (issue 10, point 2): a failure line and the summary name a
// failure with the same words, a download's failure line says how many attempts it took, -q
// means the same in every command, every timeout takes a duration with units and every pixel
// limit a count with units, and a thumbs manifest written by the previous version still resumes.
#include <gtest/gtest.h>

#include <fstream>

#include "support/image_fixtures.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"
#include "thumbfetch/job/thumbs_manifest.hpp"
#include "thumbfetch/serve/image_server.hpp"
#include "thumbfetch/util/atomic_file.hpp"
#include "thumbfetch/util/sha256.hpp"

using namespace thumbfetch;
using namespace thumbfetch::test;
namespace fs = std::filesystem;

namespace {

// A JPEG whose Huffman table is garbage: the header parses, the image cannot be decoded.
void write_corrupt_jpeg(const fs::path& path) {
  write_quadrant_jpeg(path, 200, 150);
  std::string bytes = read_file(path).value();
  const auto dht = bytes.find("\xFF\xC4");
  ASSERT_NE(dht, std::string::npos);
  for (size_t k = dht + 5; k < dht + 40 && k < bytes.size(); ++k) bytes[k] = '\xFF';
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// The line of `text` that contains `needle` ("" when none).
std::string line_with(const std::string& text, const std::string& needle) {
  size_t at = text.find(needle);
  if (at == std::string::npos) return {};
  const size_t begin = text.rfind('\n', at) == std::string::npos ? 0 : text.rfind('\n', at) + 1;
  return text.substr(begin, text.find('\n', at) - begin);
}

// A port on 127.0.0.1 that nothing listens on (a server started and stopped).
std::string closed_port_url() {
  ServeConfig c;
  c.generate = 1;
  std::string base;
  {
    ImageServer s(c);
    base = s.base_url();
  }
  return base + "/img/gone.jpg";
}

}  // namespace

TEST(CliVocabulary, AFailureLineAndTheSummaryUseTheSameWords) {
  TempDir tmp;
  fs::create_directories(tmp / "in");
  write_corrupt_jpeg(tmp / "in" / "broken.jpg");
  write_quadrant_jpeg(tmp / "in" / "good.jpg", 300, 200);
  auto r = run_thumbfetch({"thumbs", (tmp / "in").string(), "-o", (tmp / "out").string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const std::string line = line_with(r.err, "broken.jpg:");
  EXPECT_NE(line.find("corrupt"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("(1 corrupt)"), std::string::npos) << r.out;
  // The failed row claims no decoder and no size.
  const auto rows = load_thumbs_manifest(tmp / "out");
  ASSERT_EQ(rows.size(), 2u);
  const std::string manifest = read_file(tmp / "out" / "thumbs.jsonl").value();
  const std::string failed_row = line_with(manifest, "broken.jpg");
  EXPECT_NE(failed_row.find(R"("status":"failed")"), std::string::npos) << failed_row;
  EXPECT_EQ(failed_row.find("decoder"), std::string::npos) << failed_row;
  EXPECT_EQ(failed_row.find("width"), std::string::npos) << failed_row;

  // A download that cannot connect: the kind, then libcurl's words, then the attempts.
  std::ofstream(tmp / "urls.txt") << closed_port_url() << "\n";
  r = run_thumbfetch({"fetch", "--urls", (tmp / "urls.txt").string(), "-o", (tmp / "dl").string(),
                      "--retries", "2", "--retry-delay", "10ms"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const std::string fetch_line = line_with(r.err, "gone.jpg:");
  EXPECT_NE(fetch_line.find("gone.jpg: network error: "), std::string::npos) << r.err;
  EXPECT_NE(fetch_line.find("(after 3 attempts)"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("(1 network error)"), std::string::npos) << r.out;
}

TEST(CliVocabulary, QuietMeansFailureLinesOnlyInEveryCommand) {
  TempDir tmp;
  fs::create_directories(tmp / "in");
  write_corrupt_jpeg(tmp / "in" / "broken.jpg");
  std::ofstream(tmp / "urls.txt") << closed_port_url() << "\n";
  const std::vector<std::vector<std::string>> commands = {
      {"thumbs", (tmp / "in").string(), "-o", (tmp / "t").string(), "-q"},
      {"fetch", "--urls", (tmp / "urls.txt").string(), "-o", (tmp / "f").string(), "-q",
       "--retries", "0"},
      {"run", "--urls", (tmp / "urls.txt").string(), "-o", (tmp / "r").string(), "-q", "--retries",
       "0"},
  };
  for (const auto& args : commands) {
    SCOPED_TRACE(args[0]);
    auto r = run_thumbfetch(args);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.out, "") << "no summary with -q";
    EXPECT_EQ(count_lines_with(r.err, ": "), 1) << "one failure line: " << r.err;
  }
}

TEST(CliVocabulary, EveryTimeoutTakesUnitsAndEveryLimitACountWithUnits) {
  TempDir tmp;
  fs::create_directories(tmp / "in");
  write_quadrant_jpeg(tmp / "in" / "a.jpg", 400, 300);  // 0.12 megapixels
  auto r =
      run_thumbfetch({"thumbs", (tmp / "in").string(), "-o", (tmp / "t").string(), "--strategy",
                      "processes", "-j", "1", "--timeout", "2m", "--max-pixels", "50M"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(tmp / "t" / "a.jpg"));
  // The limit with units is the limit: 0.1M is below this image's 0.12 megapixels.
  r = run_thumbfetch(
      {"thumbs", (tmp / "in").string(), "-o", (tmp / "t2").string(), "--max-pixels", "0.1M"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("too many pixels"), std::string::npos) << r.err;
  // A plain number is seconds, as before.
  r = run_thumbfetch({"thumbs", (tmp / "in").string(), "-o", (tmp / "t3").string(), "--strategy",
                      "processes", "-j", "1", "--timeout", "30"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(CliVocabulary, AManifestOfThePreviousVersionStillResumes) {
  // Rows exactly as the previous version wrote them (a failed row with an empty decoder and
  // width 0, an ok row): --skip-existing keeps the ok one and redoes nothing else.
  TempDir tmp;
  fs::create_directories(tmp / "in");
  fs::create_directories(tmp / "out");
  const fs::path input = tmp / "in" / "a.jpg";
  write_quadrant_jpeg(input, 400, 300);
  write_text(tmp / "in" / "notes.jpg", "not an image");
  auto first = run_thumbfetch({"thumbs", (tmp / "in").string(), "-o", (tmp / "out").string()});
  ASSERT_EQ(first.exit_code, 1) << first.err;
  const InputStamp stamp = stamp_of(input);
  const std::string opts = "128x128 fit jpeg q85 #ffffff gap2 max100000000 strict";
  const auto size = fs::file_size(tmp / "out" / "a.jpg");
  std::ofstream(tmp / "out" / "thumbs.jsonl", std::ios::trunc)
      << R"({"input":")" << fs::absolute(input).lexically_normal().string()
      << R"(","file":"a.jpg","status":"ok","input_bytes":)" << stamp.bytes
      << R"(,"input_mtime_ns":)" << stamp.mtime_ns << R"(,"input_sha256":")" << file_sha256(input)
      << R"(","options":")" << opts << R"(","width":128,"height":96,"bytes":)" << size
      << R"(,"decoder":"libjpeg-turbo","seconds":0.003,"error_kind":"","error":""})"
      << "\n"
      << R"({"input":")" << fs::absolute(tmp / "in" / "notes.jpg").lexically_normal().string()
      << R"(","file":"","status":"failed","input_bytes":12,"input_mtime_ns":1,"input_sha256":"",)"
      << R"("options":")" << opts
      << R"(","width":0,"height":0,"bytes":0,"decoder":"","seconds":0.0,)"
      << R"x("error_kind":"not an image","error":"not an image (text/plain)"})x"
      << "\n";
  auto r = run_thumbfetch(
      {"thumbs", (tmp / "in").string(), "-o", (tmp / "out").string(), "--skip-existing"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("0 ok, 1 failed, 1 skipped"), std::string::npos) << r.out;
}
