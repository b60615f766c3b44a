#pragma once
// Test images made on the spot with libvips (and TurboJPEG for CMYK), so every case the
// thumbnailer must handle exists as a real file.
//
// The "quadrants" pattern: upright, top-left red, top-right green, bottom-left blue,
// bottom-right yellow; orientation checks look at which colour lands where.

#include <vips/vips8>

#include <array>
#include <filesystem>
#include <string>

namespace thumbfetch::test {

enum class Colour { red, green, blue, yellow, white, black };
std::array<double, 3> rgb_of(Colour c);

vips::VImage quadrants(int width, int height);

struct JpegFixture {
  int quality = 90;
  bool progressive = false;
  bool grey = false;
  int orientation = 1;  // stored so that applying it gives the upright quadrants
};
void write_quadrant_jpeg(const std::filesystem::path& path, int w, int h, JpegFixture opts = {});
void write_cmyk_jpeg(const std::filesystem::path& path, int w, int h, int orientation = 1);

struct PngFixture {
  int bits = 8;
  bool alpha = false;  // right half fully transparent
  bool palette = false;
  bool grey = false;
};
void write_quadrant_png(const std::filesystem::path& path, int w, int h, PngFixture opts = {});
void write_quadrant_webp(const std::filesystem::path& path, int w, int h);
// Three frames: red, green, blue. The thumbnail must show the first.
void write_animated_gif(const std::filesystem::path& path, int w, int h);
// A valid PNG signature and IHDR that claim `w` x `h`, and almost no data.
void write_png_header_only(const std::filesystem::path& path, int w, int h);
// The first `fraction` of a valid JPEG.
void write_truncated_jpeg(const std::filesystem::path& path, int w, int h, double fraction);
void write_text(const std::filesystem::path& path, const std::string& text);

// The average colour of a small patch centred on (fx, fy), fractions of width/height.
std::array<double, 3> colour_at(const vips::VImage& image, double fx, double fy);
// True when `actual` is within `tolerance` of the colour `expected` on every channel.
bool looks_like(const std::array<double, 3>& actual, Colour expected, double tolerance = 40);

}  // namespace thumbfetch::test
