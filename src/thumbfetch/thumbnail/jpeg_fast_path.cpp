#include <fmt/format.h>

#include "thumbfetch/thumbnail/decoded.hpp"
#include "thumbfetch/thumbnail/jpeg_markers.hpp"
#include "thumbfetch/thumbnail/progressive_jpeg.hpp"
#include "thumbfetch/thumbnail/resample.hpp"

namespace thumbfetch {

Status check_pixel_limit(Size size, std::uint64_t max_pixels) {
  const std::uint64_t pixels = std::uint64_t(size.width) * std::uint64_t(size.height);
  if (max_pixels > 0 && pixels > max_pixels) {  // 0: no limit
    return make_error(
        ErrorKind::too_many_pixels,
        fmt::format("too many pixels: {}x{} is {:.1f} megapixels, the limit is {:.1f} "
                    "(--max-pixels)",
                    size.width, size.height, pixels / 1e6, max_pixels / 1e6));
  }
  return Ok{};
}

double min_decode_scale(const ThumbPlan& plan, const ThumbOptions& options) {
  return std::min(1.0, plan.scale() * options.reducing_gap);
}

Result<Decoded> decode_jpeg_fast(TurboJpeg& codec, std::string_view data,
                                 const ThumbOptions& options) {
  auto header = codec.read_header(data);
  if (!header) return header.error();
  if (header->cmyk) return make_error(ErrorKind::unsupported, "CMYK JPEG");
  const JpegMarkers markers = scan_jpeg_markers(data);
  if (markers.has_icc && !markers.icc_is_srgb) {
    return make_error(ErrorKind::unsupported, "JPEG with a non-sRGB ICC profile");
  }
  const Size raw{header->width, header->height};
  if (auto st = check_pixel_limit(raw, options.max_pixels); !st) return st.error();

  const bool swap = orientation_swaps_axes(markers.orientation);
  Decoded out;
  out.source = swap ? Size{raw.height, raw.width} : raw;
  out.plan = plan_thumbnail(out.source, options);
  out.decoder = Decoder::libjpeg_turbo;
  const int eighths = dct_scale_eighths(min_decode_scale(out.plan, options));
  auto pixels = markers.progressive
                    ? decode_progressive_jpeg(data, *header, eighths, options.progressive,
                                              options.allow_truncated)
                    : codec.decode(data, *header, eighths, options.allow_truncated);
  if (!pixels) return pixels.error();
  // Rotating the DCT-scaled image is cheap: it is only a few times larger than the thumbnail.
  out.pixels = apply_orientation(std::move(pixels).value(), markers.orientation);
  return out;
}

}  // namespace thumbfetch
