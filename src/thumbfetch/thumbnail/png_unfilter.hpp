#pragma once
// PNG row filters undone (None, Sub, Up, Average, Paeth), for the whole-buffer PNG path
// (png_whole.cpp): libdeflate inflates every row at once, these turn each filtered row back into
// samples. Pixels of 3 and 4 bytes (8-bit RGB, RGBA) take SSE2, the baseline of x86-64.

#include <cstddef>
#include <cstdint>

namespace thumbfetch {

// Undoes `filter` (0..4) on one row of `length` bytes: `in` is the filtered row (after its
// filter byte), `prev` the previous row already unfiltered (a row of zeros above the first),
// `out` receives the samples and may be `in` itself. `bpp` is the PNG's bytes per complete
// pixel (1 below 8 bits), 1..8. Returns false for a filter type above 4.
bool unfilter_row(int filter, const std::uint8_t* in, std::uint8_t* out, const std::uint8_t* prev,
                  size_t length, int bpp);

// The plain byte-at-a-time version of unfilter_row, the reference the SIMD one is tested against.
bool unfilter_row_scalar(int filter, const std::uint8_t* in, std::uint8_t* out,
                         const std::uint8_t* prev, size_t length, int bpp);

}  // namespace thumbfetch
