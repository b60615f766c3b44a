// PNG cannot shrink on load, so decoding is most of its cost. libspng reads the header and the
// chunks before the image data; the pixels come from the whole-buffer path (png_whole.cpp:
// libdeflate and our own unfilter) where it takes the file, else from libspng's streaming
// decode, both straight into our pixel buffer in the calling thread. The common stage
// box-reduces it as Pillow does.
#include <spng.h>

#include <memory>

#include <fmt/format.h>

#include "thumbfetch/thumbnail/decoded.hpp"
#include "thumbfetch/thumbnail/jpeg_markers.hpp"
#include "thumbfetch/thumbnail/png_decode.hpp"

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

// A chunk getter's answer when libspng read the chunks before the image data without complaint.
bool read_fine(int rc) {
  return rc == 0 || rc == SPNG_ECHUNKAVAIL;
}

// What the header and the chunks before the image data decide.
struct PngHeader {
  spng_ihdr ihdr{};
  int format = 0;  // libspng's output format
  int bands = 0;
  int flags = 0;            // libspng's decode flags
  bool apply_trns = false;  // tRNS turned into alpha
  int orientation = 1;
  bool chunks_read = true;  // every chunk before the first IDAT read without complaint
};

Result<PngHeader> read_header(spng_ctx* ctx, const ThumbOptions& options) {
  PngHeader h;
  spng_ihdr& ihdr = h.ihdr;
  if (int rc = spng_get_ihdr(ctx, &ihdr); rc != 0) return decode_error(rc);
  const Size raw{static_cast<int>(ihdr.width), static_cast<int>(ihdr.height)};
  if (auto st = check_pixel_limit(raw, options.max_pixels); !st) return st.error();
  if (std::uint64_t(raw.width) * raw.height > kWholeDecodeMaxPixels) {
    return leave_to_general_path("large PNG: shrunk while streaming");
  }
  spng_iccp iccp{};
  const int icc_rc = spng_get_iccp(ctx, &iccp);
  if (icc_rc == 0 && !icc_profile_is_srgb(std::string_view(iccp.profile, iccp.profile_len)) &&
      !icc_profile_is_srgb(iccp.profile_name)) {
    return leave_to_general_path("PNG with a non-sRGB ICC profile");
  }
  const bool grey = ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE ||
                    ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA;
  if (grey && ihdr.bit_depth > 8) return leave_to_general_path("16-bit grey PNG");

  spng_trns trns{};
  const int trns_rc = spng_get_trns(ctx, &trns);
  const bool alpha = ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA ||
                     ihdr.color_type == SPNG_COLOR_TYPE_TRUECOLOR_ALPHA || trns_rc == 0;
  // libspng makes GA8 only from grey + tRNS; 8-bit grey+alpha is already GA8 as stored.
  const bool stored_as_is = ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA;
  h.format = stored_as_is ? SPNG_FMT_PNG
             : grey       ? (alpha ? SPNG_FMT_GA8 : SPNG_FMT_G8)
                          : (alpha ? SPNG_FMT_RGBA8 : SPNG_FMT_RGB8);
  h.bands = (grey ? 1 : 3) + (alpha ? 1 : 0);
  h.flags = alpha && !stored_as_is ? SPNG_DECODE_TRNS : 0;
  // libspng applies tRNS to grey, RGB and palette images; alpha images have their own.
  h.apply_trns = trns_rc == 0 && ihdr.color_type != SPNG_COLOR_TYPE_GRAYSCALE_ALPHA &&
                 ihdr.color_type != SPNG_COLOR_TYPE_TRUECOLOR_ALPHA;

  spng_exif exif{};
  const int exif_rc = spng_get_exif(ctx, &exif);
  if (exif_rc == 0) h.orientation = tiff_orientation(std::string_view(exif.data, exif.length));
  h.chunks_read = read_fine(icc_rc) && read_fine(trns_rc) && read_fine(exif_rc);
  return h;
}

// The header as the whole-buffer path needs it; nullopt where that path does not apply.
std::optional<PngLayout> whole_layout(spng_ctx* ctx, const PngHeader& h) {
  if (!h.chunks_read || h.ihdr.interlace_method != 0) return std::nullopt;
  PngLayout layout;
  layout.width = static_cast<int>(h.ihdr.width);
  layout.height = static_cast<int>(h.ihdr.height);
  layout.bit_depth = h.ihdr.bit_depth;
  layout.colour_type = h.ihdr.color_type;
  layout.bands = h.bands;
  layout.apply_trns = h.apply_trns;
  spng_trns trns{};
  if (h.apply_trns && spng_get_trns(ctx, &trns) == 0) {
    layout.trns_colour = h.ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE
                             ? std::array<std::uint16_t, 3>{trns.gray, 0, 0}
                             : std::array<std::uint16_t, 3>{trns.red, trns.green, trns.blue};
  }
  if (h.ihdr.color_type == SPNG_COLOR_TYPE_INDEXED) {
    spng_plte plte{};
    if (spng_get_plte(ctx, &plte) != 0) return std::nullopt;
    for (unsigned i = 0; i < 256; ++i) {
      std::uint8_t* entry = &layout.palette[i * 4];
      if (i < plte.n_entries) {
        entry[0] = plte.entries[i].red, entry[1] = plte.entries[i].green;
        entry[2] = plte.entries[i].blue;
      }
      entry[3] = h.apply_trns && i < trns.n_type3_entries ? trns.type3_alpha[i] : 255;
    }
  }
  return layout;
}

// `bad_idat_crc_at`: where the whole-buffer path found an IDAT chunk failing its CRC (0: none).
// libspng checks the CRC of each IDAT chunk it reads past (not of the one holding the last row;
// damaged data there often fails inflating first), libpng of every one it reads: when libspng
// fails on such a file, libpng fails too, so the failure is final here, with its reason, instead
// of libpng's "read error" through libvips.
Result<Pixels> decode_with_spng(spng_ctx* ctx, const PngHeader& h, const ThumbOptions& options,
                                size_t bad_idat_crc_at) {
  Pixels pixels(static_cast<int>(h.ihdr.width), static_cast<int>(h.ihdr.height), h.bands);
  const int rc = spng_decode_image(ctx, pixels.data.data(), pixels.data.size(), h.format, h.flags);
  if (rc != 0) {
    if (is_truncation(rc) && options.allow_truncated) {
      return leave_to_general_path("truncated PNG: libvips keeps what decodes");
    }
    if (rc == SPNG_EFMT) return leave_to_general_path("a PNG layout libspng cannot convert");
    if (bad_idat_crc_at && !is_truncation(rc) && !options.allow_truncated) {
      return make_error(ErrorKind::corrupt,
                        fmt::format("corrupt PNG: damaged image data (the IDAT chunk at byte {} "
                                    "fails its CRC check)",
                                    bad_idat_crc_at));
    }
    return decode_error(rc);
  }
  return pixels;
}

}  // namespace

Result<Decoded> decode_png(std::string_view data, const ThumbOptions& options, PngPath path,
                           bool* took_whole) {
  if (took_whole) *took_whole = false;
  SpngContext ctx(spng_ctx_new(0));
  if (!ctx) return make_error(ErrorKind::internal, "cannot create a PNG decoder");
  spng_set_png_buffer(ctx.get(), data.data(), data.size());
  spng_set_chunk_limits(ctx.get(), kChunkLimit, kChunkLimit);
  auto header = read_header(ctx.get(), options);
  if (!header) return header.error();

  Decoded out;
  out.decoder = Decoder::libspng;
  const Size raw{static_cast<int>(header->ihdr.width), static_cast<int>(header->ihdr.height)};
  out.source = orientation_swaps_axes(header->orientation) ? Size{raw.height, raw.width} : raw;
  out.plan = plan_thumbnail(out.source, options);
  std::optional<Pixels> pixels;
  size_t bad_idat_crc_at = 0;
  if (auto layout =
          path == PngPath::whole_first ? whole_layout(ctx.get(), *header) : std::nullopt) {
    auto whole = decode_png_whole(data, *layout, options, &bad_idat_crc_at);
    if (!whole && whole.error().kind != ErrorKind::unsupported) return whole.error();
    if (whole) pixels = std::move(whole).value();
    if (took_whole) *took_whole = pixels.has_value();
  }
  if (!pixels) {
    auto streamed = decode_with_spng(ctx.get(), *header, options, bad_idat_crc_at);
    if (!streamed) return streamed.error();
    pixels = std::move(streamed).value();
  }
  out.pixels = apply_orientation(std::move(*pixels), header->orientation);
  return out;
}

Result<Decoded> decode_png_fast(std::string_view data, const ThumbOptions& options) {
  return decode_png(data, options, PngPath::whole_first);
}

}  // namespace thumbfetch
