#pragma once
// Reads what the JPEG fast path needs from a JPEG's marker segments, without decoding: the EXIF
// orientation and whether an embedded ICC profile asks for a colour conversion.

#include <string_view>

namespace thumbfetch {

struct JpegMarkers {
  int orientation = 1;       // EXIF orientation, 1..8 (1 when absent or invalid)
  bool has_icc = false;      // an APP2 ICC_PROFILE segment is present
  bool icc_is_srgb = false;  // ... and it describes sRGB (no conversion needed)
  bool progressive = false;  // the frame is progressive (SOF2, or SOF10 with arithmetic coding)
};

JpegMarkers scan_jpeg_markers(std::string_view jpeg);

// True when an ICC profile describes sRGB (by its description, ASCII or UTF-16).
bool icc_profile_is_srgb(std::string_view icc);

// The orientation tag of an EXIF block ("Exif\0\0" + TIFF), 1 when absent or invalid.
int exif_orientation(std::string_view exif);

// The same for the bare TIFF structure (as in PNG's eXIf chunk).
int tiff_orientation(std::string_view tiff);

}  // namespace thumbfetch
