// Our BMP decoder on bytes made here, one file per variant (palette depths, RLE8/RLE4, 16-bit
// 555/565, 24/32-bit, bit fields with alpha, top-down, OS/2 headers), each checked pixel by
// pixel; hostile files (huge or bad dimensions, truncated, bad offsets, RLE overruns) fail with
// their own message and the next good image still succeeds, under every strategy. Also the
// BMPs of the public collections.
#include <gtest/gtest.h>

#include <array>
#include <climits>
#include <functional>
#include <optional>

#include "support/image_fixtures.hpp"
#include "support/temp_dir.hpp"
#include "thumbfetch/thumbnail/bmp.hpp"
#include "thumbfetch/thumbnail/strategy.hpp"
#include "thumbfetch/thumbnail/thumbnailer.hpp"
#include "thumbfetch/util/atomic_file.hpp"

using namespace thumbfetch;
using namespace thumbfetch::test;
namespace fs = std::filesystem;

namespace {

using Rgb3 = std::array<std::uint8_t, 3>;
using Rgba = std::array<std::uint8_t, 4>;

std::string le16(unsigned v) {
  return {char(v & 0xFF), char((v >> 8) & 0xFF)};
}
std::string le32(std::uint32_t v) {
  return le16(v & 0xFFFF) + le16(v >> 16);
}

// A BMP file to write: headers as given, `pixels` as the stored bytes.
struct BmpFile {
  int header = 40;  // 12 (OS/2 1.x), 40, 56, 64 (OS/2 2.x), 108, 124
  int width = 5;
  int height = 3;
  int bits = 24;
  std::uint32_t compression = 0;
  bool top_down = false;
  std::array<std::uint32_t, 4> masks{};  // R, G, B, A: in the header (>= 56), else after it
  std::vector<Rgb3> palette;
  std::string pixels;
  std::optional<std::uint32_t> offset;  // the pixel data offset; default: right after the palette
  std::optional<std::int32_t> raw_height;  // overrides the height field as written
};

std::string info_header(const BmpFile& f) {
  if (f.header == 12) {
    return le32(12) + le16(f.width) + le16(f.height) + le16(1) + le16(f.bits);
  }
  const std::int32_t height = f.raw_height.value_or(f.top_down ? -f.height : f.height);
  std::string h = le32(f.header) + le32(f.width) + le32(std::uint32_t(height)) + le16(1) +
                  le16(f.bits) + le32(f.compression) + le32(f.pixels.size()) + le32(2835) +
                  le32(2835) + le32(std::uint32_t(f.palette.size())) + le32(0);
  if (f.header >= 56 && f.header != 64) {
    for (std::uint32_t m : f.masks) h += le32(m);
  }
  h.resize(f.header, '\0');
  return h;
}

std::string bmp_bytes(const BmpFile& f) {
  std::string after = info_header(f);
  const bool bitfields = f.compression == 3 || f.compression == 6;
  if (bitfields && f.header == 40) {
    for (int i = 0; i < (f.compression == 6 ? 4 : 3); ++i) after += le32(f.masks[i]);
  }
  for (const Rgb3& c : f.palette) {
    after += std::string{char(c[2]), char(c[1]), char(c[0])};
    if (f.header != 12) after += '\0';
  }
  const std::uint32_t offset = f.offset.value_or(14 + std::uint32_t(after.size()));
  return "BM" + le32(14 + after.size() + f.pixels.size()) + le32(0) + le32(offset) + after +
         f.pixels;
}

// Stored rows (bottom-up unless top_down), each padded to 4 bytes; `value` is a palette index
// or a packed pixel of `bits` bits (little-endian).
std::string pack_rows(int w, int h, int bits, bool top_down,
                      const std::function<std::uint32_t(int, int)>& value) {
  std::string out;
  const size_t stride = (size_t(w) * bits + 31) / 32 * 4;
  for (int r = 0; r < h; ++r) {
    const int y = top_down ? r : h - 1 - r;
    std::string row(stride, '\0');
    for (int x = 0; x < w; ++x) {
      const std::uint32_t v = value(x, y);
      if (bits < 8) {
        const int per_byte = 8 / bits;
        row[x / per_byte] |= char(v << (8 - bits * (1 + x % per_byte)));
      } else {
        for (int i = 0; i < bits / 8; ++i) row[x * (bits / 8) + i] = char(v >> (8 * i));
      }
    }
    out += row;
  }
  return out;
}

// Eight colours no two alike and none grey, then more.
Rgb3 palette_colour(int i) {
  return {std::uint8_t(30 + 25 * i), std::uint8_t(200 - 11 * i), std::uint8_t((i * 97) % 256)};
}
std::vector<Rgb3> colour_palette(int n) {
  std::vector<Rgb3> p;
  for (int i = 0; i < n; ++i) p.push_back(palette_colour(i));
  return p;
}

int pattern_index(int x, int y, int n) {
  return (x + 3 * y) % n;
}

// A direct-colour pattern (alpha included).
Rgba direct_colour(int x, int y) {
  return {std::uint8_t(50 * x + 7), std::uint8_t(100 * y + 20),
          std::uint8_t((70 * x + 45 * y) % 256), std::uint8_t(40 * x + 9)};
}

// What a channel of `c` reads back as through a mask: its top bits, scaled to 0..255 as Pillow
// scales them (v * 255 / max, truncated).
Rgba through_masks(const Rgba& c, const std::array<std::uint32_t, 4>& masks) {
  Rgba out{0, 0, 0, 255};
  for (int i = 0; i < 4; ++i) {
    const int bits = __builtin_popcount(masks[i]);
    if (bits == 0) continue;
    const unsigned v = c[i] >> (8 - bits);
    out[i] = std::uint8_t(bits == 8 ? v : v * 255 / ((1u << bits) - 1));
  }
  return out;
}

Pixels decode_ok(const BmpFile& f) {
  auto pixels = decode_bmp(bmp_bytes(f), {});
  EXPECT_TRUE(pixels.ok()) << (pixels.ok() ? "" : pixels.error().message);
  return pixels.ok() ? std::move(pixels).value() : Pixels();
}

void expect_pixels(const Pixels& p, int bands, const std::function<Rgba(int, int)>& expected) {
  ASSERT_EQ(p.width, 5);
  ASSERT_EQ(p.height, 3);
  ASSERT_EQ(p.bands, bands);
  for (int y = 0; y < 3; ++y) {
    for (int x = 0; x < 5; ++x) {
      const Rgba want = expected(x, y);
      for (int c = 0; c < bands; ++c) {
        EXPECT_EQ(int(p.row(y)[x * bands + c]), int(want[c]))
            << "pixel (" << x << ", " << y << ") band " << c;
      }
    }
  }
}

void expect_palette_pattern(const BmpFile& f, int n) {
  SCOPED_TRACE(std::to_string(f.bits) + "-bit palette, header " + std::to_string(f.header));
  const Pixels p = decode_ok(f);
  expect_pixels(p, 3, [&](int x, int y) {
    const Rgb3 c = palette_colour(pattern_index(x, y, n));
    return Rgba{c[0], c[1], c[2], 255};
  });
}

BmpFile palette_file(int bits, int n, int header = 40) {
  BmpFile f;
  f.header = header;
  f.bits = bits;
  f.palette = colour_palette(n);
  f.pixels = pack_rows(5, 3, bits, false, [&](int x, int y) { return pattern_index(x, y, n); });
  return f;
}

// 16/24/32-bit pixels packed with the given masks from direct_colour.
std::uint32_t pack_with_masks(const Rgba& c, const std::array<std::uint32_t, 4>& masks) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    if (masks[i] == 0) continue;
    const int shift = __builtin_ctz(masks[i]);
    const int bits = __builtin_popcount(masks[i]);
    v |= (std::uint32_t(c[i]) >> (8 - bits)) << shift;
  }
  return v;
}

BmpFile direct_file(int bits, std::uint32_t compression, std::array<std::uint32_t, 4> masks,
                    int header = 40, bool top_down = false) {
  BmpFile f;
  f.header = header;
  f.bits = bits;
  f.compression = compression;
  f.masks = masks;
  f.top_down = top_down;
  f.pixels = pack_rows(5, 3, bits, top_down,
                       [&](int x, int y) { return pack_with_masks(direct_colour(x, y), masks); });
  return f;
}

}  // namespace

TEST(BmpDecoder, PaletteDepthsAndHeaders) {
  expect_palette_pattern(palette_file(1, 2), 2);
  expect_palette_pattern(palette_file(2, 4), 4);
  expect_palette_pattern(palette_file(4, 16), 16);
  expect_palette_pattern(palette_file(8, 200), 200);
  expect_palette_pattern(palette_file(8, 20, 12), 20);  // OS/2 1.x: 3-byte palette entries
  expect_palette_pattern(palette_file(4, 16, 64), 16);  // OS/2 2.x
  expect_palette_pattern(palette_file(8, 9, 124), 9);   // V5
}

TEST(BmpDecoder, GreyPaletteGivesOneBand) {
  BmpFile f = palette_file(8, 3);
  f.palette = {{0, 0, 0}, {128, 128, 128}, {255, 255, 255}};
  const Pixels p = decode_ok(f);
  expect_pixels(p, 1, [](int x, int y) {
    const std::uint8_t v = std::array<std::uint8_t, 3>{0, 128, 255}[pattern_index(x, y, 3)];
    return Rgba{v, v, v, 255};
  });
}

TEST(BmpDecoder, DirectColourVariants) {
  const std::array<std::uint32_t, 4> k555{0x7C00, 0x3E0, 0x1F, 0}, k565{0xF800, 0x7E0, 0x1F, 0},
      kBgr{0xFF0000, 0xFF00, 0xFF, 0}, kBgra{0xFF0000, 0xFF00, 0xFF, 0xFF000000},
      kRgba{0xFF, 0xFF00, 0xFF0000, 0xFF000000}, k4444{0xF00, 0xF0, 0xF, 0xF000};
  struct Case {
    const char* what;
    BmpFile file;
    int bands;
    std::array<std::uint32_t, 4> read_as;  // the masks the decoder must apply
  };
  const std::vector<Case> cases = {
      {"16-bit 555 (BI_RGB)", direct_file(16, 0, k555), 3, k555},
      {"16-bit 565 bit fields after a 40-byte header", direct_file(16, 3, k565), 3, k565},
      {"16-bit 565 bit fields, V4 header", direct_file(16, 3, k565, 108), 3, k565},
      {"16-bit 4444 bit fields with alpha, V5 header", direct_file(16, 3, k4444, 124), 4, k4444},
      {"24-bit bottom-up", direct_file(24, 0, kBgr), 3, kBgr},
      {"24-bit top-down", direct_file(24, 0, kBgr, 40, true), 3, kBgr},
      {"32-bit BGRX (BI_RGB: the fourth byte is not alpha)", direct_file(32, 0, kBgra), 3, kBgr},
      {"32-bit BGRA bit fields, V5 header", direct_file(32, 3, kBgra, 124), 4, kBgra},
      {"32-bit RGBA bit fields, V5 header, top-down", direct_file(32, 3, kRgba, 124, true), 4,
       kRgba},
      {"32-bit alpha bit fields after a 40-byte header", direct_file(32, 6, kBgra), 4, kBgra},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const Pixels p = decode_ok(c.file);
    expect_pixels(p, c.bands,
                  [&](int x, int y) { return through_masks(direct_colour(x, y), c.read_as); });
  }
}

TEST(BmpDecoder, AlphaZeroEverywhereIsOpaque) {
  BmpFile f = direct_file(32, 3, {0xFF0000, 0xFF00, 0xFF, 0xFF000000}, 124);
  for (size_t i = 3; i < f.pixels.size(); i += 4) f.pixels[i] = 0;
  const Pixels p = decode_ok(f);
  expect_pixels(p, 3, [](int x, int y) { return direct_colour(x, y); });  // RGB as stored
}

// RLE8 with an encoded run, a padded literal run, a jump, end-of-line, a run clipped at the
// row's end and end-of-bitmap; bottom-up; pixels no run sets are palette entry 0.
TEST(BmpDecoder, Rle8) {
  BmpFile f;
  f.bits = 8;
  f.compression = 1;
  f.palette = colour_palette(8);
  f.pixels = std::string(
      "\x02\x01\x00\x03\x05\x06\x07\x00\x00\x00"  // row 0: 1 1 5 6 7
      "\x00\x02\x01\x00\x04\x02\x00\x00"          // row 1: jump 1, 2 2 2 2
      "\x07\x03\x00\x01",                         // row 2: 7 x 3, clipped
      22);
  const std::array<std::array<int, 5>, 3> stored = {
      {{1, 1, 5, 6, 7}, {0, 2, 2, 2, 2}, {3, 3, 3, 3, 3}}};
  expect_pixels(decode_ok(f), 3, [&](int x, int y) {
    const Rgb3 c = palette_colour(stored[2 - y][x]);
    return Rgba{c[0], c[1], c[2], 255};
  });
}

TEST(BmpDecoder, Rle4) {
  BmpFile f;
  f.bits = 4;
  f.compression = 2;
  f.palette = colour_palette(16);
  f.pixels = std::string(
      "\x02\x12\x00\x03\x34\x50\x00\x00"   // row 0: 1 2 | 3 4 5
      "\x05\x67\x00\x00"                   // row 1: 6 7 6 7 6
      "\x00\x02\x02\x00\x03\x88\x00\x01",  // row 2: jump 2, 8 8 8
      20);
  const std::array<std::array<int, 5>, 3> stored = {
      {{1, 2, 3, 4, 5}, {6, 7, 6, 7, 6}, {0, 0, 8, 8, 8}}};
  expect_pixels(decode_ok(f), 3, [&](int x, int y) {
    const Rgb3 c = palette_colour(stored[2 - y][x]);
    return Rgba{c[0], c[1], c[2], 255};
  });
}

namespace {

struct Hostile {
  std::string name;
  std::string bytes;
  ErrorKind kind;
  std::string message;  // a part of the expected message
};

std::vector<Hostile> hostile_bmps() {
  std::vector<Hostile> out;
  const BmpFile good = palette_file(8, 20);
  auto with = [&](std::function<void(BmpFile&)> change) {
    BmpFile f = good;
    change(f);
    return bmp_bytes(f);
  };
  out.push_back({"huge.bmp", with([](BmpFile& f) { f.width = 100000, f.height = 100000; }),
                 ErrorKind::too_many_pixels, "too many pixels: 100000x100000"});
  out.push_back({"zero_width.bmp", with([](BmpFile& f) { f.width = 0; }), ErrorKind::corrupt,
                 "corrupt BMP: bad dimensions 0x3"});
  out.push_back({"int_min_height.bmp", with([](BmpFile& f) { f.raw_height = INT_MIN; }),
                 ErrorKind::corrupt, "corrupt BMP: bad dimensions 5x2147483648"});
  const std::string whole = bmp_bytes(good);
  out.push_back({"cut_in_pixels.bmp", whole.substr(0, whole.size() - 7), ErrorKind::truncated,
                 "truncated BMP: 3 rows of 8 bytes need 24 bytes, the file holds 17"});
  out.push_back({"cut_in_header.bmp", whole.substr(0, 30), ErrorKind::truncated,
                 "truncated BMP: the file ends inside its header"});
  out.push_back({"offset_past_end.bmp", with([](BmpFile& f) { f.offset = 1u << 30; }),
                 ErrorKind::corrupt, "pixel data offset 1073741824 is past the end of the file"});
  out.push_back({"offset_into_header.bmp", with([](BmpFile& f) { f.offset = 20; }),
                 ErrorKind::corrupt, "pixel data offset 20 points into the headers"});
  out.push_back({"header_size.bmp", with([](BmpFile& f) { f.header = 200; }), ErrorKind::corrupt,
                 "corrupt BMP: unknown header size 200"});
  out.push_back({"bits_3.bmp", with([](BmpFile& f) { f.bits = 3; }), ErrorKind::unsupported,
                 "unsupported BMP bit depth 3"});
  out.push_back({"mask_gaps.bmp", bmp_bytes(direct_file(16, 3, {0xF00F, 0x7E0, 0x1F, 0})),
                 ErrorKind::corrupt, "bit field mask 0xf00f has gaps"});
  out.push_back({"embedded_jpeg.bmp", with([](BmpFile& f) { f.compression = 4; }),
                 ErrorKind::unsupported, "unsupported BMP compression (an embedded JPEG)"});
  BmpFile rle;
  rle.bits = 8;
  rle.compression = 1;
  rle.palette = colour_palette(8);
  auto rle_with = [&](std::string stream) {
    rle.pixels = std::move(stream);
    return bmp_bytes(rle);
  };
  out.push_back({"rle_literal_overrun.bmp", rle_with(std::string("\x00\x09", 2) + "123456789\0"),
                 ErrorKind::corrupt,
                 "an RLE run of 9 pixels at x=0 overruns row 0 (5 pixels wide)"});
  out.push_back({"rle_jump_out.bmp", rle_with(std::string("\x00\x02\x00\x09", 4)),
                 ErrorKind::corrupt, "an RLE jump of (0, 9) from (0, 0) leaves the 5x3 image"});
  out.push_back({"rle_cut.bmp", rle_with(std::string("\x05\x01\x00\x00\x05", 5)),
                 ErrorKind::truncated, "truncated BMP: the RLE data ends at row 1 of 3"});
  return out;
}

}  // namespace

TEST(BmpDecoder, HostileFilesFailWithTheirOwnMessage) {
  for (const Hostile& h : hostile_bmps()) {
    SCOPED_TRACE(h.name);
    auto result = decode_bmp(h.bytes, {});
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, h.kind) << result.error().message;
    EXPECT_NE(result.error().message.find(h.message), std::string::npos) << result.error().message;
  }
}

TEST(BmpDecoder, TruncatedFilesDecodeWhenAllowed) {
  const BmpFile good = palette_file(8, 20);
  const std::string whole = bmp_bytes(good);
  BmpLimits allow;
  allow.allow_truncated = true;
  auto cut = decode_bmp(whole.substr(0, whole.size() - 7), allow);
  ASSERT_TRUE(cut.ok()) << cut.error().message;
  EXPECT_EQ(cut->size(), (Size{5, 3}));
  // The bottom two rows are stored first and survive; the top row is black.
  const Rgb3 kept = palette_colour(pattern_index(0, 2, 20));
  EXPECT_EQ(cut->row(2)[0], kept[0]);
  EXPECT_EQ(cut->row(0)[0], 0);
}

TEST(BmpDecoder, PixelLimitComesFromTheOption) {
  BmpLimits small;
  small.max_pixels = 14;
  auto refused = decode_bmp(bmp_bytes(palette_file(8, 20)), small);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::too_many_pixels);
}

TEST(BmpThumbnails, EveryVariantGivesAThumbnailOfItsSize) {
  ThumbOptions options;
  options.box = {4, 4};
  Thumbnailer thumbnailer(options);
  for (const BmpFile& f :
       {palette_file(1, 2), palette_file(8, 20, 12), direct_file(16, 0, {0x7C00, 0x3E0, 0x1F, 0}),
        direct_file(32, 3, {0xFF0000, 0xFF00, 0xFF, 0xFF000000}, 124)}) {
    auto thumb = thumbnailer.render(bmp_bytes(f));
    ASSERT_TRUE(thumb.ok()) << thumb.error().message;
    EXPECT_EQ(thumb->decoder, Decoder::bmp);
    EXPECT_EQ(thumb->size, (Size{4, 2}));  // 5x3 fitted into 4x4, Pillow's rounding
  }
}

// The BMPs of the public collections: every one thumbnails, with our decoder.
TEST(BmpThumbnails, CollectionBmpsThumbnail) {
  const fs::path collections = THUMBFETCH_SOURCE_DIR "/../shared/testimages";
  if (!fs::is_directory(collections)) GTEST_SKIP() << "no public test images";
  Thumbnailer thumbnailer(ThumbOptions{});
  int count = 0;
  for (const auto& entry : fs::recursive_directory_iterator(collections)) {
    if (entry.path().extension() != ".bmp") continue;
    ++count;
    auto thumb = thumbnailer.render(read_file(entry.path()).value());
    EXPECT_TRUE(thumb.ok()) << entry.path() << ": " << thumb.error().message;
  }
  EXPECT_GT(count, 100);
}

// Hostile BMPs interleaved with good images, under every strategy: each bad file fails with its
// own message and kind, and every good image after it succeeds.
TEST(BmpThumbnails, HostileFilesFailAloneUnderEveryStrategy) {
  TempDir dir;
  std::vector<ThumbJob> jobs;
  std::vector<std::optional<Hostile>> expected;
  const std::vector<Hostile> hostile = hostile_bmps();
  write_text(dir / "good.bmp", bmp_bytes(palette_file(4, 16)));
  write_quadrant_jpeg(dir / "good.jpg", 300, 200);
  for (size_t i = 0; i < hostile.size(); ++i) {
    write_text(dir / hostile[i].name, hostile[i].bytes);
    jobs.push_back({dir / hostile[i].name, dir / "out" / ("bad" + std::to_string(i))});
    expected.push_back(hostile[i]);
    jobs.push_back(
        {dir / (i % 2 ? "good.jpg" : "good.bmp"), dir / "out" / ("good" + std::to_string(i))});
    expected.push_back(std::nullopt);
  }
  const std::vector<std::pair<ThumbStrategyKind, int>> runs = {
      {ThumbStrategyKind::serial, 1},
      {ThumbStrategyKind::threads, 2},
      {ThumbStrategyKind::processes, 2},
  };
  for (const auto& [kind, workers] : runs) {
    SCOPED_TRACE(std::string(to_string(kind)) + " x" + std::to_string(workers));
    fs::remove_all(dir / "out");
    fs::create_directories(dir / "out");
    ThumbRunConfig config;
    config.workers = workers;
    config.timeout_seconds = kind == ThumbStrategyKind::processes ? 60 : 0;
    config.worker_exe = THUMBFETCH_EXE;
    const auto results = make_thumb_strategy(kind, config)->run(jobs, {});
    ASSERT_EQ(results.size(), jobs.size());
    for (size_t i = 0; i < jobs.size(); ++i) {
      if (!expected[i]) {
        EXPECT_EQ(results[i].state, ThumbResult::State::done)
            << jobs[i].input.filename() << ": " << results[i].error.message;
        continue;
      }
      EXPECT_EQ(results[i].state, ThumbResult::State::failed) << expected[i]->name;
      EXPECT_EQ(results[i].error.kind, expected[i]->kind) << expected[i]->name;
      EXPECT_NE(results[i].error.message.find(expected[i]->message), std::string::npos)
          << expected[i]->name << ": " << results[i].error.message;
    }
  }
}
