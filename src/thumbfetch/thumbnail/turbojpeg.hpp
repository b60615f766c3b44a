#pragma once
// TurboJPEG handles owned by RAII, and the two calls we make with them: decode at a DCT scale
// and encode a small image. A handle is not thread-safe: each worker owns its own.

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

class TurboJpeg {
 public:
  TurboJpeg();
  TurboJpeg(TurboJpeg&&) noexcept;
  TurboJpeg& operator=(TurboJpeg&&) = delete;
  ~TurboJpeg();

  Result<JpegHeader> read_header(std::string_view jpeg);

  // Decodes at the smallest DCT scale (M/8) that keeps at least `min_scale` of the full size.
  // Truncated data fails unless `allow_truncated`; other libjpeg warnings are tolerated.
  Result<Pixels> decode(std::string_view jpeg, const JpegHeader& header, double min_scale,
                        bool allow_truncated);

  // Baseline JPEG, 4:2:0 (grey stays grey), no metadata.
  Result<std::vector<unsigned char>> encode(const Pixels& image, int quality);

 private:
  void* decompressor_ = nullptr;
  void* compressor_ = nullptr;
};

}  // namespace thumbfetch
