#include "thumbfetch/thumbnail/resample.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace thumbfetch {

namespace {

// Fixed-point precision of the filter weights, as in Pillow: 8 bits of pixel, 2 of headroom.
constexpr int kPrecisionBits = 32 - 8 - 2;

double bicubic(double x) {
  constexpr double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

// For each output pixel along one axis: the first source pixel and integer weights.
struct Weights {
  int taps = 0;                      // weights per output pixel (the widest window)
  std::vector<int> first;            // first source index per output pixel
  std::vector<int> count;            // source pixels used per output pixel
  std::vector<std::int32_t> weight;  // taps per output pixel, fixed point
};

Weights compute_weights(int in_size, double in0, double in1, int out_size) {
  const double scale = (in1 - in0) / out_size;
  const double filter_scale = std::max(scale, 1.0);
  const double support = 2.0 * filter_scale;
  Weights w;
  w.taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  w.first.resize(out_size);
  w.count.resize(out_size);
  w.weight.assign(size_t(out_size) * w.taps, 0);
  std::vector<double> k(w.taps);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = in0 + (xx + 0.5) * scale;
    int xmin = std::max(static_cast<int>(center - support + 0.5), 0);
    int xmax = std::min(static_cast<int>(center + support + 0.5), in_size) - xmin;
    xmax = std::min(xmax, w.taps);
    double total = 0;
    for (int x = 0; x < xmax; ++x) {
      k[x] = bicubic((x + xmin - center + 0.5) / filter_scale);
      total += k[x];
    }
    for (int x = 0; x < xmax; ++x) {
      const double v = total != 0 ? k[x] / total : 0;
      w.weight[size_t(xx) * w.taps + x] = static_cast<std::int32_t>(
          v < 0 ? -0.5 + v * (1 << kPrecisionBits) : 0.5 + v * (1 << kPrecisionBits));
    }
    w.first[xx] = xmin;
    w.count[xx] = xmax;
  }
  return w;
}

inline std::uint8_t clip8(std::int32_t v) {
  v >>= kPrecisionBits;
  return static_cast<std::uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

template <int B>
void horizontal_pass(const Pixels& in, int row0, const Weights& w, Pixels& out) {
  for (int y = 0; y < out.height; ++y) {
    const std::uint8_t* src = in.row(y + row0);
    std::uint8_t* dst = out.row(y);
    for (int xx = 0; xx < out.width; ++xx) {
      const std::int32_t* k = &w.weight[size_t(xx) * w.taps];
      const std::uint8_t* s = src + size_t(w.first[xx]) * B;
      std::int32_t acc[B];
      for (int c = 0; c < B; ++c) acc[c] = 1 << (kPrecisionBits - 1);
      for (int x = 0; x < w.count[xx]; ++x, s += B) {
        for (int c = 0; c < B; ++c) acc[c] += s[c] * k[x];
      }
      for (int c = 0; c < B; ++c) dst[size_t(xx) * B + c] = clip8(acc[c]);
    }
  }
}

#if defined(__x86_64__)
// The same arithmetic as horizontal_pass, one pixel's channels per SSE register: about half the
// instructions for RGB and RGBA, and bit-identical results. A 3-byte pixel is loaded as 4 bytes,
// so the last pixel of a row is added the scalar way (its 4th byte could lie past the buffer).
template <int B>
__attribute__((target("sse4.1"))) void horizontal_pass_sse41(const Pixels& in, int row0,
                                                             const Weights& w, Pixels& out) {
  static_assert(B == 3 || B == 4);
  for (int y = 0; y < out.height; ++y) {
    const std::uint8_t* src = in.row(y + row0);
    std::uint8_t* dst = out.row(y);
    for (int xx = 0; xx < out.width; ++xx) {
      const std::int32_t* k = &w.weight[size_t(xx) * w.taps];
      const std::uint8_t* s = src + size_t(w.first[xx]) * B;
      const int n = w.count[xx];
      const int vector_n = (B == 3 && w.first[xx] + n == in.width) ? n - 1 : n;
      __m128i acc = _mm_set1_epi32(1 << (kPrecisionBits - 1));
      for (int x = 0; x < vector_n; ++x) {
        std::int32_t four;
        std::memcpy(&four, s + size_t(x) * B, 4);
        const __m128i px = _mm_cvtepu8_epi32(_mm_cvtsi32_si128(four));
        acc = _mm_add_epi32(acc, _mm_mullo_epi32(px, _mm_set1_epi32(k[x])));
      }
      alignas(16) std::int32_t lanes[4];
      _mm_store_si128(reinterpret_cast<__m128i*>(lanes), acc);
      for (int x = vector_n; x < n; ++x) {
        for (int c = 0; c < B; ++c) lanes[c] += s[size_t(x) * B + c] * k[x];
      }
      for (int c = 0; c < B; ++c) dst[size_t(xx) * B + c] = clip8(lanes[c]);
    }
  }
}

bool cpu_has_sse41() {
  static const bool has = __builtin_cpu_supports("sse4.1");
  return has;
}
#endif

template <int B>
void horizontal_pass_best(const Pixels& in, int row0, const Weights& w, Pixels& out) {
#if defined(__x86_64__)
  if constexpr (B == 3 || B == 4) {
    if (cpu_has_sse41()) return horizontal_pass_sse41<B>(in, row0, w, out);
  }
#endif
  horizontal_pass<B>(in, row0, w, out);
}

template <int B>
void vertical_pass(const Pixels& in, int row0, const Weights& w, Pixels& out) {
  const size_t stride = in.stride();
  const size_t row_len = size_t(out.width) * B;
  std::vector<std::int32_t> acc(row_len);
  for (int yy = 0; yy < out.height; ++yy) {
    std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
    const std::int32_t* k = &w.weight[size_t(yy) * w.taps];
    const std::uint8_t* s = in.data.data() + size_t(w.first[yy] - row0) * stride;
    for (int y = 0; y < w.count[yy]; ++y, s += stride) {
      const std::int32_t ky = k[y];
      for (size_t i = 0; i < row_len; ++i) acc[i] += s[i] * ky;
    }
    std::uint8_t* dst = out.row(yy);
    for (size_t i = 0; i < row_len; ++i) dst[i] = clip8(acc[i]);
  }
}

template <int B>
Pixels resample_bands(const Pixels& in, double x, double y, double w, double h, Size out) {
  const Weights horiz = compute_weights(in.width, x, x + w, out.width);
  const Weights vert = compute_weights(in.height, y, y + h, out.height);
  // Only the source rows the vertical pass reads go through the horizontal pass.
  const int row_first = vert.first.front();
  const int row_last = vert.first.back() + vert.count.back();
  Pixels tmp(out.width, row_last - row_first, B);
  horizontal_pass_best<B>(in, row_first, horiz, tmp);
  Pixels result(out.width, out.height, B);
  vertical_pass<B>(tmp, row_first, vert, result);
  return result;
}

template <int B>
Pixels reduce_bands(const Pixels& in, int fx, int fy) {
  Pixels out((in.width + fx - 1) / fx, (in.height + fy - 1) / fy, B);
  std::vector<std::uint32_t> sums(size_t(out.width) * B);
  for (int oy = 0; oy < out.height; ++oy) {
    std::fill(sums.begin(), sums.end(), 0);
    const int y0 = oy * fy, y1 = std::min(y0 + fy, in.height);
    for (int y = y0; y < y1; ++y) {
      const std::uint8_t* s = in.row(y);
      for (int ox = 0; ox < out.width; ++ox) {
        const int x0 = ox * fx, x1 = std::min(x0 + fx, in.width);
        std::uint32_t* acc = &sums[size_t(ox) * B];
        for (int x = x0; x < x1; ++x) {
          for (int c = 0; c < B; ++c) acc[c] += s[size_t(x) * B + c];
        }
      }
    }
    std::uint8_t* d = out.row(oy);
    for (int ox = 0; ox < out.width; ++ox) {
      const std::uint32_t n = std::uint32_t(std::min(fx, in.width - ox * fx)) * (y1 - y0);
      for (int c = 0; c < B; ++c) {
        d[size_t(ox) * B + c] = static_cast<std::uint8_t>((sums[size_t(ox) * B + c] + n / 2) / n);
      }
    }
  }
  return out;
}

template <template <int> class F, typename... Args>
Pixels by_bands(int bands, Args&&... args) {
  switch (bands) {
    case 1:
      return F<1>::run(args...);
    case 2:
      return F<2>::run(args...);
    case 3:
      return F<3>::run(args...);
    default:
      return F<4>::run(args...);
  }
}

template <int B>
struct Resample {
  static Pixels run(const Pixels& in, double x, double y, double w, double h, Size out) {
    return resample_bands<B>(in, x, y, w, h, out);
  }
};

template <int B>
struct Reduce {
  static Pixels run(const Pixels& in, int fx, int fy) { return reduce_bands<B>(in, fx, fy); }
};

}  // namespace

Pixels reduce_box(const Pixels& image, int fx, int fy) {
  if (fx <= 1 && fy <= 1) return image;
  return by_bands<Reduce>(image.bands, image, std::max(fx, 1), std::max(fy, 1));
}

Pixels resample_bicubic(const Pixels& image, double x, double y, double w, double h, Size out) {
  return by_bands<Resample>(image.bands, image, x, y, w, h, out);
}

}  // namespace thumbfetch
