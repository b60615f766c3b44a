#pragma once
// Our own BMP decoder. libvips reads BMP only through ImageMagick, whose loaders we keep blocked
// (a large attack surface for a format this simple), so BMP gets a small decoder written for
// hostile input: every read is bounds-checked against the bytes we hold, sizes are computed in
// 64 bits and checked before anything is allocated, the pixel count is capped (--max-pixels), and
// uncompressed data must be present in full before the image is allocated.
//
// Variants: Windows headers (40, 52, 56, 108 and 124 bytes), OS/2 1.x (12) and 2.x (16..64);
// 1/2/4/8-bit palette, RLE8, RLE4, 16-bit (555 default, 565 and any other bit fields), 24-bit,
// 32-bit (BGRX, or bit fields with alpha), bottom-up and top-down rows.

#include <cstdint>
#include <string_view>

#include "thumbfetch/thumbnail/pixels.hpp"
#include "thumbfetch/util/error.hpp"

namespace thumbfetch {

struct BmpLimits {
  std::uint64_t max_pixels = 100'000'000;  // refused from the header, before any allocation
  bool allow_truncated = false;            // keep what decodes; the rest stays black
};

// The size the headers announce (checked: positive, within int, within the pixel limit).
Result<Size> bmp_size(std::string_view data, const BmpLimits& limits);

// The whole image, top row first: 1 band for a palette of greys, 3 for colour, 4 when bit fields
// carry an alpha channel that is not zero everywhere. Errors: corrupt (with what is wrong),
// truncated, too_many_pixels, unsupported (JPEG/PNG inside a BMP, OS/2 Huffman, RLE24).
Result<Pixels> decode_bmp(std::string_view data, const BmpLimits& limits);

}  // namespace thumbfetch
