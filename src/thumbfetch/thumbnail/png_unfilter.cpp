#include "thumbfetch/thumbnail/png_unfilter.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__)
#include <emmintrin.h>
#endif

namespace thumbfetch {

namespace {

using u8 = std::uint8_t;

enum Filter { kNone = 0, kSub = 1, kUp = 2, kAverage = 3, kPaeth = 4 };

// The predictor of the PNG specification (section 9.4): of a, b, c the one nearest a + b - c,
// ties to a, then b.
inline u8 paeth(int a, int b, int c) {
  const int pa = std::abs(b - c), pb = std::abs(a - c), pc = std::abs(a + b - 2 * c);
  if (pa <= pb && pa <= pc) return static_cast<u8>(a);
  return static_cast<u8>(pb <= pc ? b : c);
}

// Up is the same whatever the pixel size, and plain enough for the compiler to vectorise.
void unfilter_up(const u8* in, u8* out, const u8* prev, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<u8>(in[i] + prev[i]);
}

#if defined(__x86_64__)
// One pixel (3 or 4 bytes) per SSE2 register, as libpng's filter_sse2_intrinsics.c does: Sub,
// Average and Paeth depend on the pixel to the left, so pixels go one after the other, their
// channels side by side. A 3-byte pixel is moved with memcpy, never read past the row.
template <int B>
inline __m128i load_pixel(const u8* p) {
  std::uint32_t v = 0;
  std::memcpy(&v, p, B);
  return _mm_cvtsi32_si128(static_cast<int>(v));
}

template <int B>
inline void store_pixel(u8* p, __m128i v) {
  const auto x = static_cast<std::uint32_t>(_mm_cvtsi128_si32(v));
  std::memcpy(p, &x, B);
}

template <int B>
void unfilter_sub_sse2(const u8* in, u8* out, size_t n) {
  __m128i left = _mm_setzero_si128();
  for (size_t i = 0; i + B <= n; i += B) {
    left = _mm_add_epi8(load_pixel<B>(in + i), left);
    store_pixel<B>(out + i, left);
  }
}

template <int B>
void unfilter_average_sse2(const u8* in, u8* out, const u8* prev, size_t n) {
  const __m128i one = _mm_set1_epi8(1);
  __m128i left = _mm_setzero_si128();
  for (size_t i = 0; i + B <= n; i += B) {
    const __m128i up = load_pixel<B>(prev + i);
    // floor((a + b) / 2): _mm_avg_epu8 rounds up, so take 1 off where a + b is odd.
    __m128i avg = _mm_avg_epu8(left, up);
    avg = _mm_sub_epi8(avg, _mm_and_si128(_mm_xor_si128(left, up), one));
    left = _mm_add_epi8(load_pixel<B>(in + i), avg);
    store_pixel<B>(out + i, left);
  }
}

inline __m128i abs_epi16(__m128i x) {
  return _mm_max_epi16(x, _mm_sub_epi16(_mm_setzero_si128(), x));
}

inline __m128i select(__m128i mask, __m128i yes, __m128i no) {
  return _mm_or_si128(_mm_and_si128(mask, yes), _mm_andnot_si128(mask, no));
}

// Paeth in 16-bit lanes: with p = a + b - c, |p - a| = |b - c|, |p - b| = |a - c| and
// |p - c| = |(b - c) + (a - c)|.
template <int B>
void unfilter_paeth_sse2(const u8* in, u8* out, const u8* prev, size_t n) {
  const __m128i zero = _mm_setzero_si128();
  __m128i a = zero, b = zero;
  for (size_t i = 0; i + B <= n; i += B) {
    const __m128i c = b;
    b = _mm_unpacklo_epi8(load_pixel<B>(prev + i), zero);
    __m128i pa = _mm_sub_epi16(b, c);
    __m128i pb = _mm_sub_epi16(a, c);
    __m128i pc = _mm_add_epi16(pa, pb);
    pa = abs_epi16(pa);
    pb = abs_epi16(pb);
    pc = abs_epi16(pc);
    const __m128i smallest = _mm_min_epi16(pc, _mm_min_epi16(pa, pb));
    const __m128i nearest =
        select(_mm_cmpeq_epi16(smallest, pa), a, select(_mm_cmpeq_epi16(smallest, pb), b, c));
    // Bytewise addition wraps modulo 256 and leaves each lane's high byte zero.
    a = _mm_add_epi8(_mm_unpacklo_epi8(load_pixel<B>(in + i), zero), nearest);
    store_pixel<B>(out + i, _mm_packus_epi16(a, a));
  }
}

template <int B>
bool unfilter_sse2(int filter, const u8* in, u8* out, const u8* prev, size_t n) {
  switch (filter) {
    case kSub:
      unfilter_sub_sse2<B>(in, out, n);
      return true;
    case kAverage:
      unfilter_average_sse2<B>(in, out, prev, n);
      return true;
    case kPaeth:
      unfilter_paeth_sse2<B>(in, out, prev, n);
      return true;
    default:
      return unfilter_row_scalar(filter, in, out, prev, n, B);
  }
}
#endif

}  // namespace

bool unfilter_row_scalar(int filter, const u8* in, u8* out, const u8* prev, size_t n, int bpp) {
  const size_t first = std::min(n, static_cast<size_t>(bpp));
  switch (filter) {
    case kNone:
      if (out != in) std::memcpy(out, in, n);
      return true;
    case kSub:
      for (size_t i = 0; i < first; ++i) out[i] = in[i];
      for (size_t i = first; i < n; ++i) out[i] = static_cast<u8>(in[i] + out[i - bpp]);
      return true;
    case kUp:
      unfilter_up(in, out, prev, n);
      return true;
    case kAverage:
      for (size_t i = 0; i < first; ++i) out[i] = static_cast<u8>(in[i] + prev[i] / 2);
      for (size_t i = first; i < n; ++i) {
        out[i] = static_cast<u8>(in[i] + (out[i - bpp] + prev[i]) / 2);
      }
      return true;
    case kPaeth:
      for (size_t i = 0; i < first; ++i) out[i] = static_cast<u8>(in[i] + prev[i]);
      for (size_t i = first; i < n; ++i) {
        out[i] = static_cast<u8>(in[i] + paeth(out[i - bpp], prev[i], prev[i - bpp]));
      }
      return true;
    default:
      return false;
  }
}

bool unfilter_row(int filter, const u8* in, u8* out, const u8* prev, size_t n, int bpp) {
#if defined(__x86_64__)
  // The vector loops step a whole pixel at a time and write no partial pixel at the end.
  if (n % size_t(bpp) == 0) {
    if (bpp == 4) return unfilter_sse2<4>(filter, in, out, prev, n);
    if (bpp == 3) return unfilter_sse2<3>(filter, in, out, prev, n);
  }
#endif
  return unfilter_row_scalar(filter, in, out, prev, n, bpp);
}

}  // namespace thumbfetch
