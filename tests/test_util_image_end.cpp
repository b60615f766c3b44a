// The end-of-image check: real JPEGs (baseline, progressive, with an EXIF-like segment that holds
// an end marker of its own) and PNGs are complete only once their last byte is in, whatever the
// chunking; bytes after the end are allowed; a header followed by zeros is broken.
#include <gtest/gtest.h>

#include <fstream>

#include "support/image_fixtures.hpp"
#include "support/temp_dir.hpp"
#include "thumbfetch/util/image_end.hpp"

using namespace thumbfetch;
using thumbfetch::test::TempDir;
using Verdict = ImageEndScanner::Verdict;

namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

Verdict scan(ImageFormat format, std::string_view bytes, size_t chunk = SIZE_MAX) {
  ImageEndScanner s(format);
  for (size_t at = 0; at < bytes.size(); at += chunk) s.feed(bytes.substr(at, chunk));
  return s.verdict();
}

// Every prefix short of the whole file is incomplete, the whole file is complete, in one piece
// and byte by byte.
void expect_complete_only_at_the_end(ImageFormat format, const std::string& bytes) {
  ASSERT_GT(bytes.size(), 100u);
  EXPECT_EQ(scan(format, bytes), Verdict::complete);
  EXPECT_EQ(scan(format, bytes, 1), Verdict::complete);
  EXPECT_EQ(scan(format, bytes, 7), Verdict::complete);
  for (size_t n = 2; n < bytes.size(); n += std::max<size_t>(1, bytes.size() / 97)) {
    EXPECT_EQ(scan(format, std::string_view(bytes).substr(0, n)), Verdict::incomplete) << n;
  }
  EXPECT_EQ(scan(format, std::string_view(bytes).substr(0, bytes.size() - 1)), Verdict::incomplete);
  // A trailer after the end (cameras append them) changes nothing.
  EXPECT_EQ(scan(format, bytes + std::string(5000, '\0') + "TRAILER"), Verdict::complete);
}

}  // namespace

TEST(ImageEnd, JpegBaselineAndProgressive) {
  TempDir tmp;
  test::write_quadrant_jpeg(tmp / "b.jpg", 64, 48);
  test::write_quadrant_jpeg(tmp / "p.jpg", 64, 48, {.progressive = true});
  {
    SCOPED_TRACE("baseline");
    expect_complete_only_at_the_end(ImageFormat::jpeg, slurp(tmp / "b.jpg"));
  }
  {
    SCOPED_TRACE("progressive");
    expect_complete_only_at_the_end(ImageFormat::jpeg, slurp(tmp / "p.jpg"));
  }
}

TEST(ImageEnd, AnEndMarkerInsideASegmentIsNotTheEnd) {
  TempDir tmp;
  test::write_quadrant_jpeg(tmp / "b.jpg", 32, 32);
  std::string jpeg = slurp(tmp / "b.jpg");
  // An APP1 segment whose payload ends like an embedded thumbnail: FF D9.
  const std::string app1(
      "\xFF\xE1\x00\x08"
      "Exif\xFF\xD9",
      10);
  jpeg.insert(2, app1);
  expect_complete_only_at_the_end(ImageFormat::jpeg, jpeg);
  EXPECT_EQ(scan(ImageFormat::jpeg, std::string_view(jpeg).substr(0, 2 + app1.size())),
            Verdict::incomplete);
}

TEST(ImageEnd, Png) {
  TempDir tmp;
  test::write_quadrant_png(tmp / "a.png", 64, 48, {.alpha = true});
  expect_complete_only_at_the_end(ImageFormat::png, slurp(tmp / "a.png"));
}

TEST(ImageEnd, AHeaderFollowedByZerosIsBrokenWhereTheZerosStart) {
  // SOI and a JFIF APP0, then padding: what `serve`'s fault=big sends.
  std::string fake("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", 20);
  fake += std::string(980, '\0');
  ImageEndScanner s(ImageFormat::jpeg);
  s.feed(fake);
  EXPECT_EQ(s.verdict(), Verdict::broken);
  EXPECT_EQ(s.offset(), 20u);
  std::string png("\x89PNG\r\n\x1A\n\x00\x00\x00\x0DIHDR", 16);
  png += std::string(17, '\0');  // IHDR data and CRC
  png += std::string(
      "\xFF\xFF\xFF\xFF"
      "IDAT",
      8);  // beyond PNG's 2^31-1 chunk limit
  EXPECT_EQ(scan(ImageFormat::png, png), Verdict::broken);
}

TEST(ImageEnd, OtherFormatsAreNotChecked) {
  EXPECT_EQ(scan(ImageFormat::gif, "GIF89a"), Verdict::unchecked);
  EXPECT_EQ(scan(ImageFormat::webp, "RIFF"), Verdict::unchecked);
}
