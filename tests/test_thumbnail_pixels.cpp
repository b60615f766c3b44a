#include <gtest/gtest.h>

#include "thumbfetch/thumbnail/pixels.hpp"
#include "thumbfetch/thumbnail/resample.hpp"

using namespace thumbfetch;

namespace {

// A 3x2 grey image holding 1..6 row by row:  1 2 3 / 4 5 6
Pixels numbered() {
  Pixels p(3, 2, 1);
  for (int i = 0; i < 6; ++i) p.data[i] = static_cast<std::uint8_t>(i + 1);
  return p;
}

std::vector<int> values(const Pixels& p) {
  return {p.data.begin(), p.data.end()};
}

}  // namespace

TEST(Pixels, OrientationsMatchTheExifDefinitions) {
  const Pixels src = numbered();
  EXPECT_EQ(values(apply_orientation(src, 1)), (std::vector<int>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(values(apply_orientation(src, 2)), (std::vector<int>{3, 2, 1, 6, 5, 4}));
  EXPECT_EQ(values(apply_orientation(src, 3)), (std::vector<int>{6, 5, 4, 3, 2, 1}));
  EXPECT_EQ(values(apply_orientation(src, 4)), (std::vector<int>{4, 5, 6, 1, 2, 3}));
  // 5..8 swap the axes: the result is 2 wide and 3 high.
  Pixels t = apply_orientation(src, 5);
  EXPECT_EQ(t.width, 2);
  EXPECT_EQ(values(t), (std::vector<int>{1, 4, 2, 5, 3, 6}));
  EXPECT_EQ(values(apply_orientation(src, 6)), (std::vector<int>{4, 1, 5, 2, 6, 3}));
  EXPECT_EQ(values(apply_orientation(src, 7)), (std::vector<int>{6, 3, 5, 2, 4, 1}));
  EXPECT_EQ(values(apply_orientation(src, 8)), (std::vector<int>{3, 6, 2, 5, 1, 4}));
}

TEST(Pixels, FlattenComposesOnTheBackground) {
  Pixels p(2, 1, 4);
  p.data = {200, 0, 0, 255, 200, 0, 0, 0};  // opaque red-ish, fully transparent
  Pixels flat = flatten(p, Rgb{255, 255, 255});
  EXPECT_EQ(flat.bands, 3);
  EXPECT_EQ(values(flat), (std::vector<int>{200, 0, 0, 255, 255, 255}));
}

TEST(Resample, ConstantStaysConstant) {
  Pixels p(300, 200, 3);
  std::fill(p.data.begin(), p.data.end(), 77);
  Pixels out = resample_bicubic(p, 0, 0, 300, 200, {128, 85});
  ASSERT_EQ(out.width, 128);
  ASSERT_EQ(out.height, 85);
  for (auto v : out.data) ASSERT_EQ(v, 77);
}

TEST(Resample, BoxReduceAveragesBlocksIncludingPartialOnes) {
  Pixels p(5, 1, 1);
  p.data = {10, 20, 30, 40, 100};
  Pixels out = reduce_box(p, 2, 1);
  EXPECT_EQ(out.width, 3);
  EXPECT_EQ(values(out), (std::vector<int>{15, 35, 100}));
}

TEST(Resample, GradientStaysMonotonicWithoutRinging) {
  Pixels p(400, 1, 1);
  for (int x = 0; x < 400; ++x) p.data[x] = static_cast<std::uint8_t>(x * 255 / 399);
  Pixels out = resample_bicubic(p, 0, 0, 400, 1, {50, 1});
  for (int x = 1; x < 50; ++x) EXPECT_GE(out.data[x], out.data[x - 1]);
  EXPECT_LT(out.data[0], 10);
  EXPECT_GT(out.data[49], 245);
}

TEST(Resample, CropBoxSelectsTheRegion) {
  // Left half black, right half white: resampling only the right half gives white.
  Pixels p(200, 10, 1);
  std::fill(p.data.begin(), p.data.end(), 0);
  for (int y = 0; y < 10; ++y)
    for (int x = 100; x < 200; ++x) p.row(y)[x] = 255;
  Pixels out = resample_bicubic(p, 120, 0, 80, 10, {8, 2});
  for (auto v : out.data) EXPECT_GE(v, 250);
}

TEST(Resample, RgbAndRgbaGiveTheSameColourChannels) {
  // RGB and RGBA take the vector path, grey+alpha the scalar one: all must agree.
  Pixels rgb(97, 61, 3), rgba(97, 61, 4), ga(97, 61, 2);
  for (int i = 0; i < 97 * 61; ++i) {
    const auto v = static_cast<std::uint8_t>((i * 7919) % 251);
    rgb.data[i * 3] = rgb.data[i * 3 + 1] = rgb.data[i * 3 + 2] = v;
    rgba.data[i * 4] = rgba.data[i * 4 + 1] = rgba.data[i * 4 + 2] = v;
    rgba.data[i * 4 + 3] = 255;
    ga.data[i * 2] = v;
    ga.data[i * 2 + 1] = 255;
  }
  Pixels a = resample_bicubic(rgb, 3.5, 2, 90, 55, {31, 17});
  Pixels b = resample_bicubic(rgba, 3.5, 2, 90, 55, {31, 17});
  Pixels c = resample_bicubic(ga, 3.5, 2, 90, 55, {31, 17});
  for (int i = 0; i < 31 * 17; ++i) {
    ASSERT_EQ(a.data[i * 3], b.data[i * 4]) << i;
    ASSERT_EQ(a.data[i * 3 + 2], b.data[i * 4 + 2]) << i;
    ASSERT_EQ(a.data[i * 3], c.data[i * 2]) << i;
  }
}

namespace {

// Noise with flat runs and hard edges, so the bicubic lobes overshoot and the clamping at 0 and
// 255 is exercised.
Pixels noisy(int w, int h, int bands, unsigned seed) {
  Pixels p(w, h, bands);
  std::uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < p.data.size(); ++i) {
    x = x * 1664525u + 1013904223u;
    const int pixel = static_cast<int>(i / bands);
    p.data[i] =
        (pixel / 7) % 3 == 0 ? static_cast<std::uint8_t>(x >> 24) : ((pixel / 5) % 2 ? 255 : 0);
  }
  return p;
}

// The box reduction as first written, pixel by pixel with a division per sample: the reference
// for the column-sum version.
Pixels reduce_reference(const Pixels& in, int fx, int fy) {
  const int B = in.bands;
  Pixels out((in.width + fx - 1) / fx, (in.height + fy - 1) / fy, B);
  for (int oy = 0; oy < out.height; ++oy) {
    for (int ox = 0; ox < out.width; ++ox) {
      const int x1 = std::min((ox + 1) * fx, in.width), y1 = std::min((oy + 1) * fy, in.height);
      const std::uint32_t n = std::uint32_t(x1 - ox * fx) * (y1 - oy * fy);
      for (int c = 0; c < B; ++c) {
        std::uint32_t sum = 0;
        for (int y = oy * fy; y < y1; ++y) {
          for (int x = ox * fx; x < x1; ++x) sum += in.row(y)[x * B + c];
        }
        out.row(oy)[ox * B + c] = static_cast<std::uint8_t>((sum + n / 2) / n);
      }
    }
  }
  return out;
}

}  // namespace

// The SSE4.1 passes (chosen at run time) against the plain ones, byte for byte, on odd sizes:
// rows whose byte length is not a multiple of 16, one-pixel outputs, upscaling.
TEST(Resample, VectorPassesEqualTheScalarReference) {
  struct Case {
    int w, h;
    double x, y, cw, ch;
    Size out;
  };
  const Case cases[] = {
      {257, 193, 0, 0, 257, 193, {128, 96}},      {97, 61, 3.5, 2, 90, 55, {31, 17}},
      {33, 300, 0, 0, 33, 300, {5, 127}},         {7, 5, 0, 0, 7, 5, {13, 11}},
      {300, 3, 1, 0, 298, 3, {129, 1}},           {1, 1, 0, 0, 1, 1, {1, 1}},
      {255, 255, 0.25, 0.75, 254, 253, {17, 131}}};
  unsigned seed = 1;
  for (const Case& c : cases) {
    for (int bands = 1; bands <= 4; ++bands) {
      const Pixels in = noisy(c.w, c.h, bands, seed++);
      const Pixels fast = resample_bicubic(in, c.x, c.y, c.cw, c.ch, c.out);
      const Pixels ref = resample_bicubic_scalar(in, c.x, c.y, c.cw, c.ch, c.out);
      ASSERT_EQ(fast.size(), ref.size());
      EXPECT_TRUE(fast.data == ref.data) << c.w << "x" << c.h << " to " << c.out.width << "x"
                                         << c.out.height << ", " << bands << " bands";
    }
  }
}

TEST(Resample, BoxReduceEqualsTheBlockByBlockReference) {
  unsigned seed = 100;
  for (auto [w, h] : {std::pair{1, 1}, {5, 3}, {97, 61}, {1001, 7}, {64, 600}}) {
    for (auto [fx, fy] : {std::pair{2, 2}, {3, 1}, {1, 4}, {7, 5}, {16, 16}, {300, 300}}) {
      for (int bands = 1; bands <= 4; ++bands) {
        const Pixels in = noisy(w, h, bands, seed++);
        const Pixels fast = reduce_box(in, fx, fy);
        const Pixels ref = reduce_reference(in, fx, fy);
        ASSERT_EQ(fast.size(), ref.size());
        EXPECT_TRUE(fast.data == ref.data)
            << w << "x" << h << " by " << fx << "x" << fy << ", " << bands << " bands";
      }
    }
  }
}

// Every (colour, alpha) pair on several backgrounds, at lengths around the SSSE3 loop's end,
// against the formula with a true division.
TEST(Pixels, FlattenEqualsTheDivisionFormulaOnEveryValue) {
  for (int bands : {2, 4}) {
    for (Rgb bg : {Rgb{0, 0, 0}, Rgb{255, 255, 255}, Rgb{1, 128, 254}, Rgb{77, 200, 13}}) {
      for (int w : {1, 5, 6, 7, 10, 65536}) {
        Pixels p(w, 1, bands);
        for (int i = 0; i < w; ++i) {
          for (int c = 0; c < bands - 1; ++c) p.data[i * bands + c] = (i + 85 * c) % 256;
          p.data[i * bands + bands - 1] = (i / 256 + 3 * (w < 256)) % 256;
        }
        const Pixels out = flatten(p, bg);
        const unsigned grey = (bg.r * 299 + bg.g * 587 + bg.b * 114 + 500) / 1000;
        const unsigned back[3] = {bands == 2 ? grey : bg.r, bg.g, bg.b};
        for (int i = 0; i < w; ++i) {
          const unsigned a = p.data[i * bands + bands - 1];
          for (int c = 0; c < bands - 1; ++c) {
            const unsigned s = p.data[i * bands + c];
            ASSERT_EQ(out.data[i * (bands - 1) + c], (s * a + back[c] * (255 - a) + 127) / 255)
                << "bands " << bands << ", s " << s << ", a " << a << ", bg " << back[c];
          }
        }
      }
    }
  }
}
