// The whole-buffer PNG path (libdeflate + our unfilter) held against libspng's streaming decode,
// the path of record: the same pixels on PNGs of every colour type, bit depth and filter made
// here and on the public test images, and the same verdicts on truncated and corrupt files.
#include <gtest/gtest.h>
#include <libdeflate.h>

#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "thumbfetch/thumbnail/png_decode.hpp"
#include "thumbfetch/thumbnail/png_unfilter.hpp"
#include "thumbfetch/thumbnail/thumbnailer.hpp"
#include "thumbfetch/util/atomic_file.hpp"

using namespace thumbfetch;
namespace fs = std::filesystem;

namespace {

using u8 = std::uint8_t;

// A PNG written byte by byte, so each row's filter, the IDAT split and every kind of damage are
// ours to choose.
struct PngSpec {
  int width = 37;
  int height = 23;
  int bit_depth = 8;
  int colour_type = 2;
  int filter = -1;  // 0..4 for every row; -1: row y takes filter y % 5
  int palette_entries = 0;
  std::vector<u8> trns;     // the tRNS chunk's bytes, if any
  size_t idat_split = 0;    // bytes per IDAT chunk (0: one chunk)
  int extra_rows = 0;       // rows compressed beyond (or, negative, short of) the height
  int bad_filter_row = -1;  // this row gets filter type 5
  unsigned seed = 1;
};

int channels(int colour_type) {
  return colour_type == 2 ? 3 : colour_type == 4 ? 2 : colour_type == 6 ? 4 : 1;
}

void put_be32(std::string& s, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>(v >> shift));
}

void put_chunk(std::string& png, const char* type, const std::string& data) {
  put_be32(png, static_cast<std::uint32_t>(data.size()));
  const std::string typed = std::string(type, 4) + data;
  png += typed;
  put_be32(png, libdeflate_crc32(0, typed.data(), typed.size()));
}

u8 paeth(int a, int b, int c) {
  const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return static_cast<u8>(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
}

// Filters one row of samples the way an encoder does.
std::string filter_row(int filter, const std::vector<u8>& row, const std::vector<u8>& prev,
                       int bpp) {
  std::string out(1, static_cast<char>(filter));
  for (size_t i = 0; i < row.size(); ++i) {
    const int a = i >= size_t(bpp) ? row[i - bpp] : 0, b = prev[i];
    const int c = i >= size_t(bpp) ? prev[i - bpp] : 0;
    const int predicted = filter == 1   ? a
                          : filter == 2 ? b
                          : filter == 3 ? (a + b) / 2
                          : filter >= 4 ? paeth(a, b, c)
                                        : 0;
    out.push_back(static_cast<char>(row[i] - predicted));
  }
  return out;
}

// Samples with flat runs, gradients and noise, so every predictor and every Paeth tie is hit.
std::vector<u8> sample_row(std::mt19937& rng, size_t bytes, int y, const PngSpec& spec) {
  std::vector<u8> row(bytes);
  for (size_t i = 0; i < bytes; ++i) {
    const unsigned r = rng();
    row[i] = (y % 3 == 0) ? static_cast<u8>(r) : static_cast<u8>(i * 7 + y * 3 + (r % 4));
  }
  if (spec.colour_type == 3 && spec.bit_depth == 8) {  // indices within (and just past) the palette
    for (u8& v : row) v = static_cast<u8>(v % (spec.palette_entries + 1));
  }
  return row;
}

std::string make_png(const PngSpec& spec) {
  const int bits = channels(spec.colour_type) * spec.bit_depth;
  const size_t row_bytes = (size_t(spec.width) * bits + 7) / 8;
  const int bpp = std::max(1, bits / 8);
  std::mt19937 rng(spec.seed);
  std::string raw;
  std::vector<u8> prev(row_bytes, 0);
  for (int y = 0; y < spec.height + spec.extra_rows; ++y) {
    std::vector<u8> row = sample_row(rng, row_bytes, y, spec);
    std::string filtered = filter_row(spec.filter < 0 ? y % 5 : spec.filter, row, prev, bpp);
    if (y == spec.bad_filter_row) filtered[0] = 5;
    raw += filtered;
    prev = row;
  }
  libdeflate_compressor* compressor = libdeflate_alloc_compressor(6);
  std::string z(libdeflate_zlib_compress_bound(compressor, raw.size()), '\0');
  z.resize(libdeflate_zlib_compress(compressor, raw.data(), raw.size(), z.data(), z.size()));
  libdeflate_free_compressor(compressor);

  std::string png = "\x89PNG\r\n\x1a\n";
  std::string ihdr;
  put_be32(ihdr, spec.width);
  put_be32(ihdr, spec.height);
  ihdr += {static_cast<char>(spec.bit_depth), static_cast<char>(spec.colour_type), 0, 0, 0};
  put_chunk(png, "IHDR", ihdr);
  if (spec.colour_type == 3) {
    std::string plte;
    for (int i = 0; i < spec.palette_entries * 3; ++i) plte.push_back(static_cast<char>(i * 37));
    put_chunk(png, "PLTE", plte);
  }
  if (!spec.trns.empty()) put_chunk(png, "tRNS", std::string(spec.trns.begin(), spec.trns.end()));
  const size_t split = spec.idat_split ? spec.idat_split : z.size();
  for (size_t at = 0; at < z.size(); at += split) put_chunk(png, "IDAT", z.substr(at, split));
  put_chunk(png, "IEND", "");
  return png;
}

// Both paths on the same bytes: the same verdict, and on success the same pixels.
void expect_paths_agree(const std::string& png, const std::string& what, bool* took_whole,
                        ThumbOptions options = {}) {
  auto whole = decode_png(png, options, PngPath::whole_first, took_whole);
  auto spng = decode_png(png, options, PngPath::libspng_only);
  ASSERT_EQ(whole.ok(), spng.ok())
      << what << ": " << (whole.ok() ? spng.error() : whole.error()).message;
  if (!whole.ok()) {
    EXPECT_EQ(whole.error().kind, spng.error().kind) << what;
    EXPECT_EQ(whole.error().message, spng.error().message) << what;
    return;
  }
  const Pixels& a = whole->pixels;
  const Pixels& b = spng->pixels;
  ASSERT_EQ(a.size(), b.size()) << what;
  ASSERT_EQ(a.bands, b.bands) << what;
  EXPECT_TRUE(a.data == b.data) << what << ": pixels differ";
}

std::string describe(const PngSpec& s) {
  return "colour type " + std::to_string(s.colour_type) + ", " + std::to_string(s.bit_depth) +
         " bits, filter " + std::to_string(s.filter) + ", " + std::to_string(s.width) + "x" +
         std::to_string(s.height) + (s.trns.empty() ? "" : ", tRNS");
}

std::vector<PngSpec> every_layout() {
  std::vector<PngSpec> specs;
  const std::vector<std::pair<int, std::vector<int>>> depths = {
      {0, {1, 2, 4, 8}}, {2, {8, 16}}, {3, {1, 2, 4, 8}}, {4, {8}}, {6, {8, 16}}};
  for (const auto& [type, bit_depths] : depths) {
    for (int depth : bit_depths) {
      for (int filter = -1; filter <= 4; ++filter) {
        for (int width : {1, 2, 5, 37}) {
          PngSpec s{.width = width, .bit_depth = depth, .colour_type = type, .filter = filter};
          s.seed = unsigned(specs.size() + 1);
          if (type == 3) s.palette_entries = std::min(1 << depth, 200) - (depth == 8 ? 0 : 1);
          specs.push_back(s);
        }
      }
    }
  }
  // tRNS: a grey level, an RGB colour (8 and 16-bit, values that occur), palette alphas.
  specs.push_back({.bit_depth = 8, .colour_type = 0, .trns = {0, 0}});
  specs.push_back({.bit_depth = 2, .colour_type = 0, .trns = {0, 1}});
  specs.push_back(
      {.width = 64, .height = 9, .colour_type = 2, .filter = 0, .trns = {0, 0, 0, 7, 0, 14}});
  specs.push_back({.bit_depth = 16, .colour_type = 2, .trns = {0, 0, 0, 0, 0, 0}});
  specs.push_back(
      {.bit_depth = 8, .colour_type = 3, .palette_entries = 100, .trns = {0, 128, 255, 9}});
  specs.push_back({.bit_depth = 4, .colour_type = 3, .palette_entries = 16, .trns = {7, 77}});
  // Many small IDAT chunks, and a large image with every filter.
  specs.push_back({.width = 300, .height = 200, .colour_type = 6, .idat_split = 97});
  specs.push_back({.width = 1001, .height = 77, .colour_type = 2, .idat_split = 8192});
  return specs;
}

}  // namespace

TEST(PngWholePath, SamePixelsAsLibspngOnEveryLayoutAndFilter) {
  int whole_count = 0;
  const auto specs = every_layout();
  for (const PngSpec& spec : specs) {
    bool took_whole = false;
    expect_paths_agree(make_png(spec), describe(spec), &took_whole);
    EXPECT_TRUE(took_whole) << describe(spec) << ": declined";
    whole_count += took_whole;
  }
  EXPECT_EQ(whole_count, int(specs.size()));
}

// Every PNG of ../shared/testimages: the same pixels or the same verdict, except damaged image
// data that both libspng and libpng refuse, which now fails with its reason (libpng's, through
// libvips, was "libpng read error").
TEST(PngWholePath, SameVerdictsAsLibspngOnThePublicTestImages) {
  const fs::path root = fs::path(THUMBFETCH_SOURCE_DIR) / ".." / "shared" / "testimages";
  if (!fs::exists(root)) GTEST_SKIP() << "no " << root;
  int files = 0, whole = 0, damaged = 0;
  std::vector<std::string> decoded_before;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    auto data = read_file(entry.path(), 64 << 20);
    if (!data || data->compare(0, 8, "\x89PNG\r\n\x1a\n", 8) != 0) continue;
    const std::string name = entry.path().filename().string();
    ++files;
    auto first = decode_png(*data, ThumbOptions{}, PngPath::whole_first);
    if (!first && first.error().message.starts_with("corrupt PNG: damaged image data")) {
      ++damaged;
      auto spng = decode_png(*data, ThumbOptions{}, PngPath::libspng_only);
      if (spng.ok())
        decoded_before.push_back(name);
      else
        EXPECT_EQ(spng.error().kind, ErrorKind::unsupported) << name << ": left to libpng";
      continue;
    }
    bool took_whole = false;
    expect_paths_agree(*data, name, &took_whole);
    whole += took_whole;
  }
  // PngSuite alone has about 90 valid non-interlaced PNGs the whole path must take.
  EXPECT_GT(files, 300);
  EXPECT_GT(whole, 90) << "of " << files;
  EXPECT_GT(damaged, 10);
  EXPECT_TRUE(decoded_before.empty()) << decoded_before.front();
}

struct Damaged {
  std::string bad_crc, cut, short_rows, long_rows, bad_filter;
};

Damaged damaged_pngs(PngSpec base) {
  Damaged d;
  d.bad_crc = make_png(base);
  d.bad_crc[d.bad_crc.size() / 2] ^= 0x10;  // inside a middle IDAT chunk
  d.cut = make_png(base);
  d.cut.resize(d.cut.size() * 6 / 10);
  PngSpec short_rows = base, long_rows = base, bad_filter = base;
  short_rows.extra_rows = -3;
  long_rows.extra_rows = 2;
  bad_filter.bad_filter_row = base.height / 2;
  d.short_rows = make_png(short_rows);
  d.long_rows = make_png(long_rows);
  d.bad_filter = make_png(bad_filter);
  return d;
}

// What the whole path declines goes to libspng, which decides as it always did: cut data and
// too little is "truncated", too much is ignored (libspng stops at the last row, libpng warns).
TEST(PngWholePath, CutShortOrLongDataDeclinesToLibspng) {
  const Damaged d =
      damaged_pngs({.width = 120, .height = 80, .colour_type = 2, .idat_split = 1000});
  for (const auto& [what, png] : {std::pair{"cut in the IDAT data", d.cut},
                                  {"three rows short", d.short_rows},
                                  {"two rows too many", d.long_rows}}) {
    for (bool allow_truncated : {false, true}) {
      bool took_whole = true;
      expect_paths_agree(png, what, &took_whole, ThumbOptions{.allow_truncated = allow_truncated});
      EXPECT_FALSE(took_whole) << what;
    }
  }
  // Without IEND (or cut inside it), all the image data is there: both paths take it.
  std::string no_iend = make_png(PngSpec{.width = 120, .height = 80});
  for (size_t cut_iend : {12, 5}) {
    bool took_whole = false;
    expect_paths_agree(no_iend.substr(0, no_iend.size() - cut_iend), "no IEND", &took_whole);
    EXPECT_TRUE(took_whole);
  }
  ThumbOptions options;
  auto cut = decode_png(d.cut, options, PngPath::whole_first);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().kind, ErrorKind::truncated) << cut.error().message;
  auto long_rows = decode_png(d.long_rows, options, PngPath::whole_first);
  EXPECT_TRUE(long_rows.ok());
}

// Damage libspng and libpng both refuse fails with its reason (libspng left it to libpng, whose
// message through libvips was "libpng read error"); --allow-truncated still leaves it to libspng
// and libvips, which keep what decodes.
TEST(PngWholePath, BadCrcAndUnknownFilterFailWithTheirReason) {
  const Damaged d =
      damaged_pngs({.width = 120, .height = 80, .colour_type = 2, .idat_split = 1000});
  for (const auto& [what, png, reason] :
       {std::tuple{"bad IDAT CRC", d.bad_crc, "fails its CRC check"},
        {"filter type 5", d.bad_filter, "row 40 has filter type 5"}}) {
    auto r = decode_png(png, ThumbOptions{}, PngPath::whole_first);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.error().kind, ErrorKind::corrupt) << what;
    EXPECT_NE(r.error().message.find(reason), std::string::npos) << r.error().message;
    bool took_whole = true;
    expect_paths_agree(png, what, &took_whole, ThumbOptions{.allow_truncated = true});
    EXPECT_FALSE(took_whole) << what;
  }
}

// libspng never checks the CRC of the IDAT chunk holding the last row (it stops there), and
// Pillow checks no IDAT CRC: such a file keeps decoding as before (PngSuite's xcsn0g01 too).
TEST(PngWholePath, BadCrcOnTheLastIdatChunkDecodesAsBefore) {
  std::string png = make_png({.width = 120, .height = 80, .colour_type = 2});
  png[png.size() - 14] ^= 0x01;  // in the only IDAT chunk's CRC, before the 12 bytes of IEND
  bool took_whole = true;
  expect_paths_agree(png, "bad CRC on the last IDAT", &took_whole);
  EXPECT_FALSE(took_whole);
  EXPECT_TRUE(decode_png(png, ThumbOptions{}, PngPath::whole_first).ok());
}

// Recomputes every chunk's CRC, so that damage reaches the inflater and the unfilter.
void fix_crcs(std::string& png) {
  size_t pos = 8;
  while (png.size() - pos >= 12) {
    const auto* p = reinterpret_cast<const unsigned char*>(png.data() + pos);
    const size_t length = size_t{p[0]} << 24 | size_t{p[1]} << 16 | size_t{p[2]} << 8 | p[3];
    if (png.size() - pos - 12 < length) return;
    const std::uint32_t crc = libdeflate_crc32(0, png.data() + pos + 4, length + 4);
    for (int i = 0; i < 4; ++i) png[pos + 8 + length + i] = static_cast<char>(crc >> (24 - 8 * i));
    pos += 12 + length;
  }
}

// Random damage behind valid CRCs (flipped bits, bytes set, data cut or doubled; rows with
// filter type 5, too few or too many rows) on PNGs of every layout: never a crash, and the verdict
// and pixels of libspng, except an unknown filter type, which now fails with its reason where
// libspng left the file to libpng.
TEST(PngWholePath, SameVerdictsOnDamageBehindValidCrcs) {
  std::mt19937 rng(2024);
  int agreed = 0, bad_filter = 0;
  const auto specs = every_layout();
  for (int round = 0; round < 2000; ++round) {
    PngSpec spec = specs[rng() % specs.size()];
    spec.idat_split = rng() % 2 ? 0 : 50 + rng() % 200;
    if (rng() % 4 == 0) spec.bad_filter_row = int(rng() % spec.height);
    if (rng() % 4 == 0) spec.extra_rows = int(rng() % 5) - 2;
    std::string png = make_png(spec);
    const size_t start = 33;  // after the signature and IHDR: libspng checks the header
    for (int flips = 1 + rng() % 3; flips > 0; --flips) {
      const size_t at = start + rng() % (png.size() - start);
      switch (rng() % 4) {
        case 0:
          png[at] = static_cast<char>(png[at] ^ (1 << (rng() % 8)));
          break;
        case 1:
          png[at] = static_cast<char>(rng());
          break;
        case 2:
          png.resize(at);
          break;
        default:
          png.insert(at, png.substr(at, rng() % 64));
          break;
      }
      if (png.size() <= start) break;
    }
    fix_crcs(png);
    auto whole = decode_png(png, ThumbOptions{}, PngPath::whole_first);
    if (!whole && whole.error().message.find("has filter type") != std::string::npos) {
      ++bad_filter;
      continue;
    }
    bool took_whole = false;
    expect_paths_agree(png, "round " + std::to_string(round), &took_whole);
    if (HasFailure()) return;
    ++agreed;
  }
  EXPECT_GT(agreed, 1000);
  EXPECT_GT(bad_filter, 10);
}

TEST(PngWholePath, UnfilterMatchesTheScalarReference) {
  std::mt19937 rng(7);
  for (int bpp : {1, 2, 3, 4, 6, 8}) {
    for (size_t pixels : {size_t{1}, size_t{2}, size_t{3}, size_t{17}, size_t{64}}) {
      for (size_t extra : {size_t{0}, size_t{1}}) {  // a row that is not whole pixels: every byte
        const size_t n = pixels * bpp + extra;
        std::vector<u8> in(n), prev(n), a(n), b(n);
        for (auto& v : in) v = static_cast<u8>(rng());
        for (auto& v : prev) v = static_cast<u8>(rng() % 3 == 0 ? 0 : rng());
        for (int filter = 0; filter <= 4; ++filter) {
          ASSERT_TRUE(unfilter_row(filter, in.data(), a.data(), prev.data(), n, bpp));
          ASSERT_TRUE(unfilter_row_scalar(filter, in.data(), b.data(), prev.data(), n, bpp));
          EXPECT_EQ(a, b) << "bpp " << bpp << ", filter " << filter << ", " << pixels << " px";
        }
        EXPECT_FALSE(unfilter_row(5, in.data(), a.data(), prev.data(), n, bpp));
      }
    }
  }
}

// Through the thumbnailer: a clear reason per damaged file, and the good file after them is
// unharmed by what the decoder saw before.
TEST(PngWholePath, DamagedFilesFailClearlyBeforeAGoodOne) {
  PngSpec base{.width = 400, .height = 300, .colour_type = 2, .filter = 4, .idat_split = 4096};
  std::string cut = make_png(base);
  cut.resize(cut.size() / 2);
  PngSpec short_rows = base;
  short_rows.extra_rows = -10;
  std::string bad_crc = make_png(base);
  bad_crc[bad_crc.size() / 3] ^= 0x01;
  Thumbnailer thumbnailer(ThumbOptions{});
  auto a = thumbnailer.render(cut);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().kind, ErrorKind::truncated);
  EXPECT_NE(a.error().message.find("truncated PNG"), std::string::npos) << a.error().message;
  auto b = thumbnailer.render(make_png(short_rows));
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().kind, ErrorKind::truncated) << b.error().message;
  auto c = thumbnailer.render(bad_crc);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, ErrorKind::corrupt) << c.error().message;
  EXPECT_NE(c.error().message.find("CRC"), std::string::npos) << c.error().message;
  PngSpec bad_filter = base;
  bad_filter.bad_filter_row = 7;
  auto e = thumbnailer.render(make_png(bad_filter));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().kind, ErrorKind::corrupt) << e.error().message;
  EXPECT_NE(e.error().message.find("filter type 5"), std::string::npos) << e.error().message;
  auto good = thumbnailer.render(make_png(base));
  ASSERT_TRUE(good.ok()) << good.error().message;
  EXPECT_EQ(good->size, (Size{128, 96}));
}
