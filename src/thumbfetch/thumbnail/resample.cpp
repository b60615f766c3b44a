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

// Fixed-point precision of the vertical filter weights, as in Pillow: 8 bits of pixel, 2 of
// headroom.
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
  int taps = 0;               // weights per output pixel (a multiple of 4; zeros after count)
  int bits = kPrecisionBits;  // fixed-point precision of `weight`
  std::vector<int> first;     // first source index per output pixel
  std::vector<int> count;     // source pixels used per output pixel
  std::vector<std::int32_t> weight;  // taps per output pixel, fixed point
  // Horizontal weights only: the same, as pairs of 16-bit weights (taps 2i, 2i+1), each pair
  // four times over: what pmaddwd takes, ready to load.
  std::vector<std::int32_t> pairs;
};

// The normalised filter weights for each output pixel, as doubles (taps per pixel).
struct RealWeights {
  int taps = 0;
  std::vector<int> first, count;
  std::vector<double> weight;
};

RealWeights real_weights(int in_size, double in0, double in1, int out_size) {
  const double scale = (in1 - in0) / out_size;
  const double filter_scale = std::max(scale, 1.0);
  const double support = 2.0 * filter_scale;
  RealWeights w;
  // Rounded up to 4 taps: the horizontal pass reads four pixels at a time.
  w.taps = (static_cast<int>(std::ceil(support)) * 2 + 1 + 3) / 4 * 4;
  w.first.resize(out_size);
  w.count.resize(out_size);
  w.weight.assign(size_t(out_size) * w.taps, 0.0);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = in0 + (xx + 0.5) * scale;
    int xmin = std::max(static_cast<int>(center - support + 0.5), 0);
    int xmax = std::min(static_cast<int>(center + support + 0.5), in_size) - xmin;
    xmax = std::min(xmax, w.taps);
    double* k = &w.weight[size_t(xx) * w.taps];
    double total = 0;
    for (int x = 0; x < xmax; ++x) {
      k[x] = bicubic((x + xmin - center + 0.5) / filter_scale);
      total += k[x];
    }
    for (int x = 0; x < xmax; ++x) k[x] = total != 0 ? k[x] / total : 0;
    w.first[xx] = xmin;
    w.count[xx] = xmax;
  }
  return w;
}

// Weights with `bits` of precision; with Precision::sixteen, the most bits (up to 22) that keep
// every weight within a 16-bit integer, for pmaddwd (the largest weight of a downscale by 2 or
// more is under 0.3, so 16 bits: the thumbnails differ from the 22-bit weights' by a few
// hundredths of a level on average).
enum class Precision { pillow, sixteen };

Weights compute_weights(int in_size, double in0, double in1, int out_size, Precision precision) {
  RealWeights real = real_weights(in_size, in0, in1, out_size);
  Weights w;
  w.taps = real.taps;
  w.first = std::move(real.first);
  w.count = std::move(real.count);
  if (precision == Precision::sixteen) {
    double largest = 0;
    for (double v : real.weight) largest = std::max(largest, std::fabs(v));
    w.bits = 8;
    while (w.bits < kPrecisionBits && largest * (1 << (w.bits + 1)) + 0.5 < 32767) ++w.bits;
  }
  w.weight.resize(real.weight.size());
  for (size_t i = 0; i < real.weight.size(); ++i) {
    const double v = real.weight[i];
    w.weight[i] =
        static_cast<std::int32_t>(v < 0 ? -0.5 + v * (1 << w.bits) : 0.5 + v * (1 << w.bits));
  }
  if (precision == Precision::sixteen) {
    w.pairs.reserve(w.weight.size() * 2);
    for (size_t i = 0; i < w.weight.size(); i += 2) {
      const auto pair = static_cast<std::int32_t>(
          static_cast<std::uint16_t>(w.weight[i]) |
          (static_cast<std::uint32_t>(static_cast<std::uint16_t>(w.weight[i + 1])) << 16));
      w.pairs.insert(w.pairs.end(), 4, pair);
    }
  }
  return w;
}

inline std::uint8_t clip8(std::int32_t v, int bits = kPrecisionBits) {
  v >>= bits;
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
      for (int c = 0; c < B; ++c) acc[c] = 1 << (w.bits - 1);
      for (int x = 0; x < w.count[xx]; ++x, s += B) {
        for (int c = 0; c < B; ++c) acc[c] += s[c] * k[x];
      }
      for (int c = 0; c < B; ++c) dst[size_t(xx) * B + c] = clip8(acc[c], w.bits);
    }
  }
}

#if defined(__x86_64__)
// The same arithmetic as horizontal_pass (16-bit weights), four source pixels per step: one
// 16-byte load, two byte shuffles that widen the channels of pixels 0-1 and 2-3 to pairs of
// 16-bit values ([r0 r1 g0 g1 b0 b1 a0 a1]), and two pmaddwd with the pair of weights in every
// lane (stored so, ready to load: broadcasting them took the shuffle port the pixels need): 2 taps
// x 4 channels per instruction, against 1 x 4 with the 32-bit multiply. Taps past a pixel's count
// have zero weights, so what they read does not count; a row too near the end of the buffer for the
// 16-byte loads past its last pixel is copied to a padded row first.
template <int B>
__attribute__((target("sse4.1"))) void horizontal_pass_sse41(const Pixels& in, int row0,
                                                             const Weights& w, Pixels& out) {
  static_assert(B == 3 || B == 4);
  const __m128i lo = B == 3
                         ? _mm_setr_epi8(0, -1, 3, -1, 1, -1, 4, -1, 2, -1, 5, -1, -1, -1, -1, -1)
                         : _mm_setr_epi8(0, -1, 4, -1, 1, -1, 5, -1, 2, -1, 6, -1, 3, -1, 7, -1);
  const __m128i hi =
      B == 3 ? _mm_setr_epi8(6, -1, 9, -1, 7, -1, 10, -1, 8, -1, 11, -1, -1, -1, -1, -1)
             : _mm_setr_epi8(8, -1, 12, -1, 9, -1, 13, -1, 10, -1, 14, -1, 11, -1, 15, -1);
  const __m128i half = _mm_set1_epi32(1 << (w.bits - 1));
  const std::size_t padded_len = (size_t(in.width) + w.taps) * B + 16;
  const std::uint8_t* buffer_end = in.data.data() + in.data.size();
  std::vector<std::uint8_t> padded;  // the rows near the end of the buffer
  for (int y = 0; y < out.height; ++y) {
    const std::uint8_t* src = in.row(y + row0);
    if (src + padded_len > buffer_end) {
      padded.assign(padded_len, 0);
      std::memcpy(padded.data(), src, size_t(in.width) * B);
      src = padded.data();
    }
    std::uint8_t* dst = out.row(y);
    for (int xx = 0; xx < out.width; ++xx) {
      const std::int32_t* k = &w.pairs[size_t(xx) * w.taps * 2];
      const std::uint8_t* s = src + size_t(w.first[xx]) * B;
      const int groups = (w.count[xx] + 3) / 4;
      __m128i acc = half;
      for (int g = 0; g < groups; ++g, s += 4 * B, k += 8) {
        const __m128i px = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
        const __m128i k01 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(k));
        const __m128i k23 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(k + 4));
        acc = _mm_add_epi32(acc, _mm_madd_epi16(_mm_shuffle_epi8(px, lo), k01));
        acc = _mm_add_epi32(acc, _mm_madd_epi16(_mm_shuffle_epi8(px, hi), k23));
      }
      // Shift, then saturate to 0..255 as clip8 does (the shifted sum fits 16 bits).
      const __m128i v = _mm_srai_epi32(acc, w.bits);
      const __m128i bytes = _mm_packus_epi16(_mm_packs_epi32(v, v), v);
      const std::int32_t four = _mm_cvtsi128_si32(bytes);
      std::memcpy(dst + size_t(xx) * B, &four, B);
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

#if defined(__x86_64__)
// The same arithmetic as vertical_pass, 16 bytes of a row at a time whatever the band count:
// four registers of 32-bit sums stay in registers over the taps (the scalar pass stores its sums
// after every tap), then shift, and saturate to 0..255 as clip8 does (a sum shifted by 22 bits
// fits 16 bits, so the two saturating packs clamp exactly where clip8 does). The last bytes of a
// row that do not fill 16 go the scalar way.
__attribute__((target("sse4.1"))) void vertical_pass_sse41(const Pixels& in, int row0,
                                                           const Weights& w, Pixels& out) {
  const size_t stride = in.stride();
  const size_t row_len = out.stride();
  const __m128i half = _mm_set1_epi32(1 << (kPrecisionBits - 1));
  for (int yy = 0; yy < out.height; ++yy) {
    const std::int32_t* k = &w.weight[size_t(yy) * w.taps];
    const std::uint8_t* first = in.data.data() + size_t(w.first[yy] - row0) * stride;
    const int n = w.count[yy];
    std::uint8_t* dst = out.row(yy);
    size_t i = 0;
    for (; i + 16 <= row_len; i += 16) {
      __m128i a0 = half, a1 = half, a2 = half, a3 = half;
      const std::uint8_t* s = first + i;
      for (int y = 0; y < n; ++y, s += stride) {
        const __m128i px = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
        const __m128i ky = _mm_set1_epi32(k[y]);
        a0 = _mm_add_epi32(a0, _mm_mullo_epi32(_mm_cvtepu8_epi32(px), ky));
        a1 = _mm_add_epi32(a1, _mm_mullo_epi32(_mm_cvtepu8_epi32(_mm_srli_si128(px, 4)), ky));
        a2 = _mm_add_epi32(a2, _mm_mullo_epi32(_mm_cvtepu8_epi32(_mm_srli_si128(px, 8)), ky));
        a3 = _mm_add_epi32(a3, _mm_mullo_epi32(_mm_cvtepu8_epi32(_mm_srli_si128(px, 12)), ky));
      }
      const __m128i lo =
          _mm_packs_epi32(_mm_srai_epi32(a0, kPrecisionBits), _mm_srai_epi32(a1, kPrecisionBits));
      const __m128i hi =
          _mm_packs_epi32(_mm_srai_epi32(a2, kPrecisionBits), _mm_srai_epi32(a3, kPrecisionBits));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm_packus_epi16(lo, hi));
    }
    for (; i < row_len; ++i) {
      std::int32_t acc = 1 << (kPrecisionBits - 1);
      for (int y = 0; y < n; ++y) acc += first[size_t(y) * stride + i] * k[y];
      dst[i] = clip8(acc);
    }
  }
}
#endif

// Which passes resample_bands uses: the vectorised ones where the CPU has them, or the plain
// ones (the reference they are tested against).
enum class Passes { best, scalar };

template <int B>
void vertical_pass_best(const Pixels& in, int row0, const Weights& w, Pixels& out) {
#if defined(__x86_64__)
  if (cpu_has_sse41()) return vertical_pass_sse41(in, row0, w, out);
#endif
  vertical_pass<B>(in, row0, w, out);
}

template <int B>
Pixels resample_bands(const Pixels& in, double x, double y, double w, double h, Size out,
                      Passes passes) {
  const Weights horiz = compute_weights(in.width, x, x + w, out.width, Precision::sixteen);
  const Weights vert = compute_weights(in.height, y, y + h, out.height, Precision::pillow);
  // Only the source rows the vertical pass reads go through the horizontal pass.
  const int row_first = vert.first.front();
  const int row_last = vert.first.back() + vert.count.back();
  Pixels tmp(out.width, row_last - row_first, B);
  Pixels result(out.width, out.height, B);
  if (passes == Passes::scalar) {
    horizontal_pass<B>(in, row_first, horiz, tmp);
    vertical_pass<B>(tmp, row_first, vert, result);
  } else {
    horizontal_pass_best<B>(in, row_first, horiz, tmp);
    vertical_pass_best<B>(tmp, row_first, vert, result);
  }
  return result;
}

// Exact division of a 32-bit value by a constant, with one multiplication (Lemire, Kaser and
// Kurz, "Faster remainder by direct computation", 2019): a hardware division per output sample
// cost more than the rest of the box reduction.
__extension__ typedef unsigned __int128 Uint128;  // GCC and Clang; -Wpedantic knows

class Divider {
 public:
  explicit Divider(std::uint32_t d) : d_(d), m_(d == 1 ? 0 : ~std::uint64_t{0} / d + 1) {}
  std::uint32_t operator()(std::uint32_t x) const {
    return d_ == 1 ? x : static_cast<std::uint32_t>((static_cast<Uint128>(x) * m_) >> 64);
  }

 private:
  std::uint32_t d_;
  std::uint64_t m_;
};

// Sums fy rows column by column (a loop the compiler vectorises), then fx columns of those sums
// per output pixel: the same sums, so the same result, as adding each block pixel by pixel.
// `Acc` is 16 bits where fy * 255 fits (twice the bytes per instruction), else 32.
template <int B, typename Acc>
Pixels reduce_bands_as(const Pixels& in, int fx, int fy) {
  Pixels out((in.width + fx - 1) / fx, (in.height + fy - 1) / fy, B);
  const size_t row_len = in.stride();
  std::vector<Acc> columns(row_len);
  for (int oy = 0; oy < out.height; ++oy) {
    const int y0 = oy * fy, y1 = std::min(y0 + fy, in.height);
    const std::uint8_t* first = in.row(y0);
    for (size_t i = 0; i < row_len; ++i) columns[i] = first[i];
    for (int y = y0 + 1; y < y1; ++y) {
      const std::uint8_t* s = in.row(y);
      for (size_t i = 0; i < row_len; ++i) columns[i] = static_cast<Acc>(columns[i] + s[i]);
    }
    const int rows = y1 - y0;
    const int last_fx = in.width - (out.width - 1) * fx;
    const Divider full(std::uint32_t(fx) * rows), last(std::uint32_t(last_fx) * rows);
    std::uint8_t* d = out.row(oy);
    for (int ox = 0; ox < out.width; ++ox, d += B) {
      const bool is_last = ox == out.width - 1;
      const int nx = is_last ? last_fx : fx;
      const std::uint32_t half = std::uint32_t(nx) * rows / 2;
      const Acc* col = &columns[size_t(ox) * fx * B];
      std::uint32_t sum[B] = {};
      for (int x = 0; x < nx; ++x, col += B) {
        for (int c = 0; c < B; ++c) sum[c] += col[c];
      }
      for (int c = 0; c < B; ++c) {
        d[c] = static_cast<std::uint8_t>(is_last ? last(sum[c] + half) : full(sum[c] + half));
      }
    }
  }
  return out;
}

template <int B>
Pixels reduce_bands(const Pixels& in, int fx, int fy) {
  if (fy <= 65535 / 255) return reduce_bands_as<B, std::uint16_t>(in, fx, fy);
  return reduce_bands_as<B, std::uint32_t>(in, fx, fy);
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
  static Pixels run(const Pixels& in, double x, double y, double w, double h, Size out,
                    Passes passes) {
    return resample_bands<B>(in, x, y, w, h, out, passes);
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
  return by_bands<Resample>(image.bands, image, x, y, w, h, out, Passes::best);
}

Pixels resample_bicubic_scalar(const Pixels& image, double x, double y, double w, double h,
                               Size out) {
  return by_bands<Resample>(image.bands, image, x, y, w, h, out, Passes::scalar);
}

}  // namespace thumbfetch
