// The JPEG marker and EXIF walker (thumbnail/jpeg_markers): any bytes as a JPEG, an EXIF block,
// a bare TIFF structure and an ICC profile. Orientations stay in 1..8; ASan catches any read
// outside the input (the walker follows offsets and lengths the file states).

#include <string>

#include "fuzz_check.hpp"
#include "thumbfetch/thumbnail/jpeg_markers.hpp"

using namespace thumbfetch;

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, size_t size) {
  // An exact-size copy on the heap, so that ASan sees a read one past the end.
  const std::string bytes(fuzz::as_text(data, size));
  const JpegMarkers markers = scan_jpeg_markers(bytes);
  FUZZ_CHECK(markers.orientation >= 1 && markers.orientation <= 8, "JPEG orientation in 1..8");
  FUZZ_CHECK(markers.has_icc || !markers.icc_is_srgb, "sRGB only with a profile");
  const int exif = exif_orientation(bytes);
  FUZZ_CHECK(exif >= 1 && exif <= 8, "EXIF orientation in 1..8");
  const int tiff = tiff_orientation(bytes);
  FUZZ_CHECK(tiff >= 1 && tiff <= 8, "TIFF orientation in 1..8");
  (void)icc_profile_is_srgb(bytes);
  // The same bytes behind a JPEG's SOI and an APP1 EXIF header, so the walker reaches them.
  if (size < 65000) {
    const size_t len = size + 8;
    std::string jpeg = "\xFF\xD8\xFF\xE1";
    jpeg += static_cast<char>(len >> 8);
    jpeg += static_cast<char>(len & 0xFF);
    jpeg += std::string("Exif\0\0", 6) + bytes + "\xFF\xD9";
    const JpegMarkers wrapped = scan_jpeg_markers(jpeg);
    FUZZ_CHECK(wrapped.orientation >= 1 && wrapped.orientation <= 8, "orientation in 1..8");
  }
  return 0;
}
