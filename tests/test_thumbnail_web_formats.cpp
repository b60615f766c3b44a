// Files the web serves that libjpeg, Pillow and browsers read, and we must too: JPEGs that make
// libjpeg warn (stray bytes before a marker), BigTIFF, and TIFF layouts libvips refuses.
#include <gtest/gtest.h>

#include <tiffio.h>

#include <memory>

#include "support/image_fixtures.hpp"
#include "support/temp_dir.hpp"
#include "thumbfetch/thumbnail/thumbnailer.hpp"
#include "thumbfetch/util/atomic_file.hpp"

using namespace thumbfetch;
using namespace thumbfetch::test;
namespace fs = std::filesystem;

namespace {

const fs::path kCollections = THUMBFETCH_SOURCE_DIR "/../shared/testimages";

std::string bytes_of(const fs::path& file) {
  return read_file(file).value();
}

// `junk` inserted right before the first segment with `marker` (libjpeg then warns "N extraneous
// bytes before marker 0x..", and goes on).
std::string with_junk_before(const std::string& jpeg, unsigned char marker,
                             const std::string& junk) {
  size_t i = 2;
  while (i + 4 <= jpeg.size() && static_cast<unsigned char>(jpeg[i]) == 0xFF) {
    if (static_cast<unsigned char>(jpeg[i + 1]) == marker) {
      return jpeg.substr(0, i) + junk + jpeg.substr(i);
    }
    i += 2 +
         ((static_cast<unsigned char>(jpeg[i + 2]) << 8) | static_cast<unsigned char>(jpeg[i + 3]));
  }
  ADD_FAILURE() << "no marker " << int(marker);
  return jpeg;
}

Result<Thumbnail> render(const std::string& bytes, ThumbOptions options = {}) {
  Thumbnailer thumbnailer(options);
  return thumbnailer.render(bytes);
}

}  // namespace

TEST(WebFormats, JpegWithStrayBytesBeforeAMarkerDecodesAsLibjpegDoes) {
  TempDir dir;
  write_quadrant_jpeg(dir / "photo.jpg", 800, 600);
  const std::string jpeg = bytes_of(dir / "photo.jpg");
  for (unsigned char marker : {0xDB, 0xC0, 0xC4, 0xDA}) {
    SCOPED_TRACE("before marker " + std::to_string(marker));
    auto thumb = render(with_junk_before(jpeg, marker, std::string("\x00\x11\x22\x33", 4)));
    ASSERT_TRUE(thumb.ok()) << thumb.error().message;
    EXPECT_EQ(thumb->size, (Size{128, 96}));
    EXPECT_EQ(thumb->decoder, Decoder::libjpeg_turbo);
  }
}

TEST(WebFormats, JpegWithStrayBytesAndCutShortIsStillTruncated) {
  TempDir dir;
  write_quadrant_jpeg(dir / "photo.jpg", 800, 600);
  const std::string junk = with_junk_before(bytes_of(dir / "photo.jpg"), 0xDB, "\x01\x02");
  const std::string cut = junk.substr(0, junk.size() / 2);
  auto strict = render(cut);
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.error().kind, ErrorKind::truncated) << strict.error().message;
  ThumbOptions lenient;
  lenient.allow_truncated = true;
  auto kept = render(cut, lenient);
  ASSERT_TRUE(kept.ok()) << kept.error().message;
  EXPECT_EQ(kept->size, (Size{128, 96}));
}

// TurboJPEG says "warning" once any warning was raised, even when a fatal error followed; libjpeg
// fails such a file, and so do we.
TEST(WebFormats, JpegWithAWarningThenAFatalErrorFails) {
  TempDir dir;
  write_quadrant_jpeg(dir / "photo.jpg", 800, 600);
  std::string jpeg = with_junk_before(bytes_of(dir / "photo.jpg"), 0xDB, "\x01\x02");
  ASSERT_EQ(jpeg.substr(jpeg.size() - 2), "\xFF\xD9");
  jpeg.replace(jpeg.size() - 2, 2, "\xFF\xC9");  // a second frame header where EOI was
  auto thumb = render(jpeg);
  ASSERT_FALSE(thumb.ok());
  EXPECT_EQ(thumb.error().kind, ErrorKind::corrupt);
  EXPECT_NE(thumb.error().message.find("two SOF markers"), std::string::npos)
      << thumb.error().message;
}

// The collections' JPEGs that libjpeg only warns about, which Pillow thumbnails.
TEST(WebFormats, CollectionJpegsWithExtraneousBytesDecode) {
  if (!fs::is_directory(kCollections)) GTEST_SKIP() << "no public test images";
  for (const char* name : {"jpg_4838ece0d3900220d33528ee027289bc.jpg",     // 2 bytes before DQT
                           "jpg_28c74d9284d9836017fd519f6932efd8.jpg",     // 215 before SOS
                           "jpg_b55977028a3a574336966b6536640fc9.jpg"}) {  // 16 before APP0
    SCOPED_TRACE(name);
    auto thumb = render(bytes_of(kCollections / "imagetestsuite" / name));
    EXPECT_TRUE(thumb.ok()) << thumb.error().message;
  }
}

TEST(WebFormats, BigTiffDecodes) {
  TempDir dir;
  quadrants(400, 300).tiffsave((dir / "big.tif").c_str(),
                               vips::VImage::option()->set("bigtiff", true));
  const std::string bytes = bytes_of(dir / "big.tif");
  ASSERT_EQ(bytes.substr(0, 4), std::string("II+\0", 4)) << "fixture is not a BigTIFF";
  auto thumb = render(bytes);
  ASSERT_TRUE(thumb.ok()) << thumb.error().message;
  EXPECT_EQ(thumb->size, (Size{128, 96}));
}

namespace {

// A TIFF written with libtiff in a layout of our choosing; sample bytes from `sample(x, y, s)`.
struct TiffLayout {
  int width = 64, height = 48;
  int bits = 8;
  int photometric = PHOTOMETRIC_RGB;
  bool tiled = false;
  bool separate_planes = false;
  std::uint16_t sub_h = 1, sub_v = 1;  // YCbCr subsampling
};

struct TiffWriteClose {
  void operator()(TIFF* t) const { TIFFClose(t); }
};

// Red on the left half, blue on the right (as RGB samples).
std::uint8_t rgb_sample(int x, int, int s) {
  const bool left = x < 32;
  return s == 0 ? (left ? 220 : 20) : s == 1 ? 30 : (left ? 25 : 210);
}

void write_tiff(const fs::path& path, const TiffLayout& l) {
  std::unique_ptr<TIFF, TiffWriteClose> tif(TIFFOpen(path.c_str(), "w"));
  ASSERT_TRUE(tif);
  TIFF* t = tif.get();
  TIFFSetField(t, TIFFTAG_IMAGEWIDTH, l.width);
  TIFFSetField(t, TIFFTAG_IMAGELENGTH, l.height);
  TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 3);
  TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, l.bits);
  TIFFSetField(t, TIFFTAG_PHOTOMETRIC, l.photometric);
  TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_NONE);
  TIFFSetField(t, TIFFTAG_PLANARCONFIG,
               l.separate_planes ? PLANARCONFIG_SEPARATE : PLANARCONFIG_CONTIG);
  if (l.photometric == PHOTOMETRIC_YCBCR) {
    TIFFSetField(t, TIFFTAG_YCBCRSUBSAMPLING, l.sub_h, l.sub_v);
  }
  const int planes = l.separate_planes ? 3 : 1;
  const int per_pixel = l.separate_planes ? 1 : 3;
  const int bytes = l.bits / 8;
  if (l.tiled) {
    TIFFSetField(t, TIFFTAG_TILEWIDTH, 16);
    TIFFSetField(t, TIFFTAG_TILELENGTH, 16);
    std::vector<std::uint8_t> tile(16 * 16 * 3 * bytes);
    for (int p = 0; p < planes; ++p) {
      for (int ty = 0; ty < l.height; ty += 16) {
        for (int tx = 0; tx < l.width; tx += 16) {
          for (int y = 0; y < 16; ++y) {
            for (int x = 0; x < 16; ++x) {
              for (int s = 0; s < per_pixel; ++s) {
                const size_t at = (size_t(y) * 16 + x) * per_pixel + s;
                for (int b = 0; b < bytes; ++b) {
                  tile[at * bytes + b] = rgb_sample(tx + x, ty + y, planes > 1 ? p : s);
                }
              }
            }
          }
          const ttile_t index = TIFFComputeTile(t, tx, ty, 0, tsample_t(p));
          ASSERT_GE(TIFFWriteEncodedTile(t, index, tile.data(), 16 * 16 * per_pixel * bytes), 0);
        }
      }
    }
    return;
  }
  // Strips, one row each; for YCbCr the bytes are simply a pattern (only the layout matters).
  TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, l.sub_v);
  std::vector<std::uint8_t> strip(TIFFStripSize(t));
  for (size_t i = 0; i < strip.size(); ++i) strip[i] = std::uint8_t(i * 7);
  for (tstrip_t s = 0; s < TIFFNumberOfStrips(t); ++s) {
    ASSERT_GE(TIFFWriteEncodedStrip(t, s, strip.data(), strip.size()), 0);
  }
}

}  // namespace

// Tiled, separate planes: decoded (by libvips, or through libtiff when libvips refuses), with
// the picture intact.
TEST(WebFormats, TiledTiffWithSeparatePlanesDecodes) {
  TempDir dir;
  write_tiff(dir / "planar.tif", {.tiled = true, .separate_planes = true});
  Thumbnailer thumbnailer(ThumbOptions{});
  auto thumb = thumbnailer.render(bytes_of(dir / "planar.tif"));
  ASSERT_TRUE(thumb.ok()) << thumb.error().message;
  EXPECT_EQ(thumb->size, (Size{64, 48}));
  vips::VImage out = vips::VImage::new_from_buffer(thumb->bytes.data(), thumb->bytes.size(), "");
  EXPECT_TRUE(looks_like(colour_at(out, 0.2, 0.5), Colour::red, 60));
  EXPECT_TRUE(looks_like(colour_at(out, 0.8, 0.5), Colour::blue, 60));
}

// YCbCr with 4:2:0 subsampling outside JPEG: libvips refuses it ("subsampled images not
// supported"); libtiff's RGBA interface reads it.
TEST(WebFormats, SubsampledYcbcrTiffDecodesThroughLibtiff) {
  TempDir dir;
  write_tiff(dir / "ycbcr.tif", {.photometric = PHOTOMETRIC_YCBCR, .sub_h = 2, .sub_v = 2});
  Thumbnailer thumbnailer(ThumbOptions{});
  auto thumb = thumbnailer.render(bytes_of(dir / "ycbcr.tif"));
  ASSERT_TRUE(thumb.ok()) << thumb.error().message;
  EXPECT_EQ(thumb->size, (Size{64, 48}));
  EXPECT_EQ(thumb->decoder, Decoder::libtiff);
}

// A layout neither reads (YCbCr subsampled with 16-bit samples): refused, naming the layout.
TEST(WebFormats, TiffLayoutNobodyReadsIsNamed) {
  TempDir dir;
  write_tiff(dir / "ycbcr16.tif",
             {.bits = 16, .photometric = PHOTOMETRIC_YCBCR, .sub_h = 2, .sub_v = 2});
  Thumbnailer thumbnailer(ThumbOptions{});
  auto thumb = thumbnailer.render(bytes_of(dir / "ycbcr16.tif"));
  ASSERT_FALSE(thumb.ok());
  EXPECT_EQ(thumb.error().kind, ErrorKind::unsupported) << thumb.error().message;
  EXPECT_NE(thumb.error().message.find("unsupported TIFF layout (uncompressed, YCbCr 2x2 "
                                       "subsampled, strips, 3 x 16-bit samples)"),
            std::string::npos)
      << thumb.error().message;
}

// The collections' TIFFs that libvips refuses: old-style JPEG (strips and tiles) and
// LZW-compressed YCbCr 4:2:0.
TEST(WebFormats, CollectionTiffsLibvipsRefusesDecode) {
  if (!fs::is_directory(kCollections)) GTEST_SKIP() << "no public test images";
  for (const char* name : {"ojpeg-strip.tif", "ojpeg-tile.tif", "subsampled.tif"}) {
    SCOPED_TRACE(name);
    Thumbnailer thumbnailer(ThumbOptions{});
    auto thumb = thumbnailer.render(bytes_of(kCollections / "libvips" / name));
    ASSERT_TRUE(thumb.ok()) << thumb.error().message;
    EXPECT_EQ(thumb->decoder, Decoder::libtiff);
  }
}

// The libtiff path applies --max-pixels from the header too, before allocating anything.
TEST(WebFormats, LibtiffPathRefusesTooManyPixels) {
  TempDir dir;
  write_tiff(dir / "ycbcr.tif", {.photometric = PHOTOMETRIC_YCBCR, .sub_h = 2, .sub_v = 2});
  ThumbOptions options;
  options.max_pixels = 1000;
  Thumbnailer thumbnailer(options);
  auto thumb = thumbnailer.render(bytes_of(dir / "ycbcr.tif"));
  ASSERT_FALSE(thumb.ok());
  EXPECT_EQ(thumb.error().kind, ErrorKind::too_many_pixels) << thumb.error().message;
}
