// The marker and EXIF parsers read offsets from untrusted files: they must never read outside
// the buffer, whatever the bytes say.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "thumbfetch/thumbnail/jpeg_markers.hpp"

using namespace thumbfetch;

namespace {

std::string be16(unsigned v) {
  return {char(v >> 8), char(v)};
}
std::string be32(std::uint32_t v) {
  return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}

// A big-endian TIFF with one IFD entry: orientation = `value`, IFD at `ifd_offset`.
std::string tiff_with_orientation(int value, std::uint32_t ifd_offset = 8) {
  return "MM" + be16(42) + be32(ifd_offset) + be16(1) + be16(0x0112) + be16(3) + be32(1) +
         be16(value) + be16(0) + be32(0);
}

std::string jpeg_with_app1(const std::string& exif) {
  return std::string("\xFF\xD8", 2) + "\xFF\xE1" + be16(static_cast<unsigned>(exif.size() + 2)) +
         exif + std::string("\xFF\xDA", 2);
}

}  // namespace

TEST(JpegMarkers, ReadsTheOrientation) {
  EXPECT_EQ(tiff_orientation(tiff_with_orientation(6)), 6);
  EXPECT_EQ(exif_orientation(std::string("Exif\0\0", 6) + tiff_with_orientation(8)), 8);
  EXPECT_EQ(scan_jpeg_markers(jpeg_with_app1(std::string("Exif\0\0", 6) + tiff_with_orientation(3)))
                .orientation,
            3);
  EXPECT_EQ(tiff_orientation(tiff_with_orientation(9)), 1) << "out of range means upright";
}

TEST(JpegMarkers, HostileOffsetsAreIgnored) {
  for (std::uint32_t offset : {0xFFFFFFFFu, 0xFFFFFFFEu, 0x7FFFFFFFu, 26u, 25u, 1000u}) {
    EXPECT_EQ(tiff_orientation(tiff_with_orientation(6, offset)), 1) << offset;
  }
  // An entry count that runs past the end.
  std::string many = "II" + std::string("\x2A\x00\x08\x00\x00\x00\xFF\xFF", 8);
  EXPECT_EQ(tiff_orientation(many), 1);
  EXPECT_EQ(tiff_orientation(""), 1);
  EXPECT_EQ(tiff_orientation("MM"), 1);
}

TEST(JpegMarkers, TruncatedAndGarbageSegmentsStopTheScan) {
  std::string jpeg = jpeg_with_app1(std::string("Exif\0\0", 6) + tiff_with_orientation(6));
  for (size_t cut = 0; cut < jpeg.size(); ++cut) {
    JpegMarkers m = scan_jpeg_markers(jpeg.substr(0, cut));
    EXPECT_TRUE(m.orientation == 1 || m.orientation == 6);
  }
  // Deterministic garbage after a JPEG start: never a crash, never a bogus orientation.
  std::uint64_t state = 42;
  for (int round = 0; round < 3000; ++round) {
    std::string data = "\xFF\xD8";
    const int n = 2 + static_cast<int>(state % 200);
    for (int i = 0; i < n; ++i) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      data.push_back(static_cast<char>(state >> 56));
    }
    // An APP1 EXIF start: 14 bytes (the length read past the literal once; ASan saw it).
    static constexpr char kExifStart[] =
        "\xFF\xE1\x00\x40"
        "Exif\0\0MM\0\x2A";
    if (round % 3 == 0) data.insert(2, kExifStart, sizeof kExifStart - 1);
    JpegMarkers m = scan_jpeg_markers(data);
    EXPECT_GE(m.orientation, 1);
    EXPECT_LE(m.orientation, 8);
  }
}
