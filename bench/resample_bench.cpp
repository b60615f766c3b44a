// The resampler's passes on their own, per image, at the shapes a web-sized photo takes on its way
// to a 128x128 thumbnail: what the vectorised vertical pass buys over the plain one.
//   g++ -O3 -std=c++20 -Isrc bench/resample_bench.cpp -o /tmp/resample_bench && /tmp/resample_bench
// (bench/png_bench.sh builds and runs it). The passes are internal to resample.cpp, so this file
// includes it whole and sees them as that file does.
#include "../src/thumbfetch/thumbnail/resample.cpp"

#include <chrono>
#include <cstdio>

namespace {

using namespace thumbfetch;
using Clock = std::chrono::steady_clock;

Pixels noise(int w, int h, int bands) {
  Pixels p(w, h, bands);
  std::uint32_t x = 12345;
  for (auto& v : p.data) v = static_cast<std::uint8_t>((x = x * 1664525u + 1013904223u) >> 24);
  return p;
}

// Median of 7 timings of `reps` calls, in microseconds per call.
template <typename F>
double micros_per_call(F&& f, int reps) {
  std::vector<double> t;
  for (int round = 0; round < 7; ++round) {
    const auto start = Clock::now();
    for (int i = 0; i < reps; ++i) f();
    t.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count() / reps);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

template <int B>
void bench_vertical(int in_h, Size out) {
  const Weights vert = compute_weights(in_h, 0, in_h, out.height);
  const Pixels tmp = noise(out.width, in_h, B);
  Pixels a(out.width, out.height, B), b(out.width, out.height, B);
  const double scalar = micros_per_call([&] { vertical_pass<B>(tmp, 0, vert, a); }, 200);
  double vector = scalar;
  if (cpu_has_sse41()) {
    vector = micros_per_call([&] { vertical_pass_sse41(tmp, 0, vert, b); }, 200);
  }
  std::printf("vertical pass %d bands, %dx%d -> %dx%d: scalar %.1f us, sse4.1 %.1f us (%.2fx)%s\n",
              B, out.width, in_h, out.width, out.height, scalar, vector, scalar / vector,
              a.data == b.data || !cpu_has_sse41() ? "" : "  OUTPUT DIFFERS");
}

}  // namespace

int main() {
  // A 1200x900 RGB PNG: box-reduced by 4 to 300x225, resampled to 128x96; the vertical pass
  // reads 128 columns of the 225 rows the horizontal pass made.
  bench_vertical<3>(225, {128, 96});
  bench_vertical<4>(225, {128, 96});
  bench_vertical<1>(225, {128, 96});
  bench_vertical<3>(256, {128, 128});
  bench_vertical<3>(500, {96, 128});
  return 0;
}
