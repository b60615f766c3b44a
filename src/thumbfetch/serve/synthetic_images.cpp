#include "thumbfetch/serve/synthetic_images.hpp"

#include <vips/vips8>

#include <memory>

#include <fmt/format.h>

#include "thumbfetch/thumbnail/vips_runtime.hpp"
#include "thumbfetch/util/atomic_file.hpp"

namespace thumbfetch {

using vips::VImage;

namespace {

// splitmix64: a tiny, well-mixed generator, so the corpus does not depend on the C++ library.
struct Random {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  int range(int lo, int hi) { return lo + static_cast<int>(next() % std::uint64_t(hi - lo + 1)); }
  double unit() { return (next() >> 11) * (1.0 / 9007199254740992.0); }
};

// Smooth colour fields at two scales plus a little grain: compresses like a photo.
VImage photo_like(int w, int h, Random& rng) {
  auto layer = [&](int cell) {
    return VImage::perlin(w, h,
                          VImage::option()
                              ->set("cell_size", cell)
                              ->set("seed", static_cast<int>(rng.next() & 0x7fffffff)));
  };
  std::vector<VImage> bands;
  for (int b = 0; b < 3; ++b) {
    VImage coarse = layer(std::max(w, h) / rng.range(2, 5));
    VImage fine = layer(rng.range(16, 64));
    double base = rng.range(60, 190);
    bands.push_back(coarse * rng.range(90, 150) + fine * rng.range(10, 40) + base);
  }
  VImage grain = VImage::gaussnoise(
      w, h,
      VImage::option()->set("sigma", 4.0)->set("seed", static_cast<int>(rng.next() & 0x7fffffff)));
  VImage rgb = bands[0].bandjoin(bands[1]).bandjoin(bands[2]) + grain;
  return rgb.cast(VIPS_FORMAT_UCHAR)
      .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
}

}  // namespace

SyntheticImage make_synthetic_image(int index, const SyntheticSpec& spec) {
  Random rng{spec.seed * 0x100000001B3ULL + static_cast<std::uint64_t>(index)};
  rng.next();
  static const double kAspects[] = {4.0 / 3, 3.0 / 2, 16.0 / 9, 1.0, 3.0 / 4, 2.0 / 3, 9.0 / 16};
  const double aspect = kAspects[rng.next() % std::size(kAspects)];
  const int longest = rng.range(spec.min_side, spec.max_side);
  const int w = aspect >= 1 ? longest : std::max(1, static_cast<int>(longest * aspect));
  const int h = aspect >= 1 ? std::max(1, static_cast<int>(longest / aspect)) : longest;
  VImage image = photo_like(w, h, rng);

  SyntheticImage out;
  if (rng.unit() < 0.10) {
    out.name = fmt::format("img_{:04d}.png", index);
    out.bytes = save_to_bytes(image, ".png", VImage::option()->set("compression", 6));
  } else {
    static const int kQualities[] = {80, 82, 85, 85, 85, 88, 90};
    out.name = fmt::format("img_{:04d}.jpg", index);
    out.bytes = save_to_bytes(image, ".jpg",
                              VImage::option()
                                  ->set("Q", kQualities[rng.next() % std::size(kQualities)])
                                  ->set("interlace", rng.unit() < 0.25)
                                  ->set("optimize_coding", true)
                                  ->set("strip", true));
  }
  return out;
}

Status write_synthetic_corpus(const std::filesystem::path& dir, int count,
                              const SyntheticSpec& spec) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  for (int i = 0; i < count; ++i) {
    SyntheticImage image = make_synthetic_image(i, spec);
    if (std::filesystem::exists(dir / image.name)) continue;
    if (auto st = write_file_atomically(dir / image.name, image.bytes); !st) return st.error();
  }
  return Ok{};
}

}  // namespace thumbfetch
