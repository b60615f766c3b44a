#include "support/image_fixtures.hpp"

#include <turbojpeg.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "thumbfetch/thumbnail/vips_runtime.hpp"

namespace thumbfetch::test {

using vips::VImage;
namespace fs = std::filesystem;

std::array<double, 3> rgb_of(Colour c) {
  switch (c) {
    case Colour::red:
      return {255, 0, 0};
    case Colour::green:
      return {0, 255, 0};
    case Colour::blue:
      return {0, 0, 255};
    case Colour::yellow:
      return {255, 255, 0};
    case Colour::white:
      return {255, 255, 255};
    case Colour::black:
      return {0, 0, 0};
  }
  return {0, 0, 0};
}

namespace {

VImage solid(int w, int h, Colour c) {
  auto rgb = rgb_of(c);
  return VImage::black(w, h).new_from_image({rgb[0], rgb[1], rgb[2]}).cast(VIPS_FORMAT_UCHAR);
}

VImage as_srgb(VImage image) {
  return image.copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
}

// The stored (raw) image whose EXIF `orientation` displays as `upright`.
VImage stored_for(VImage upright, int orientation) {
  switch (orientation) {
    case 2:
      return upright.flip(VIPS_DIRECTION_HORIZONTAL);
    case 3:
      return upright.rot180();
    case 4:
      return upright.flip(VIPS_DIRECTION_VERTICAL);
    case 5:
      return upright.rot90().flip(VIPS_DIRECTION_HORIZONTAL);
    case 6:
      return upright.rot270();
    case 7:
      return upright.rot270().flip(VIPS_DIRECTION_HORIZONTAL);
    case 8:
      return upright.rot90();
    default:
      return upright;
  }
}

VImage with_orientation(VImage image, int orientation) {
  VImage copy = image.copy();
  if (orientation != 1) copy.set("orientation", orientation);
  return copy;
}

}  // namespace

VImage quadrants(int w, int h) {
  init_vips("thumbfetch_tests");
  const int hw = w / 2, hh = h / 2;
  VImage top =
      solid(hw, hh, Colour::red).join(solid(w - hw, hh, Colour::green), VIPS_DIRECTION_HORIZONTAL);
  VImage bottom = solid(hw, h - hh, Colour::blue)
                      .join(solid(w - hw, h - hh, Colour::yellow), VIPS_DIRECTION_HORIZONTAL);
  return as_srgb(top.join(bottom, VIPS_DIRECTION_VERTICAL));
}

void write_quadrant_jpeg(const fs::path& path, int w, int h, JpegFixture opts) {
  VImage image = stored_for(quadrants(w, h), opts.orientation);
  if (opts.grey) image = image.colourspace(VIPS_INTERPRETATION_B_W);
  with_orientation(image, opts.orientation)
      .jpegsave(path.c_str(),
                VImage::option()->set("Q", opts.quality)->set("interlace", opts.progressive));
}

void write_cmyk_jpeg(const fs::path& path, int w, int h, int orientation) {
  VImage cmyk = stored_for(quadrants(w, h), orientation)
                    .icc_export(VImage::option()->set("output_profile", "cmyk"));
  with_orientation(cmyk, orientation).jpegsave(path.c_str(), VImage::option()->set("Q", 95));
}

void write_quadrant_png(const fs::path& path, int w, int h, PngFixture opts) {
  VImage image = quadrants(w, h);
  if (opts.grey) image = image.colourspace(VIPS_INTERPRETATION_B_W);
  if (opts.alpha) {
    VImage alpha = solid(w / 2, h, Colour::white)[0].join(solid(w - w / 2, h, Colour::black)[0],
                                                          VIPS_DIRECTION_HORIZONTAL);
    image = image.bandjoin(alpha);
    if (!opts.grey) image = as_srgb(image);
  }
  if (opts.bits == 16) {
    image = (image.cast(VIPS_FORMAT_USHORT) * 257)
                .cast(VIPS_FORMAT_USHORT)
                .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_RGB16));
  }
  image.pngsave(path.c_str(),
                VImage::option()->set("bitdepth", opts.bits)->set("palette", opts.palette));
}

void write_quadrant_webp(const fs::path& path, int w, int h) {
  quadrants(w, h).webpsave(path.c_str(), VImage::option()->set("Q", 90));
}

void write_animated_gif(const fs::path& path, int w, int h) {
  init_vips("thumbfetch_tests");
  VImage frames = solid(w, h, Colour::red)
                      .join(solid(w, h, Colour::green), VIPS_DIRECTION_VERTICAL)
                      .join(solid(w, h, Colour::blue), VIPS_DIRECTION_VERTICAL);
  frames = as_srgb(frames).copy();
  frames.set("page-height", h);
  frames.set("n-pages", 3);
  frames.gifsave(path.c_str());
}

namespace {

std::uint32_t crc32(const std::string& data) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : data) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::string be32(std::uint32_t v) {
  return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}

std::string png_chunk(const std::string& type, const std::string& body) {
  return be32(static_cast<std::uint32_t>(body.size())) + type + body + be32(crc32(type + body));
}

}  // namespace

void write_png_header_only(const fs::path& path, int w, int h) {
  std::string ihdr = be32(w) + be32(h) + std::string("\x08\x02\x00\x00\x00", 5);
  // A tiny zlib stream (one stored, empty block): nowhere near w*h pixels.
  std::string idat("\x78\x01\x01\x00\x00\xff\xff\x00\x00\x00\x01", 11);
  write_text(path, std::string("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", ihdr) +
                       png_chunk("IDAT", idat) + png_chunk("IEND", ""));
}

void write_truncated_jpeg(const fs::path& path, int w, int h, double fraction) {
  VImage noise = VImage::gaussnoise(w, h, VImage::option()->set("sigma", 40.0)->set("mean", 128.0));
  VImage image = as_srgb(noise.bandjoin(noise).bandjoin(noise).cast(VIPS_FORMAT_UCHAR));
  void* buf = nullptr;
  size_t size = 0;
  image.write_to_buffer(".jpg", &buf, &size, VImage::option()->set("Q", 90));
  std::string bytes(static_cast<char*>(buf), static_cast<size_t>(size * fraction));
  g_free(buf);
  write_text(path, bytes);
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::array<double, 3> colour_at(const VImage& image, double fx, double fy) {
  VImage rgb = image.bands() < 3 ? image.colourspace(VIPS_INTERPRETATION_sRGB) : image;
  int x = std::clamp(static_cast<int>(fx * rgb.width()), 1, rgb.width() - 2);
  int y = std::clamp(static_cast<int>(fy * rgb.height()), 1, rgb.height() - 2);
  VImage patch = rgb.extract_area(x - 1, y - 1, 3, 3);
  std::array<double, 3> out{};
  for (int b = 0; b < 3; ++b) out[b] = patch[b].avg();
  return out;
}

bool looks_like(const std::array<double, 3>& actual, Colour expected, double tolerance) {
  auto want = rgb_of(expected);
  for (int b = 0; b < 3; ++b) {
    if (std::abs(actual[b] - want[b]) > tolerance) return false;
  }
  return true;
}

}  // namespace thumbfetch::test
