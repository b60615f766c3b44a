#pragma once
// What a decoder hands to the common resize-and-encode stage: upright pixels, possibly already
// shrunk on load, and the plan computed from the full upright size.

#include <string_view>

#include "thumbfetch/thumbnail/geometry.hpp"
#include "thumbfetch/thumbnail/pixels.hpp"
#include "thumbfetch/thumbnail/turbojpeg.hpp"
#include "thumbfetch/util/error.hpp"

namespace thumbfetch {

struct Decoded {
  Pixels pixels;   // upright, 8-bit, 1-4 bands, sRGB
  Size source;     // the full upright size of the image
  ThumbPlan plan;  // computed from `source`
  Decoder decoder = Decoder::libvips;
};

// Refuses images whose header announces more than `max_pixels`.
Status check_pixel_limit(Size size, std::uint64_t max_pixels);

// The scale at which decoding may stop: the plan's scale times the reducing gap, at most 1.
double min_decode_scale(const ThumbPlan& plan, const ThumbOptions& options);

// libjpeg-turbo: DCT-scaled decode. Returns ErrorKind::unsupported for JPEGs it leaves to the
// general path (CMYK/YCCK, a non-sRGB ICC profile).
Result<Decoded> decode_jpeg_fast(TurboJpeg& codec, std::string_view data,
                                 const ThumbOptions& options);

// libspng: PNG decoded straight into our buffer (no libvips pipeline or threads). Returns
// ErrorKind::unsupported for PNGs it leaves to the general path (a non-sRGB ICC profile, 16-bit
// grey, very large images, truncated data when truncation is allowed).
Result<Decoded> decode_png_fast(std::string_view data, const ThumbOptions& options);

// Our own BMP decoder (bmp.hpp), whole image: libvips reads BMP only through ImageMagick, which
// stays blocked. Its errors are final (nothing else reads BMP).
Result<Decoded> decode_bmp_whole(std::string_view data, const ThumbOptions& options);

// libtiff's RGBA interface, for TIFF layouts libvips refuses (YCbCr subsampled outside JPEG,
// old-style JPEG...). Errors name the layout.
Result<Decoded> decode_tiff_rgba(std::string_view data, const ThumbOptions& options);

// Above this many pixels the general path shrinks while streaming instead of decoding whole.
inline constexpr std::uint64_t kWholeDecodeMaxPixels = 16'000'000;

// libvips: every other format, shrink-on-load where the loader has it, colour to sRGB.
Result<Decoded> decode_with_vips(std::string_view data, const ThumbOptions& options);

}  // namespace thumbfetch
