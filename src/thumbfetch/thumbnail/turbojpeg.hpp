#pragma once
// TurboJPEG (libjpeg-turbo): decode at a DCT scale, encode a small image. Handles are owned by
// RAII and never shared between threads.
//
// Nothing of one image may reach the next. A libjpeg decompressor keeps state between images:
// its quantisation and Huffman tables (a JPEG without tables decodes with the previous image's),
// and, after an error inside the header, a half-read marker stream (the JPEGs after it fail
// with "two SOI markers" or "Bogus Huffman table definition"). So every decoding call gets a fresh
// decompressor: creating one costs well under a microsecond, against 60 us or more for the smallest
// decode. The compressor is kept (each encode sets all of its parameters and tables again) and
// replaced after any error.

#include <memory>
#include <string_view>
#include <vector>

#include "thumbfetch/thumbnail/pixels.hpp"
#include "thumbfetch/util/error.hpp"

namespace thumbfetch {

struct JpegHeader {
  int width = 0;
  int height = 0;
  bool grey = false;
  bool cmyk = false;  // CMYK or YCCK: the fast path leaves those to libvips
};

// The smallest DCT scale, in eighths (1..8), that keeps at least `min_scale` of the full size:
// libjpeg-turbo scales by N/8.
int dct_scale_eighths(double min_scale);

class TurboJpeg {
 public:
  TurboJpeg() = default;
  TurboJpeg(TurboJpeg&&) noexcept = default;
  TurboJpeg& operator=(TurboJpeg&&) = delete;
  ~TurboJpeg() = default;

  // Both decoding calls are independent of every earlier call (a fresh decompressor each).
  Result<JpegHeader> read_header(std::string_view jpeg);

  // Decodes at `eighths`/8 of the full size (dct_scale_eighths), every scan.
  // Truncated data fails unless `allow_truncated`; other libjpeg warnings are tolerated.
  Result<Pixels> decode(std::string_view jpeg, const JpegHeader& header, int eighths,
                        bool allow_truncated);

  // Baseline JPEG, 4:2:0 (grey stays grey), no metadata.
  Result<std::vector<unsigned char>> encode(const Pixels& image, int quality);

 private:
  struct Destroy {
    void operator()(void* handle) const;
  };
  std::unique_ptr<void, Destroy> compressor_;  // created on first use, dropped after an error
};

}  // namespace thumbfetch
