// The whole-buffer PNG decode (png_decode.hpp): the IDAT chunks checked against their CRCs and
// joined, inflated by libdeflate in one call into a buffer of the size the header announces
// (height rows of a filter byte and the row's bytes), then each row unfiltered and converted to
// the 8-bit layout libspng would have produced. Anything unusual declines (ErrorKind::unsupported)
// and libspng's streaming decode, the path of record, decides as it did before this path existed.
#include <libdeflate.h>

#include <cstring>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "thumbfetch/thumbnail/png_decode.hpp"
#include "thumbfetch/thumbnail/png_unfilter.hpp"
#include "thumbfetch/util/big_endian.hpp"

namespace thumbfetch {

namespace {

using u8 = std::uint8_t;
using Bytes = std::vector<u8, UninitialisedAllocator<u8>>;

// The inflated rows are held whole beside the output pixels; above this libspng streams them.
constexpr std::uint64_t kMaxInflatedBytes = std::uint64_t{64} << 20;

struct DecompressorFree {
  void operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
};

// The payloads of the IDAT chunks in file order, each checked against its CRC. The chunks before
// the first IDAT libspng has checked; those after the last one play no part in the pixels.
struct IdatScan {
  std::vector<std::string_view> payloads;
  bool complete = false;      // false: no IDAT, or a chunk is cut short
  size_t bad_crc_offset = 0;  // where an IDAT chunk failing its CRC starts (0: none)
};

IdatScan scan_idat(std::string_view png) {
  IdatScan scan;
  size_t pos = 8;  // after the signature
  while (png.size() - pos >= 12) {
    const std::uint32_t length = big_endian32(png.data() + pos);
    if (length > 0x7fffffffu || png.size() - pos - 12 < length) return scan;
    const std::string_view type_and_data = png.substr(pos + 4, 4 + size_t{length});
    if (type_and_data.substr(0, 4) == "IDAT") {
      const std::uint32_t crc = big_endian32(png.data() + pos + 8 + length);
      if (libdeflate_crc32(0, type_and_data.data(), type_and_data.size()) != crc) {
        scan.bad_crc_offset = pos;
        return scan;
      }
      scan.payloads.push_back(type_and_data.substr(4));
    } else if (!scan.payloads.empty()) {
      scan.complete = true;
      return scan;
    }
    pos += 12 + size_t{length};
  }
  // The file ends in the IDAT sequence or in the next chunk's header: a missing IEND is of no
  // consequence (libspng never reads it); missing image data shows when it is inflated.
  scan.complete = !scan.payloads.empty();
  return scan;
}

// What a thread keeps from one PNG to the next: the decompressor, and the buffers for the joined
// IDAT data and the inflated rows, so that a run of PNGs does not fault fresh pages in for every
// image (a serial run over the corpus's 58 PNGs: 39,000 page faults with fresh buffers, 17,500
// with these). Buffers grown past kKeepBytes are let go after their image.
struct Scratch {
  std::unique_ptr<libdeflate_decompressor, DecompressorFree> decompressor{
      libdeflate_alloc_decompressor()};
  Bytes joined;
  Bytes rows;
};

constexpr size_t kKeepBytes = 8 << 20;  // a 1600x1200 RGBA PNG inflates to 7.7 MB

// Sizes `buffer` to `n` bytes whose old contents do not matter (never copied on growth).
void size_for_overwrite(Bytes& buffer, size_t n) {
  if (buffer.capacity() < n) {
    Bytes().swap(buffer);
    buffer.reserve(n);
  }
  buffer.resize(n);
}

// One cap on both buffers together, so a pool of N threads keeps at most N x kKeepBytes between
// images (and the serial strategy's calling thread, which may live as long as a Python process).
struct ScratchTrim {
  Scratch& scratch;
  ~ScratchTrim() {
    if (scratch.joined.capacity() + scratch.rows.capacity() <= kKeepBytes) return;
    Bytes().swap(scratch.joined);
    if (scratch.rows.capacity() > kKeepBytes) Bytes().swap(scratch.rows);
  }
};

// Inflates the zlib stream the payloads make into exactly `size` bytes of scratch.rows: a stream
// that ends early, runs on past `size`, or fails its Adler-32 gives false.
bool inflate_exactly(const std::vector<std::string_view>& payloads, size_t size, Scratch& scratch) {
  if (!scratch.decompressor) return false;
  std::string_view stream = payloads.front();
  if (payloads.size() > 1) {
    size_t total = 0;
    for (std::string_view p : payloads) total += p.size();
    size_for_overwrite(scratch.joined, total);
    u8* at = scratch.joined.data();
    for (std::string_view p : payloads) {
      at = static_cast<u8*>(std::memcpy(at, p.data(), p.size())) + p.size();
    }
    stream = std::string_view(reinterpret_cast<const char*>(scratch.joined.data()), total);
  }
  size_for_overwrite(scratch.rows, size);
  return libdeflate_zlib_decompress(scratch.decompressor.get(), stream.data(), stream.size(),
                                    scratch.rows.data(), size, nullptr) == LIBDEFLATE_SUCCESS;
}

int channels(int colour_type) {
  switch (colour_type) {
    case 0:
    case 3:
      return 1;
    case 2:
      return 3;
    case 4:
      return 2;
    default:
      return 4;
  }
}

// Sample `x` of a row of 1, 2, 4 or 8-bit samples, packed from the high bits down.
inline unsigned packed_sample(const u8* row, int x, int depth) {
  if (depth == 8) return row[x];
  const int bit = x * depth;
  return (row[bit >> 3] >> (8 - depth - (bit & 7))) & ((1u << depth) - 1);
}

// Grey of 1-8 bits to G8 (GA8 with tRNS): samples scaled by bit replication, alpha 0 where the
// stored sample equals the tRNS grey, as libspng does.
void grey_row(const PngLayout& layout, const u8* in, u8* out) {
  const unsigned mask = (1u << layout.bit_depth) - 1;
  const unsigned scale = 255 / mask;
  const unsigned transparent = layout.trns_colour[0] & mask;
  for (int x = 0; x < layout.width; ++x) {
    const unsigned s = packed_sample(in, x, layout.bit_depth);
    if (layout.apply_trns) {
      out[2 * x] = static_cast<u8>(s * scale);
      out[2 * x + 1] = s == transparent ? 0 : 255;
    } else {
      out[x] = static_cast<u8>(s * scale);
    }
  }
}

// RGB of 8 or 16 bits to RGB8 (RGBA8 with tRNS): 16-bit samples keep their high byte, the tRNS
// colour is compared with the samples at their own depth.
void rgb_row(const PngLayout& layout, const u8* in, u8* out) {
  const int step = layout.bit_depth / 8;
  const unsigned mask = layout.bit_depth == 16 ? 0xffffu : 0xffu;
  const int bands = layout.bands;
  for (int x = 0; x < layout.width; ++x, in += 3 * step, out += bands) {
    bool match = true;
    for (int c = 0; c < 3; ++c) {
      const unsigned s = step == 2 ? (unsigned{in[2 * c]} << 8 | in[2 * c + 1]) : in[c];
      match = match && s == (layout.trns_colour[c] & mask);
      out[c] = in[c * step];
    }
    if (bands == 4) out[3] = layout.apply_trns && match ? 0 : 255;
  }
}

void rgba16_row(const PngLayout& layout, const u8* in, u8* out) {
  const size_t n = size_t(layout.width) * 4;
  for (size_t i = 0; i < n; ++i) out[i] = in[2 * i];
}

void palette_row(const PngLayout& layout, const u8* in, u8* out) {
  const int bands = layout.bands;
  for (int x = 0; x < layout.width; ++x, out += bands) {
    std::memcpy(out, &layout.palette[packed_sample(in, x, layout.bit_depth) * 4], bands);
  }
}

// Rows of 8-bit samples already in the output layout are unfiltered straight into the output.
bool stored_as_output(const PngLayout& layout) {
  return layout.bit_depth == 8 && !layout.apply_trns && layout.colour_type != 3;
}

void convert_row(const PngLayout& layout, const u8* in, u8* out) {
  switch (layout.colour_type) {
    case 0:
      return grey_row(layout, in, out);
    case 2:
      return rgb_row(layout, in, out);
    case 3:
      return palette_row(layout, in, out);
    default:  // 6, 16-bit (4 reaches here only as 8-bit, stored as output)
      return rgba16_row(layout, in, out);
  }
}

// Unfilters every row of `rows` (a filter byte, then `row_bytes`) into `out`. Returns the first
// row with an unknown filter type, or -1.
int unfilter_rows(const PngLayout& layout, Bytes& rows, size_t row_bytes, Pixels& out) {
  const int bpp = std::max(1, channels(layout.colour_type) * layout.bit_depth / 8);
  const bool direct = stored_as_output(layout);
  const std::vector<u8> zeros(row_bytes, 0);
  const u8* prev = zeros.data();
  for (int y = 0; y < layout.height; ++y) {
    u8* filtered = rows.data() + size_t(y) * (row_bytes + 1);
    u8* samples = direct ? out.row(y) : filtered + 1;  // else unfiltered in place
    if (!unfilter_row(filtered[0], filtered + 1, samples, prev, row_bytes, bpp)) return y;
    if (!direct) convert_row(layout, samples, out.row(y));
    prev = samples;
  }
  return -1;
}

Error decline(const char* why) {
  return make_error(ErrorKind::unsupported, why);
}

}  // namespace

Result<Pixels> decode_png_whole(std::string_view data, const PngLayout& layout,
                                const ThumbOptions& options, size_t* bad_idat_crc_at) {
  const std::uint64_t row_bytes =
      (std::uint64_t(layout.width) * channels(layout.colour_type) * layout.bit_depth + 7) / 8;
  const std::uint64_t size = std::uint64_t(layout.height) * (row_bytes + 1);
  if (size > kMaxInflatedBytes) return decline("large: libspng streams it");
  const IdatScan scan = scan_idat(data);
  if (bad_idat_crc_at) *bad_idat_crc_at = scan.bad_crc_offset;
  if (scan.bad_crc_offset) return decline("an IDAT chunk fails its CRC check");
  if (!scan.complete) return decline("an IDAT chunk is cut short");
  static thread_local Scratch scratch;
  const ScratchTrim trim{scratch};
  if (!inflate_exactly(scan.payloads, size, scratch)) {
    return decline("the image data does not inflate to the size the header announces");
  }
  Bytes& rows = scratch.rows;
  Pixels pixels(layout.width, layout.height, layout.bands);
  if (const int bad_row = unfilter_rows(layout, rows, row_bytes, pixels); bad_row >= 0) {
    // libpng refuses it too; with --allow-truncated libvips may keep the rows above it.
    if (options.allow_truncated) return decline("unknown filter type");
    return make_error(ErrorKind::corrupt,
                      fmt::format("corrupt PNG: row {} has filter type {} (PNG defines 0 to 4)",
                                  bad_row, rows[size_t(bad_row) * (row_bytes + 1)]));
  }
  return pixels;
}

}  // namespace thumbfetch
