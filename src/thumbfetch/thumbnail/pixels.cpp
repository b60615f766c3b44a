#include "thumbfetch/thumbnail/pixels.hpp"

#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

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

namespace {

// (s * a + bg * (255 - a) + 127) / 255: the sum is at most 255 * 255 + 127, where
// (v + 1 + (v >> 8)) >> 8 equals v / 255 (tests check every such v) and nothing leaves 16 bits.
inline unsigned div255(unsigned v) {
  return (v + 1 + (v >> 8)) >> 8;
}

// One loop per colour count, so the compiler sees the pixel's layout.
template <int Colour>
void flatten_pixels(const std::uint8_t* s, std::uint8_t* d, size_t n, const unsigned (&bg)[3]) {
  for (size_t i = 0; i < n; ++i, s += Colour + 1, d += Colour) {
    const unsigned a = s[Colour];
    for (int c = 0; c < Colour; ++c) {
      d[c] = static_cast<std::uint8_t>(div255(s[c] * a + bg[c] * (255 - a) + 127));
    }
  }
}

#if defined(__x86_64__)
// RGBA to RGB four pixels at a time in 16-bit lanes, the same arithmetic as flatten_pixels<3>:
// a division per channel was most of the cost of a photo with alpha. Each step stores 16 bytes
// of which the next step overwrites the last 4, so the last pixels (at least 2) go the plain way.
__attribute__((target("ssse3"))) size_t flatten_rgba_ssse3(const std::uint8_t* s, std::uint8_t* d,
                                                           size_t n, const unsigned (&bg)[3]) {
  const __m128i zero = _mm_setzero_si128();
  const __m128i alpha_lo = _mm_setr_epi8(3, -1, 3, -1, 3, -1, 3, -1, 7, -1, 7, -1, 7, -1, 7, -1);
  const __m128i alpha_hi =
      _mm_setr_epi8(11, -1, 11, -1, 11, -1, 11, -1, 15, -1, 15, -1, 15, -1, 15, -1);
  const __m128i drop_alpha = _mm_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1);
  const auto b0 = static_cast<short>(bg[0]), b1 = static_cast<short>(bg[1]),
             b2 = static_cast<short>(bg[2]);
  const __m128i background = _mm_setr_epi16(b0, b1, b2, 0, b0, b1, b2, 0);
  const __m128i c255 = _mm_set1_epi16(255), c127 = _mm_set1_epi16(127), one = _mm_set1_epi16(1);
  auto blend = [&](__m128i px, __m128i a) {
    __m128i v =
        _mm_add_epi16(_mm_mullo_epi16(px, a), _mm_mullo_epi16(background, _mm_sub_epi16(c255, a)));
    v = _mm_add_epi16(v, c127);
    return _mm_srli_epi16(_mm_add_epi16(_mm_add_epi16(v, one), _mm_srli_epi16(v, 8)), 8);
  };
  size_t i = 0;
  for (; n - i >= 6; i += 4) {
    const __m128i px = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 4 * i));
    const __m128i lo = blend(_mm_unpacklo_epi8(px, zero), _mm_shuffle_epi8(px, alpha_lo));
    const __m128i hi = blend(_mm_unpackhi_epi8(px, zero), _mm_shuffle_epi8(px, alpha_hi));
    const __m128i rgb = _mm_shuffle_epi8(_mm_packus_epi16(lo, hi), drop_alpha);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + 3 * i), rgb);
  }
  return i;
}

bool cpu_has_ssse3() {
  static const bool has = __builtin_cpu_supports("ssse3");
  return has;
}
#endif

}  // namespace

Pixels flatten(const Pixels& src, Rgb bg) {
  if (!src.has_alpha()) return src;
  const int colour = src.bands - 1;
  Pixels out(src.width, src.height, colour);
  // Grey images flatten onto the background's luminance.
  const unsigned bg_grey = (bg.r * 299 + bg.g * 587 + bg.b * 114 + 500) / 1000;
  const unsigned rgb[3] = {bg.r, bg.g, bg.b}, grey[3] = {bg_grey, bg_grey, bg_grey};
  const size_t n = size_t(src.width) * src.height;
  const std::uint8_t* s = src.data.data();
  std::uint8_t* d = out.data.data();
  if (colour == 1) {
    flatten_pixels<1>(s, d, n, grey);
    return out;
  }
  size_t done = 0;
#if defined(__x86_64__)
  if (cpu_has_ssse3()) done = flatten_rgba_ssse3(s, d, n, rgb);
#endif
  flatten_pixels<3>(s + 4 * done, d + 3 * done, n - done, rgb);
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
