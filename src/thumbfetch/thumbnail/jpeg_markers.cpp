#include "thumbfetch/thumbnail/jpeg_markers.hpp"

#include <cstdint>
#include <string>

namespace thumbfetch {

namespace {

std::uint16_t read16(std::string_view s, size_t at, bool big_endian) {
  auto b0 = static_cast<std::uint8_t>(s[at]), b1 = static_cast<std::uint8_t>(s[at + 1]);
  return big_endian ? std::uint16_t(b0 << 8 | b1) : std::uint16_t(b1 << 8 | b0);
}

std::uint32_t read32(std::string_view s, size_t at, bool big_endian) {
  std::uint32_t hi = read16(s, at, big_endian), lo = read16(s, at + 2, big_endian);
  return big_endian ? (hi << 16 | lo) : (lo << 16 | hi);
}

}  // namespace

// sRGB profiles name themselves so in their description ("sRGB IEC61966-2.1", "sRGB built-in");
// the text may be ASCII ('desc') or UTF-16 ('mluc').
bool icc_profile_is_srgb(std::string_view icc) {
  if (icc.find("sRGB") != std::string_view::npos) return true;
  return icc.find(std::string_view("s\0R\0G\0B", 7)) != std::string_view::npos;
}

int exif_orientation(std::string_view exif) {
  if (exif.size() < 14 || exif.substr(0, 6) != std::string_view("Exif\0\0", 6)) return 1;
  return tiff_orientation(exif.substr(6));
}

int tiff_orientation(std::string_view tiff) {
  if (tiff.size() < 8) return 1;
  bool big_endian;
  if (tiff.substr(0, 2) == "MM")
    big_endian = true;
  else if (tiff.substr(0, 2) == "II")
    big_endian = false;
  else
    return 1;
  // Offsets come from the file: all arithmetic in size_t, every read bounds-checked.
  const size_t ifd = read32(tiff, 4, big_endian);
  if (ifd >= tiff.size() || tiff.size() - ifd < 2) return 1;
  const size_t entries = read16(tiff, ifd, big_endian);
  for (size_t i = 0; i < entries; ++i) {
    const size_t at = ifd + 2 + i * 12;
    if (at + 12 > tiff.size()) break;
    if (read16(tiff, at, big_endian) == 0x0112) {
      int value = read16(tiff, at + 8, big_endian);
      return value >= 1 && value <= 8 ? value : 1;
    }
  }
  return 1;
}

JpegMarkers scan_jpeg_markers(std::string_view jpeg) {
  JpegMarkers result;
  std::string icc;
  size_t at = 2;  // after SOI
  while (at + 4 <= jpeg.size()) {
    if (static_cast<std::uint8_t>(jpeg[at]) != 0xFF) break;
    std::uint8_t marker = static_cast<std::uint8_t>(jpeg[at + 1]);
    if (marker == 0xFF) {  // a fill byte
      ++at;
      continue;
    }
    if (marker == 0xDA || marker == 0xD9) break;  // start of scan / end of image
    size_t length = read16(jpeg, at + 2, true);
    if (length < 2 || at + 2 + length > jpeg.size()) break;
    std::string_view body = jpeg.substr(at + 4, length - 2);
    if (marker == 0xC2 || marker == 0xCA) result.progressive = true;
    if (marker == 0xE1 && body.starts_with(std::string_view("Exif\0\0", 6))) {
      result.orientation = exif_orientation(body);
    } else if (marker == 0xE2 && body.starts_with(std::string_view("ICC_PROFILE\0", 12)) &&
               body.size() > 14) {
      result.has_icc = true;
      icc.append(body.substr(14));
    }
    at += 2 + length;
  }
  result.icc_is_srgb = result.has_icc && icc_profile_is_srgb(icc);
  return result;
}

}  // namespace thumbfetch
