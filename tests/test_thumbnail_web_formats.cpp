// Files the web serves that libjpeg, Pillow and browsers read, and we must too: JPEGs that make
// libjpeg warn (stray bytes before a marker), BigTIFF, and TIFF layouts libvips refuses.
#include <gtest/gtest.h>

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
