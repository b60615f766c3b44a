#include "thumbfetch/thumbnail/pixels.hpp"

#include <cstring>

namespace thumbfetch {

bool orientation_swaps_axes(int orientation) {
  return orientation >= 5 && orientation <= 8;
}

Pixels apply_orientation(Pixels src, int orientation) {
  if (orientation < 2 || orientation > 8) return src;  // moved out: no copy
  const int W = src.width, H = src.height, B = src.bands;
  const bool swap = orientation_swaps_axes(orientation);
  Pixels out(swap ? H : W, swap ? W : H, B);
  for (int y = 0; y < out.height; ++y) {
    std::uint8_t* dst = out.row(y);
    for (int x = 0; x < out.width; ++x) {
      int sx = x, sy = y;  // the source pixel that lands at (x, y)
      switch (orientation) {
        case 2:
          sx = W - 1 - x;
          break;  // mirror horizontal
        case 3:
          sx = W - 1 - x;
          sy = H - 1 - y;
          break;  // rotate 180
        case 4:
          sy = H - 1 - y;
          break;  // mirror vertical
        case 5:
          sx = y;
          sy = x;
          break;  // transpose
        case 6:
          sx = y;
          sy = H - 1 - x;
          break;  // rotate 90 clockwise
        case 7:
          sx = W - 1 - y;
          sy = H - 1 - x;
          break;  // transverse
        case 8:
          sx = W - 1 - y;
          sy = x;
          break;  // rotate 90 anticlockwise
      }
      std::memcpy(dst + size_t(x) * B, src.row(sy) + size_t(sx) * B, B);
    }
  }
  return out;
}

Pixels flatten(const Pixels& src, Rgb bg) {
  if (!src.has_alpha()) return src;
  const int colour = src.bands - 1;
  Pixels out(src.width, src.height, colour);
  const std::uint8_t bgc[3] = {bg.r, bg.g, bg.b};
  // Grey images flatten onto the background's luminance.
  const std::uint8_t bg_grey =
      static_cast<std::uint8_t>((bg.r * 299 + bg.g * 587 + bg.b * 114 + 500) / 1000);
  const size_t n = size_t(src.width) * src.height;
  const std::uint8_t* s = src.data.data();
  std::uint8_t* d = out.data.data();
  for (size_t i = 0; i < n; ++i, s += src.bands, d += colour) {
    const unsigned a = s[colour];
    for (int c = 0; c < colour; ++c) {
      const unsigned b = colour == 1 ? bg_grey : bgc[c];
      d[c] = static_cast<std::uint8_t>((s[c] * a + b * (255 - a) + 127) / 255);
    }
  }
  return out;
}

void premultiply_alpha(Pixels& image) {
  if (!image.has_alpha()) return;
  const int colour = image.bands - 1;
  std::uint8_t* p = image.data.data();
  const size_t n = size_t(image.width) * image.height;
  for (size_t i = 0; i < n; ++i, p += image.bands) {
    const unsigned a = p[colour];
    for (int c = 0; c < colour; ++c) p[c] = static_cast<std::uint8_t>((p[c] * a + 127) / 255);
  }
}

void unpremultiply_alpha(Pixels& image) {
  if (!image.has_alpha()) return;
  const int colour = image.bands - 1;
  std::uint8_t* p = image.data.data();
  const size_t n = size_t(image.width) * image.height;
  for (size_t i = 0; i < n; ++i, p += image.bands) {
    const unsigned a = p[colour];
    if (a == 0 || a == 255) continue;
    for (int c = 0; c < colour; ++c) {
      unsigned v = (p[c] * 255u + a / 2) / a;
      p[c] = static_cast<std::uint8_t>(v > 255 ? 255 : v);
    }
  }
}

Pixels place_on_canvas(const Pixels& image, Size canvas, int x0, int y0, Rgb bg) {
  Pixels out(canvas.width, canvas.height, image.bands);
  const std::uint8_t fill[4] = {bg.r, bg.g, bg.b, 255};
  const std::uint8_t grey_fill[2] = {
      static_cast<std::uint8_t>((bg.r * 299 + bg.g * 587 + bg.b * 114 + 500) / 1000), 255};
  const std::uint8_t* f = image.bands <= 2 ? grey_fill : fill;
  for (int y = 0; y < canvas.height; ++y) {
    std::uint8_t* d = out.row(y);
    for (int x = 0; x < canvas.width; ++x) std::memcpy(d + size_t(x) * image.bands, f, image.bands);
  }
  for (int y = 0; y < image.height; ++y) {
    std::memcpy(out.row(y + y0) + size_t(x0) * image.bands, image.row(y), image.stride());
  }
  return out;
}

}  // namespace thumbfetch
