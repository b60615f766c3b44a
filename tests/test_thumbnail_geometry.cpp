#include <gtest/gtest.h>

#include "thumbfetch/thumbnail/geometry.hpp"

using namespace thumbfetch;

TEST(Geometry, FitKeepsAspectLikePillow) {
  EXPECT_EQ(fit_inside({1600, 1200}, {128, 128}), (Size{128, 96}));
  EXPECT_EQ(fit_inside({1200, 1600}, {128, 128}), (Size{96, 128}));
  EXPECT_EQ(fit_inside({200, 50}, {128, 128}), (Size{128, 32}));
  // 129x1000: 16.5 rounds to the side whose aspect is closer to 0.129 (17/128 beats 16/128).
  EXPECT_EQ(fit_inside({129, 1000}, {128, 128}), (Size{17, 128}));
  // Extreme aspect: never below one pixel.
  EXPECT_EQ(fit_inside({10000, 10}, {128, 128}), (Size{128, 1}));
}

TEST(Geometry, FitNeverEnlarges) {
  EXPECT_EQ(fit_inside({100, 50}, {128, 128}), (Size{100, 50}));
  EXPECT_EQ(fit_inside({128, 128}, {128, 128}), (Size{128, 128}));
}

TEST(Geometry, CoverFillsTheBoxAndCentresTheCrop) {
  ThumbOptions o;
  o.mode = FitMode::cover;
  o.box = {128, 128};
  ThumbPlan p = plan_thumbnail({1600, 1200}, o);
  EXPECT_EQ(p.canvas, (Size{128, 128}));
  EXPECT_EQ(p.resized, (Size{128, 128}));
  EXPECT_DOUBLE_EQ(p.crop_w, 1200);
  EXPECT_DOUBLE_EQ(p.crop_h, 1200);
  EXPECT_DOUBLE_EQ(p.crop_x, 200);
  EXPECT_DOUBLE_EQ(p.crop_y, 0);
}

TEST(Geometry, PadLetterboxesToTheBox) {
  ThumbOptions o;
  o.mode = FitMode::pad;
  o.box = {128, 128};
  ThumbPlan p = plan_thumbnail({1600, 1200}, o);
  EXPECT_EQ(p.canvas, (Size{128, 128}));
  EXPECT_EQ(p.resized, (Size{128, 96}));
  EXPECT_EQ(p.offset_x, 0);
  EXPECT_EQ(p.offset_y, 16);
}

TEST(Geometry, StretchIgnoresAspect) {
  ThumbOptions o;
  o.mode = FitMode::stretch;
  o.box = {64, 200};
  ThumbPlan p = plan_thumbnail({1600, 1200}, o);
  EXPECT_EQ(p.canvas, (Size{64, 200}));
  EXPECT_EQ(p.resized, (Size{64, 200}));
}

TEST(Geometry, ParsesOptions) {
  EXPECT_EQ(parse_size("256x144").value(), (Size{256, 144}));
  EXPECT_FALSE(parse_size("0x10").ok());
  EXPECT_FALSE(parse_size("x").ok());
  EXPECT_FALSE(parse_size("-5").ok());
  EXPECT_FALSE(parse_size("12x12x").ok());
  // vipsthumbnail's forms: N is NxN, a side left out is bounded only by the largest side.
  EXPECT_EQ(parse_size("12").value(), (Size{12, 12}));
  EXPECT_EQ(parse_size("12x").value(), (Size{12, kMaxSide}));
  EXPECT_EQ(parse_size("x12").value(), (Size{kMaxSide, 12}));
  EXPECT_EQ(parse_color("#102030").value(), (Rgb{16, 32, 48}));
  EXPECT_EQ(parse_color("1,2,3").value(), (Rgb{1, 2, 3}));
  EXPECT_FALSE(parse_color("300,0,0").ok());
  EXPECT_FALSE(parse_fit_mode("zoom").ok());
  EXPECT_EQ(parse_output_format("auto").value(), OutputFormat::automatic);
}
