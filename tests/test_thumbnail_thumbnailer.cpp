// The thumbnailer on real files of every kind it must handle: geometry per mode, orientation,
// colour, alpha, and a clear error for each kind of bad input.
#include <gtest/gtest.h>

#include "support/image_fixtures.hpp"
#include "support/temp_dir.hpp"
#include "thumbfetch/thumbnail/jpeg_markers.hpp"
#include "thumbfetch/thumbnail/thumbnailer.hpp"
#include "thumbfetch/util/atomic_file.hpp"
#include "thumbfetch/util/sha256.hpp"

using namespace thumbfetch;
using namespace thumbfetch::test;
using vips::VImage;
namespace fs = std::filesystem;

namespace {

class ThumbnailerTest : public ::testing::Test {
 protected:
  Result<Thumbnail> render(const fs::path& file, ThumbOptions options = {}) {
    Thumbnailer thumbnailer(options);
    return thumbnailer.render(read_file(file).value());
  }

  // Renders and decodes the output for inspection.
  VImage render_image(const fs::path& file, ThumbOptions options = {}) {
    auto thumb = render(file, options);
    EXPECT_TRUE(thumb.ok()) << (thumb.ok() ? "" : thumb.error().message);
    if (!thumb.ok()) return VImage::black(1, 1);
    last_ = std::move(thumb).value();
    return VImage::new_from_buffer(last_.bytes.data(), last_.bytes.size(), "");
  }

  TempDir dir_;
  Thumbnail last_;
};

void expect_upright_quadrants(const VImage& image) {
  EXPECT_TRUE(looks_like(colour_at(image, 0.2, 0.2), Colour::red)) << "top-left";
  EXPECT_TRUE(looks_like(colour_at(image, 0.8, 0.2), Colour::green)) << "top-right";
  EXPECT_TRUE(looks_like(colour_at(image, 0.2, 0.8), Colour::blue)) << "bottom-left";
  EXPECT_TRUE(looks_like(colour_at(image, 0.8, 0.8), Colour::yellow)) << "bottom-right";
}

}  // namespace

TEST_F(ThumbnailerTest, JpegBaselineAndProgressiveFitTheBox) {
  write_quadrant_jpeg(dir_ / "base.jpg", 1600, 1200);
  write_quadrant_jpeg(dir_ / "prog.jpg", 1600, 1200, {.progressive = true});
  for (const char* name : {"base.jpg", "prog.jpg"}) {
    VImage out = render_image(dir_ / name);
    EXPECT_EQ(out.width(), 128) << name;
    EXPECT_EQ(out.height(), 96) << name;
    EXPECT_EQ(last_.decoder, Decoder::libjpeg_turbo) << name;
    expect_upright_quadrants(out);
  }
}

TEST_F(ThumbnailerTest, EveryModeGivesItsGeometry) {
  write_quadrant_jpeg(dir_ / "wide.jpg", 1000, 500);
  ThumbOptions o;
  o.box = {100, 100};
  o.mode = FitMode::fit;
  VImage fit = render_image(dir_ / "wide.jpg", o);
  EXPECT_EQ(fit.width(), 100);
  EXPECT_EQ(fit.height(), 50);

  o.mode = FitMode::cover;
  VImage cover = render_image(dir_ / "wide.jpg", o);
  EXPECT_EQ(cover.width(), 100);
  EXPECT_EQ(cover.height(), 100);
  // The centre crop of a 2:1 image keeps the middle half: the quadrant seams sit at the centre.
  expect_upright_quadrants(cover);

  o.mode = FitMode::pad;
  o.background = Rgb{0, 0, 0};
  VImage pad = render_image(dir_ / "wide.jpg", o);
  EXPECT_EQ(pad.width(), 100);
  EXPECT_EQ(pad.height(), 100);
  EXPECT_TRUE(looks_like(colour_at(pad, 0.5, 0.05), Colour::black)) << "letterbox band";
  EXPECT_TRUE(looks_like(colour_at(pad, 0.2, 0.35), Colour::red));

  o.mode = FitMode::stretch;
  VImage stretch = render_image(dir_ / "wide.jpg", o);
  EXPECT_EQ(stretch.width(), 100);
  EXPECT_EQ(stretch.height(), 100);
  expect_upright_quadrants(stretch);
}

TEST_F(ThumbnailerTest, SmallImagesAreNeverEnlargedInFitMode) {
  write_quadrant_jpeg(dir_ / "small.jpg", 64, 40);
  VImage out = render_image(dir_ / "small.jpg");
  EXPECT_EQ(out.width(), 64);
  EXPECT_EQ(out.height(), 40);
}

TEST_F(ThumbnailerTest, AllEightExifOrientationsComeOutUpright) {
  for (int o = 1; o <= 8; ++o) {
    SCOPED_TRACE("orientation " + std::to_string(o));
    const fs::path file = dir_ / ("o" + std::to_string(o) + ".jpg");
    write_quadrant_jpeg(file, 400, 200, {.orientation = o});
    ASSERT_EQ(scan_jpeg_markers(read_file(file).value()).orientation, o) << "fixture";
    VImage out = render_image(file);
    EXPECT_EQ(last_.decoder, Decoder::libjpeg_turbo);
    EXPECT_EQ(out.width(), 128);
    EXPECT_EQ(out.height(), 64);
    expect_upright_quadrants(out);
  }
}

TEST_F(ThumbnailerTest, CmykJpegTakesTheGeneralPathWithOrientationAndColour) {
  for (int o : {1, 6}) {
    SCOPED_TRACE("orientation " + std::to_string(o));
    write_cmyk_jpeg(dir_ / "cmyk.jpg", 400, 200, o);
    VImage out = render_image(dir_ / "cmyk.jpg");
    EXPECT_EQ(last_.decoder, Decoder::libvips);
    EXPECT_EQ(out.bands(), 3);
    EXPECT_EQ(out.width(), 128);
    EXPECT_EQ(out.height(), 64);
    // CMYK round trips are not exact; the quadrants must still be recognisable.
    EXPECT_TRUE(looks_like(colour_at(out, 0.2, 0.2), Colour::red, 70));
    EXPECT_TRUE(looks_like(colour_at(out, 0.8, 0.8), Colour::yellow, 70));
  }
}

TEST_F(ThumbnailerTest, GreyJpegStaysGrey) {
  write_quadrant_jpeg(dir_ / "grey.jpg", 800, 600, {.grey = true});
  VImage out = render_image(dir_ / "grey.jpg");
  EXPECT_EQ(out.bands(), 1);
  EXPECT_EQ(out.width(), 128);
}

TEST_F(ThumbnailerTest, PngVariantsAllWork) {
  write_quadrant_png(dir_ / "p8.png", 800, 600);
  write_quadrant_png(dir_ / "p16.png", 800, 600, {.bits = 16});
  write_quadrant_png(dir_ / "pal.png", 800, 600, {.palette = true});
  for (const char* name : {"p8.png", "p16.png", "pal.png"}) {
    SCOPED_TRACE(name);
    VImage out = render_image(dir_ / name);
    EXPECT_EQ(last_.decoder, Decoder::libspng);
    EXPECT_EQ(out.width(), 128);
    EXPECT_EQ(out.height(), 96);
    EXPECT_EQ(out.format(), VIPS_FORMAT_UCHAR);
    expect_upright_quadrants(out);
  }
}

TEST_F(ThumbnailerTest, AlphaIsFlattenedOnWhiteForJpegAndKeptForAuto) {
  write_quadrant_png(dir_ / "alpha.png", 800, 600, {.alpha = true});
  VImage jpeg = render_image(dir_ / "alpha.png");
  EXPECT_EQ(last_.format, OutputFormat::jpeg);
  EXPECT_EQ(jpeg.bands(), 3);
  EXPECT_TRUE(looks_like(colour_at(jpeg, 0.2, 0.2), Colour::red));
  EXPECT_TRUE(looks_like(colour_at(jpeg, 0.8, 0.8), Colour::white)) << "transparent half";

  ThumbOptions o;
  o.format = OutputFormat::automatic;
  VImage png = render_image(dir_ / "alpha.png", o);
  EXPECT_EQ(last_.format, OutputFormat::png);
  EXPECT_EQ(png.bands(), 4);
  EXPECT_LT(png[3].extract_area(100, 80, 20, 10).max(), 5) << "still transparent";
  EXPECT_GT(png[3].extract_area(5, 5, 20, 10).min(), 250) << "still opaque";

  write_quadrant_jpeg(dir_ / "opaque.jpg", 800, 600);
  render_image(dir_ / "opaque.jpg", o);
  EXPECT_EQ(last_.format, OutputFormat::jpeg) << "auto: no alpha, JPEG";
}

TEST_F(ThumbnailerTest, GreyPngWithAndWithoutAlpha) {
  write_quadrant_png(dir_ / "g.png", 800, 600, {.grey = true});
  write_quadrant_png(dir_ / "ga.png", 800, 600, {.alpha = true, .grey = true});
  VImage g = render_image(dir_ / "g.png");
  EXPECT_EQ(last_.decoder, Decoder::libspng);
  EXPECT_EQ(g.bands(), 1);
  ThumbOptions o;
  o.format = OutputFormat::automatic;
  VImage ga = render_image(dir_ / "ga.png", o);
  EXPECT_EQ(last_.decoder, Decoder::libspng);
  EXPECT_EQ(last_.format, OutputFormat::png);
  EXPECT_EQ(ga.bands(), 2);
  EXPECT_LT(ga[1].extract_area(100, 80, 20, 10).max(), 5) << "the transparent half";
  VImage flat = render_image(dir_ / "ga.png");
  EXPECT_TRUE(looks_like(colour_at(flat, 0.8, 0.8), Colour::white)) << "flattened on white";
}

TEST_F(ThumbnailerTest, WebpInAndOut) {
  write_quadrant_webp(dir_ / "in.webp", 1000, 800);
  ThumbOptions o;
  o.format = OutputFormat::webp;
  VImage out = render_image(dir_ / "in.webp", o);
  EXPECT_EQ(std::string(out.get_string("vips-loader")), "webpload_buffer");
  EXPECT_EQ(out.width(), 128);
  EXPECT_EQ(out.height(), 102);
  expect_upright_quadrants(out);
}

TEST_F(ThumbnailerTest, AnimatedGifGivesItsFirstFrame) {
  write_animated_gif(dir_ / "anim.gif", 300, 200);
  VImage out = render_image(dir_ / "anim.gif");
  EXPECT_EQ(out.width(), 128);
  EXPECT_EQ(out.height(), 85);
  EXPECT_TRUE(looks_like(colour_at(out, 0.5, 0.5), Colour::red));
}

TEST_F(ThumbnailerTest, AllDecodersAgreeOnGeometry) {
  for (auto [w, h] : {std::pair{1601, 1199}, {1199, 1601}, {3000, 97}, {129, 1000}, {500, 500}}) {
    SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h));
    write_quadrant_jpeg(dir_ / "g.jpg", w, h);
    write_quadrant_png(dir_ / "g.png", w, h);
    write_quadrant_webp(dir_ / "g.webp", w, h);
    for (FitMode mode : {FitMode::fit, FitMode::cover, FitMode::pad, FitMode::stretch}) {
      ThumbOptions o;
      o.mode = mode;
      auto a = render(dir_ / "g.jpg", o);
      auto b = render(dir_ / "g.png", o);
      auto c = render(dir_ / "g.webp", o);
      ASSERT_TRUE(a.ok() && b.ok() && c.ok());
      EXPECT_EQ(a->decoder, Decoder::libjpeg_turbo);
      EXPECT_EQ(b->decoder, Decoder::libspng);
      EXPECT_EQ(c->decoder, Decoder::libvips);
      EXPECT_EQ(a->size, b->size) << to_string(mode);
      EXPECT_EQ(a->size, c->size) << to_string(mode);
    }
  }
}

TEST_F(ThumbnailerTest, TruncatedPngFailsUnlessAllowed) {
  write_quadrant_png(dir_ / "ok.png", 600, 400);
  std::string bytes = read_file(dir_ / "ok.png").value();
  write_text(dir_ / "cut.png", bytes.substr(0, bytes.size() * 6 / 10));
  auto strict = render(dir_ / "cut.png");
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.error().kind, ErrorKind::truncated) << strict.error().message;
  ThumbOptions o;
  o.allow_truncated = true;
  auto lenient = render(dir_ / "cut.png", o);
  ASSERT_TRUE(lenient.ok()) << lenient.error().message;
  EXPECT_EQ(lenient->size, (Size{128, 85}));
}

TEST_F(ThumbnailerTest, SixteenBitGreyPngTakesTheGeneralPath) {
  VImage grey = quadrants(400, 300).colourspace(VIPS_INTERPRETATION_GREY16);
  grey.pngsave((dir_ / "g16.png").c_str(), VImage::option()->set("bitdepth", 16));
  VImage out = render_image(dir_ / "g16.png");
  EXPECT_EQ(last_.decoder, Decoder::libvips);
  EXPECT_EQ(out.bands(), 1);
  EXPECT_EQ(out.width(), 128);
}

TEST_F(ThumbnailerTest, ThumbnailsCarryNoMetadata) {
  write_quadrant_jpeg(dir_ / "exif.jpg", 800, 600, {.orientation = 6});
  auto thumb = render(dir_ / "exif.jpg");
  ASSERT_TRUE(thumb.ok());
  std::string_view bytes(reinterpret_cast<const char*>(thumb->bytes.data()), thumb->bytes.size());
  EXPECT_EQ(bytes.find("Exif"), std::string_view::npos);
  EXPECT_EQ(bytes.find("ICC_PROFILE"), std::string_view::npos);
}

TEST_F(ThumbnailerTest, TruncatedJpegFailsUnlessAllowed) {
  write_truncated_jpeg(dir_ / "cut.jpg", 800, 600, 0.5);
  auto strict = render(dir_ / "cut.jpg");
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.error().kind, ErrorKind::truncated);
  EXPECT_NE(strict.error().message.find("truncated"), std::string::npos);

  ThumbOptions o;
  o.allow_truncated = true;
  auto lenient = render(dir_ / "cut.jpg", o);
  ASSERT_TRUE(lenient.ok()) << lenient.error().message;
  EXPECT_EQ(lenient->size, (Size{128, 96}));
}

TEST_F(ThumbnailerTest, NonImagesAreNamed) {
  write_text(dir_ / "empty.jpg", "");
  write_text(dir_ / "page.jpg", "<!DOCTYPE html>\n<html><body>404 Not Found</body></html>\n");
  auto empty = render(dir_ / "empty.jpg");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().kind, ErrorKind::not_an_image);
  EXPECT_EQ(empty.error().message, "not an image (empty file)");
  auto page = render(dir_ / "page.jpg");
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.error().message, "not an image (text/html)");
}

TEST_F(ThumbnailerTest, OtherFormatsWorkOrAreNamedUnsupported) {
  quadrants(400, 300).tiffsave((dir_ / "in.tif").c_str());
  VImage tiff = render_image(dir_ / "in.tif");
  EXPECT_EQ(last_.decoder, Decoder::libvips);
  EXPECT_EQ(tiff.width(), 128);

  // BMP goes to our own decoder (ImageMagick stays blocked), which names what is wrong.
  std::string bmp = "BM" + std::string(52, '\0');
  write_text(dir_ / "in.bmp", bmp);
  auto r = render(dir_ / "in.bmp");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::corrupt);
  EXPECT_EQ(r.error().message, "corrupt BMP: unknown header size 0");

  write_text(dir_ / "in.svg",
             "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"9\" height=\"9\"/>");
  auto svg = render(dir_ / "in.svg");
  ASSERT_FALSE(svg.ok());
  EXPECT_EQ(svg.error().message, "unsupported image format (svg)");
}

TEST_F(ThumbnailerTest, HugeHeaderIsRefusedBeforeDecoding) {
  write_png_header_only(dir_ / "bomb.png", 100000, 100000);
  auto r = render(dir_ / "bomb.png");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::too_many_pixels) << r.error().message;
  EXPECT_NE(r.error().message.find("100000x100000"), std::string::npos);

  // The same limit applies to the JPEG fast path.
  write_quadrant_jpeg(dir_ / "big.jpg", 2000, 1000);
  ThumbOptions o;
  o.max_pixels = 1'000'000;
  auto j = render(dir_ / "big.jpg", o);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.error().kind, ErrorKind::too_many_pixels);
}

TEST_F(ThumbnailerTest, CorruptDataIsADecodeError) {
  write_quadrant_jpeg(dir_ / "ok.jpg", 400, 300);
  std::string bytes = read_file(dir_ / "ok.jpg").value();
  // Keep the SOI, ruin the rest: the header itself is unreadable.
  for (size_t i = 4; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 37);
  write_text(dir_ / "bad.jpg", bytes);
  auto r = render(dir_ / "bad.jpg");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().kind == ErrorKind::corrupt || r.error().kind == ErrorKind::truncated)
      << r.error().message;
}

TEST_F(ThumbnailerTest, MakeWritesTheFileAndNeverTouchesTheInput) {
  write_quadrant_jpeg(dir_ / "in.jpg", 800, 600);
  const std::string before = read_file(dir_ / "in.jpg").value();
  Thumbnailer t({});
  auto done = t.make(dir_ / "in.jpg", dir_ / "thumb");
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->output, dir_ / "thumb.jpg");
  EXPECT_EQ(fs::file_size(dir_ / "thumb.jpg"), done->bytes);
  EXPECT_EQ(read_file(dir_ / "in.jpg").value(), before);

  auto missing = t.make(dir_ / "nope.jpg", dir_ / "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::io);
  EXPECT_FALSE(fs::exists(dir_ / "nope.jpg"));
}

// make() hashes the bytes it read, whatever becomes of the image, and a worker's reused input
// buffer never leaks a longer earlier file into a shorter later one's digest or decode.
TEST_F(ThumbnailerTest, MakeHashesTheBytesItRead) {
  write_quadrant_jpeg(dir_ / "big.jpg", 900, 700);
  write_quadrant_jpeg(dir_ / "small.jpg", 200, 150);
  write_text(dir_ / "bad.jpg", "\xFF\xD8\xFF not a JPEG after all");
  Thumbnailer t({});
  std::string digest = "stale";
  for (const char* name : {"big.jpg", "small.jpg", "bad.jpg", "big.jpg"}) {
    SCOPED_TRACE(name);
    auto done = t.make(dir_ / name, dir_ / (std::string("t-") + name), &digest);
    EXPECT_EQ(done.ok(), std::string(name) != "bad.jpg");
    EXPECT_EQ(digest, sha256_hex(read_file(dir_ / name).value()));
    fs::remove(dir_ / (std::string("t-") + name + ".jpg"));
  }
  auto missing = t.make(dir_ / "nope.jpg", dir_ / "nope", &digest);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(digest, "");  // nothing read, nothing hashed
}
