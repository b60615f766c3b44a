#include "thumbfetch/thumbnail/bmp.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <climits>
#include <cstring>

#include <fmt/format.h>

#include "thumbfetch/thumbnail/decoded.hpp"

namespace thumbfetch {

namespace {

enum Compression : std::uint32_t {
  kRgb = 0,
  kRle8 = 1,
  kRle4 = 2,
  kBitfields = 3,
  kJpeg = 4,
  kPng = 5,
  kAlphaBitfields = 6,
};

constexpr std::uint64_t kFileHeader = 14;

// Little-endian reads; every caller checks `has` first.
struct Bytes {
  std::string_view d;
  bool has(std::uint64_t offset, std::uint64_t n) const {
    return offset <= d.size() && n <= d.size() - offset;
  }
  std::uint8_t u8(std::uint64_t o) const { return static_cast<std::uint8_t>(d[o]); }
  std::uint16_t u16(std::uint64_t o) const { return std::uint16_t(u8(o) | (u8(o + 1) << 8)); }
  std::uint32_t u32(std::uint64_t o) const { return u16(o) | (std::uint32_t(u16(o + 2)) << 16); }
  std::int32_t i32(std::uint64_t o) const { return static_cast<std::int32_t>(u32(o)); }
};

Error corrupt(std::string what) {
  return make_error(ErrorKind::corrupt, "corrupt BMP: " + std::move(what));
}

Error truncated(std::string what) {
  return make_error(ErrorKind::truncated, "truncated BMP: " + std::move(what) +
                                              " (--allow-truncated keeps what decodes)");
}

// One channel of a bit-field pixel: where it sits and how wide it is.
struct Channel {
  int shift = 0;
  int bits = 0;  // 0: the channel is absent

  std::uint8_t get(std::uint32_t pixel) const {
    if (bits == 0) return 0;
    const std::uint32_t v = (pixel >> shift) & (bits == 32 ? ~0u : (1u << bits) - 1);
    if (bits >= 8) return static_cast<std::uint8_t>(v >> (bits - 8));
    // Narrow channels are scaled to 0..255 as Pillow does (5 bits: v * 255 / 31, truncated).
    return static_cast<std::uint8_t>(v * 255 / ((1u << bits) - 1));
  }
};

Result<Channel> channel_of(std::uint32_t mask) {
  if (mask == 0) return Channel{};
  const int shift = std::countr_zero(mask);
  const std::uint32_t run = mask >> shift;
  if ((run & (run + 1)) != 0) return corrupt(fmt::format("bit field mask {:#x} has gaps", mask));
  return Channel{shift, std::popcount(run)};
}

// What the headers say, checked.
struct Header {
  std::int64_t width = 0;
  std::int64_t height = 0;  // positive; `top_down` gives the row order
  bool top_down = false;
  int bits = 0;
  std::uint32_t compression = kRgb;
  std::uint32_t header_size = 0;
  std::uint32_t colours = 0;             // palette entries announced (0: 2^bits)
  int palette_entry = 4;                 // bytes per palette entry (3 in OS/2 1.x files)
  std::array<std::uint32_t, 4> masks{};  // R, G, B, A (bit fields only)
  std::uint64_t palette_offset = 0;
  std::uint64_t pixel_offset = 0;

  bool bitfields() const { return compression == kBitfields || compression == kAlphaBitfields; }
  bool rle() const { return compression == kRle8 || compression == kRle4; }
};

// Width, height, depth and compression from a Windows (40..124 bytes) or OS/2 2.x header.
Status read_info_header(const Bytes& b, Header& h) {
  const bool windows = h.header_size == 40 || h.header_size == 52 || h.header_size == 56 ||
                       h.header_size == 108 || h.header_size == 124;
  h.width = b.i32(18);
  const std::int64_t height = b.i32(22);
  h.top_down = height < 0;
  h.height = height < 0 ? -height : height;
  h.bits = b.u16(28);
  h.compression = h.header_size >= 20 ? b.u32(30) : kRgb;
  h.colours = h.header_size >= 36 ? b.u32(46) : 0;
  if (!windows && (h.compression == 3 || h.compression == 4)) {
    return make_error(ErrorKind::unsupported,
                      fmt::format("unsupported BMP compression (OS/2 {})",
                                  h.compression == 3 ? "Huffman 1D" : "RLE24"));
  }
  if (h.compression == kJpeg || h.compression == kPng) {
    return make_error(ErrorKind::unsupported,
                      fmt::format("unsupported BMP compression (an embedded {})",
                                  h.compression == kJpeg ? "JPEG" : "PNG"));
  }
  if (!h.bitfields()) return Ok{};
  // Masks: inside V2+ headers, else right after the 40-byte header.
  const int count = h.compression == kAlphaBitfields || h.header_size >= 56 ? 4 : 3;
  const std::uint64_t at = kFileHeader + 40;
  if (!b.has(at, 4 * count)) return truncated("the file ends inside its bit field masks");
  for (int i = 0; i < count; ++i) h.masks[i] = b.u32(at + 4 * i);
  if (h.header_size == 40) h.palette_offset += 4 * count;
  return Ok{};
}

Status check_layout(const Header& h) {
  if (h.width <= 0 || h.height <= 0 || h.height > INT_MAX) {
    return corrupt(fmt::format("bad dimensions {}x{}", h.width, h.height));
  }
  static constexpr std::array<int, 7> kBits = {1, 2, 4, 8, 16, 24, 32};
  if (std::find(kBits.begin(), kBits.end(), h.bits) == kBits.end()) {
    return make_error(ErrorKind::unsupported, fmt::format("unsupported BMP bit depth {}", h.bits));
  }
  const bool fits = h.compression == kRgb || (h.compression == kRle8 && h.bits == 8) ||
                    (h.compression == kRle4 && h.bits == 4) || (h.bitfields() && h.bits >= 16);
  if (!fits) {
    return corrupt(
        fmt::format("compression {} does not go with {} bits per pixel", h.compression, h.bits));
  }
  return Ok{};
}

std::uint64_t palette_count(const Header& h) {
  if (h.bits > 8) return 0;
  const std::uint64_t most = 1u << h.bits;
  return h.colours == 0 ? most : std::min<std::uint64_t>(h.colours, most);
}

// Where the pixels start: the header's offset, checked against the file.
Status locate_pixels(const Bytes& b, Header& h) {
  const std::uint64_t palette_bytes = palette_count(h) * h.palette_entry;
  if (h.pixel_offset == 0) h.pixel_offset = h.palette_offset + palette_bytes;
  // Some writers leave the palette out of the offset; Pillow reads those, and so do we.
  if (h.pixel_offset == kFileHeader + h.header_size && h.bits <= 8) h.pixel_offset += palette_bytes;
  if (h.pixel_offset > b.d.size()) {
    return corrupt(fmt::format("the pixel data offset {} is past the end of the file ({} bytes)",
                               h.pixel_offset, b.d.size()));
  }
  if (h.pixel_offset < h.palette_offset) {
    return corrupt(fmt::format("the pixel data offset {} points into the headers", h.pixel_offset));
  }
  return Ok{};
}

Result<Header> parse_header(const Bytes& b, const BmpLimits& limits) {
  if (b.d.substr(0, 2) != "BM") return corrupt("no BM signature");
  if (!b.has(0, kFileHeader + 4)) return truncated("the file ends inside its header");
  Header h;
  h.pixel_offset = b.u32(10);
  h.header_size = b.u32(14);
  if (h.header_size < 12 || h.header_size > 124 || (h.header_size > 12 && h.header_size < 16)) {
    return corrupt(fmt::format("unknown header size {}", h.header_size));
  }
  if (!b.has(kFileHeader, h.header_size)) return truncated("the file ends inside its header");
  h.palette_offset = kFileHeader + h.header_size;
  if (h.header_size == 12) {  // OS/2 1.x: 16-bit sizes, 3-byte palette entries
    h.width = b.u16(18);
    h.height = b.u16(20);
    h.bits = b.u16(24);
    h.palette_entry = 3;
  } else if (auto st = read_info_header(b, h); !st) {
    return st.error();
  }
  if (auto st = check_layout(h); !st) return st.error();
  if (auto st = check_pixel_limit({int(h.width), int(h.height)}, limits.max_pixels); !st) {
    return st.error();
  }
  if (auto st = locate_pixels(b, h); !st) return st.error();
  return h;
}

struct Palette {
  std::array<std::array<std::uint8_t, 3>, 256> rgb{};  // entries the file lacks stay black
  bool grey = true;
};

Palette read_palette(const Bytes& b, const Header& h) {
  Palette p;
  std::uint64_t count = palette_count(h);
  // Never read pixel data as palette entries.
  count = std::min<std::uint64_t>(count, (h.pixel_offset - h.palette_offset) / h.palette_entry);
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t at = h.palette_offset + i * h.palette_entry;
    p.rgb[i] = {b.u8(at + 2), b.u8(at + 1), b.u8(at)};
  }
  for (std::uint64_t i = 0; i < palette_count(h); ++i) {
    p.grey = p.grey && p.rgb[i][0] == p.rgb[i][1] && p.rgb[i][1] == p.rgb[i][2];
  }
  return p;
}

// Writes palette entries into the output (1 band for a grey palette, else 3).
struct PaletteWriter {
  const Palette& palette;
  Pixels& out;

  void put(std::uint8_t* row, std::int64_t x, unsigned index) const {
    const auto& c = palette.rgb[index & 0xFF];
    if (out.bands == 1) {
      row[x] = c[0];
    } else {
      std::memcpy(row + 3 * x, c.data(), 3);
    }
  }
};

std::uint8_t* output_row(Pixels& out, const Header& h, std::int64_t stored_row) {
  return out.row(static_cast<int>(h.top_down ? stored_row : h.height - 1 - stored_row));
}

void decode_palette_row(const std::uint8_t* src, std::uint8_t* row, const Header& h,
                        const PaletteWriter& writer) {
  const int per_byte = 8 / h.bits;
  const unsigned mask = (1u << h.bits) - 1;
  for (std::int64_t x = 0; x < h.width; ++x) {
    const int shift = 8 - h.bits * (1 + int(x % per_byte));
    writer.put(row, x, (src[x / per_byte] >> shift) & mask);
  }
}

struct DirectFormat {
  std::array<Channel, 4> channel;  // R, G, B, A
  bool alpha = false;
};

Result<DirectFormat> direct_format(const Header& h) {
  std::array<std::uint32_t, 4> masks = h.masks;
  const bool all_zero = masks == std::array<std::uint32_t, 4>{};
  if (!h.bitfields() || all_zero) {  // BI_RGB: 16 bits are 5-5-5; 24 and 32 are B, G, R (X)
    masks = h.bits == 16 ? std::array<std::uint32_t, 4>{0x7C00, 0x3E0, 0x1F, 0}
                         : std::array<std::uint32_t, 4>{0xFF0000, 0xFF00, 0xFF, 0};
  }
  DirectFormat f;
  for (int i = 0; i < 4; ++i) {
    auto c = channel_of(masks[i]);
    if (!c) return c.error();
    f.channel[i] = *c;
  }
  f.alpha = f.channel[3].bits > 0;
  return f;
}

void decode_direct_row(const std::uint8_t* src, std::uint8_t* row, const Header& h,
                       const DirectFormat& f) {
  const int step = h.bits / 8;
  const int bands = f.alpha ? 4 : 3;
  for (std::int64_t x = 0; x < h.width; ++x) {
    std::uint32_t pixel = 0;
    for (int i = 0; i < step; ++i) pixel |= std::uint32_t(src[x * step + i]) << (8 * i);
    for (int c = 0; c < bands; ++c) row[x * bands + c] = f.channel[c].get(pixel);
  }
}

// Alpha that is zero everywhere is a writer's unused fourth byte, not a fully transparent
// picture: browsers show such images opaque, and so do we.
Pixels drop_unused_alpha(Pixels image) {
  for (size_t i = 3; i < image.data.size(); i += 4) {
    if (image.data[i] != 0) return image;
  }
  Pixels rgb(image.width, image.height, 3);
  for (size_t i = 0, j = 0; i < image.data.size(); i += 4, j += 3) {
    std::memcpy(&rgb.data[j], &image.data[i], 3);
  }
  return rgb;
}

Result<Pixels> decode_uncompressed(const Bytes& b, const Header& h, const BmpLimits& limits) {
  const std::uint64_t stride = (std::uint64_t(h.width) * h.bits + 31) / 32 * 4;
  const std::uint64_t available = b.d.size() - h.pixel_offset;
  const std::int64_t rows = std::int64_t(std::min<std::uint64_t>(h.height, available / stride));
  if (rows < h.height && !limits.allow_truncated) {
    return truncated(fmt::format("{} rows of {} bytes need {} bytes, the file holds {}", h.height,
                                 stride, stride * std::uint64_t(h.height), available));
  }
  DirectFormat format;
  Palette palette;
  int bands = 3;
  if (h.bits <= 8) {
    palette = read_palette(b, h);
    bands = palette.grey ? 1 : 3;
  } else {
    auto f = direct_format(h);
    if (!f) return f.error();
    format = *f;
    bands = format.alpha ? 4 : 3;
  }
  Pixels out(int(h.width), int(h.height), bands);
  if (rows < h.height) std::fill(out.data.begin(), out.data.end(), 0);  // missing rows: black
  const PaletteWriter writer{palette, out};
  for (std::int64_t r = 0; r < rows; ++r) {
    const auto* src =
        reinterpret_cast<const std::uint8_t*>(b.d.data() + h.pixel_offset) + r * stride;
    if (h.bits <= 8) {
      decode_palette_row(src, output_row(out, h, r), h, writer);
    } else {
      decode_direct_row(src, output_row(out, h, r), h, format);
    }
  }
  return format.alpha ? drop_unused_alpha(std::move(out)) : std::move(out);
}

// RLE8 / RLE4, bottom-up. Runs are clipped at the end of their row (as Pillow and browsers do);
// a literal run past the row's end or a jump out of the image is an error; pixels no run sets
// keep palette entry 0.
class RleDecoder {
 public:
  RleDecoder(const Bytes& b, const Header& h, Pixels& out, const PaletteWriter& writer)
      : b_(b), h_(h), out_(out), writer_(writer), pos_(h.pixel_offset) {}

  Status run(bool allow_truncated) {
    while (row_ < h_.height) {
      if (!b_.has(pos_, 2)) return ran_out(allow_truncated);
      const unsigned count = b_.u8(pos_), value = b_.u8(pos_ + 1);
      pos_ += 2;
      if (count > 0) {
        encoded(count, value);
      } else if (value == 0) {  // end of line
        x_ = 0;
        ++row_;
      } else if (value == 1) {  // end of bitmap
        return Ok{};
      } else if (value == 2) {
        if (auto st = delta(allow_truncated); !st || done_) return st;
      } else if (auto st = literal(value, allow_truncated); !st || done_) {
        return st;
      }
    }
    return Ok{};
  }

 private:
  bool rle4() const { return h_.compression == kRle4; }
  std::uint8_t* row() { return output_row(out_, h_, row_); }

  void encoded(unsigned count, unsigned value) {
    const std::int64_t n = std::min<std::int64_t>(count, h_.width - x_);
    std::uint8_t* dst = row();
    for (std::int64_t i = 0; i < n; ++i) {
      writer_.put(dst, x_ + i, rle4() ? (i % 2 == 0 ? value >> 4 : value & 0x0F) : value);
    }
    x_ += n;
  }

  Status delta(bool allow_truncated) {
    if (!b_.has(pos_, 2)) return ran_out(allow_truncated);
    const unsigned dx = b_.u8(pos_), dy = b_.u8(pos_ + 1);
    pos_ += 2;
    if (x_ + dx > h_.width || row_ + dy > h_.height) {
      return corrupt(fmt::format("an RLE jump of ({}, {}) from ({}, {}) leaves the {}x{} image", dx,
                                 dy, x_, row_, h_.width, h_.height));
    }
    x_ += dx;
    row_ += dy;
    return Ok{};
  }

  Status literal(unsigned count, bool allow_truncated) {
    if (x_ + count > h_.width) {
      return corrupt(fmt::format("an RLE run of {} pixels at x={} overruns row {} ({} pixels wide)",
                                 count, x_, row_, h_.width));
    }
    const std::uint64_t bytes = rle4() ? (count + 1) / 2 : count;
    if (!b_.has(pos_, bytes)) return ran_out(allow_truncated);
    std::uint8_t* dst = row();
    for (unsigned i = 0; i < count; ++i) {
      const unsigned byte = b_.u8(pos_ + (rle4() ? i / 2 : i));
      writer_.put(dst, x_ + i, rle4() ? (i % 2 == 0 ? byte >> 4 : byte & 0x0F) : byte);
    }
    x_ += count;
    pos_ += bytes + (bytes & 1);  // literal runs are padded to 16 bits
    return Ok{};
  }

  Status ran_out(bool allow_truncated) {
    done_ = true;
    if (allow_truncated) return Ok{};
    return truncated(fmt::format("the RLE data ends at row {} of {}", row_, h_.height));
  }

  const Bytes& b_;
  const Header& h_;
  Pixels& out_;
  const PaletteWriter& writer_;
  std::uint64_t pos_;
  std::int64_t x_ = 0;
  std::int64_t row_ = 0;
  bool done_ = false;
};

Result<Pixels> decode_rle(const Bytes& b, const Header& h, const BmpLimits& limits) {
  const Palette palette = read_palette(b, h);
  Pixels out(int(h.width), int(h.height), palette.grey ? 1 : 3);
  const PaletteWriter writer{palette, out};
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) writer.put(out.row(y), x, 0);
  }
  RleDecoder decoder(b, h, out, writer);
  if (auto st = decoder.run(limits.allow_truncated); !st) return st.error();
  return out;
}

}  // namespace

Result<Size> bmp_size(std::string_view data, const BmpLimits& limits) {
  auto header = parse_header(Bytes{data}, limits);
  if (!header) return header.error();
  return Size{int(header->width), int(header->height)};
}

Result<Pixels> decode_bmp(std::string_view data, const BmpLimits& limits) {
  const Bytes b{data};
  auto header = parse_header(b, limits);
  if (!header) return header.error();
  return header->rle() ? decode_rle(b, *header, limits) : decode_uncompressed(b, *header, limits);
}

}  // namespace thumbfetch
