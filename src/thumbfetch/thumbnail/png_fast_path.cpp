// PNG cannot shrink on load, so decoding is most of its cost: libspng decodes straight into our
// pixel buffer, in the calling thread, and the common stage box-reduces it as Pillow does.
#include <spng.h>

#include <memory>

#include "thumbfetch/thumbnail/decoded.hpp"
#include "thumbfetch/thumbnail/jpeg_markers.hpp"

namespace thumbfetch {

namespace {

struct SpngFree {
  void operator()(spng_ctx* ctx) const { spng_ctx_free(ctx); }
};
using SpngContext = std::unique_ptr<spng_ctx, SpngFree>;

// Ancillary chunks (text, ICC, EXIF) are capped: a hostile file must not make us allocate much.
constexpr size_t kChunkLimit = 16 << 20;

bool is_truncation(int rc) {
  return rc == SPNG_IO_EOF || rc == SPNG_EOF || rc == SPNG_EIO || rc == SPNG_IO_ERROR ||
         rc == SPNG_EIDAT_TOO_SHORT;
}

Error leave_to_general_path(const char* why) {
  return make_error(ErrorKind::unsupported, why);
}

// libspng is stricter than libpng (and Pillow, and browsers) about what it rejects: a PLTE chunk
// in a truecolour image, an unknown compression method byte, a bad ancillary chunk. Only cut-off
// data is final here; for the rest libpng, through libvips, has the last word.
Error decode_error(int rc) {
  if (is_truncation(rc)) {
    return make_error(ErrorKind::truncated,
                      "truncated PNG: the data ends before the image does "
                      "(--allow-truncated keeps what decodes)");
  }
  return leave_to_general_path("a PNG libspng rejects: libpng decides");
}

}  // namespace

Result<Decoded> decode_png_fast(std::string_view data, const ThumbOptions& options) {
  SpngContext ctx(spng_ctx_new(0));
  if (!ctx) return make_error(ErrorKind::internal, "cannot create a PNG decoder");
  spng_set_png_buffer(ctx.get(), data.data(), data.size());
  spng_set_chunk_limits(ctx.get(), kChunkLimit, kChunkLimit);

  spng_ihdr ihdr{};
  if (int rc = spng_get_ihdr(ctx.get(), &ihdr); rc != 0) return decode_error(rc);
  const Size raw{static_cast<int>(ihdr.width), static_cast<int>(ihdr.height)};
  if (auto st = check_pixel_limit(raw, options.max_pixels); !st) return st.error();
  if (std::uint64_t(raw.width) * raw.height > kWholeDecodeMaxPixels) {
    return leave_to_general_path("large PNG: shrunk while streaming");
  }
  spng_iccp iccp{};
  if (spng_get_iccp(ctx.get(), &iccp) == 0 &&
      !icc_profile_is_srgb(std::string_view(iccp.profile, iccp.profile_len)) &&
      !icc_profile_is_srgb(iccp.profile_name)) {
    return leave_to_general_path("PNG with a non-sRGB ICC profile");
  }
  const bool grey = ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE ||
                    ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA;
  if (grey && ihdr.bit_depth > 8) return leave_to_general_path("16-bit grey PNG");

  spng_trns trns{};
  const bool alpha = ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA ||
                     ihdr.color_type == SPNG_COLOR_TYPE_TRUECOLOR_ALPHA ||
                     spng_get_trns(ctx.get(), &trns) == 0;
  // libspng makes GA8 only from grey + tRNS; 8-bit grey+alpha is already GA8 as stored.
  const bool stored_as_is = ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA;
  const int format = stored_as_is ? SPNG_FMT_PNG
                     : grey       ? (alpha ? SPNG_FMT_GA8 : SPNG_FMT_G8)
                                  : (alpha ? SPNG_FMT_RGBA8 : SPNG_FMT_RGB8);
  const int bands = (grey ? 1 : 3) + (alpha ? 1 : 0);

  int orientation = 1;
  spng_exif exif{};
  if (spng_get_exif(ctx.get(), &exif) == 0) {
    orientation = tiff_orientation(std::string_view(exif.data, exif.length));
  }

  Decoded out;
  out.decoder = Decoder::libspng;
  out.source = orientation_swaps_axes(orientation) ? Size{raw.height, raw.width} : raw;
  out.plan = plan_thumbnail(out.source, options);
  Pixels pixels(raw.width, raw.height, bands);
  int rc = spng_decode_image(ctx.get(), pixels.data.data(), pixels.data.size(), format,
                             alpha && !stored_as_is ? SPNG_DECODE_TRNS : 0);
  if (rc != 0) {
    if (is_truncation(rc) && options.allow_truncated) {
      return leave_to_general_path("truncated PNG: libvips keeps what decodes");
    }
    if (rc == SPNG_EFMT) return leave_to_general_path("a PNG layout libspng cannot convert");
    return decode_error(rc);
  }
  out.pixels = apply_orientation(std::move(pixels), orientation);
  return out;
}

}  // namespace thumbfetch
