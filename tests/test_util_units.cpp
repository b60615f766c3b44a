// The one home of quantities on the command line (util/units): counts, rates and boxes, and the
// readable refusal of negative values.
#include <gtest/gtest.h>

#include "thumbfetch/util/units.hpp"

using namespace thumbfetch;

TEST(Units, CountsTakeDecimalUnits) {
  EXPECT_EQ(parse_count("1000").value(), 1000u);
  EXPECT_EQ(parse_count("50k").value(), 50'000u);
  EXPECT_EQ(parse_count("50M").value(), 50'000'000u);
  EXPECT_EQ(parse_count("1.5M").value(), 1'500'000u);
  EXPECT_EQ(parse_count("2G").value(), 2'000'000'000u);
  EXPECT_EQ(parse_count("0").value(), 0u);
  EXPECT_FALSE(parse_count("1.5").ok());  // whole numbers only
  EXPECT_FALSE(parse_count("5X").ok());
  const auto negative = parse_count("-5");
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.error().message,
            "-5 is negative; expected a count such as 1000, 50k, 50M or 2G");
}

TEST(Units, RatesPerSecondMinuteHour) {
  EXPECT_DOUBLE_EQ(parse_rate_per_second("10/s").value(), 10);
  EXPECT_DOUBLE_EQ(parse_rate_per_second("10").value(), 10);
  EXPECT_DOUBLE_EQ(parse_rate_per_second("600/m").value(), 10);
  EXPECT_DOUBLE_EQ(parse_rate_per_second("3600/h").value(), 1);
  EXPECT_FALSE(parse_rate_per_second("10/d").ok());
  EXPECT_FALSE(parse_rate_per_second("-1/s").ok());
}

TEST(Units, BoxesInVipsthumbnailsForms) {
  auto sides = [](const char* text) {
    auto b = parse_box(text, 100);
    return b ? std::to_string(b->width) + "x" + std::to_string(b->height) : std::string("no");
  };
  EXPECT_EQ(sides("64"), "64x64");
  EXPECT_EQ(sides("64x32"), "64x32");
  EXPECT_EQ(sides("64x"), "64x0");
  EXPECT_EQ(sides("x32"), "0x32");
  EXPECT_EQ(sides("x"), "no");
  EXPECT_EQ(sides(""), "no");
  EXPECT_EQ(sides("101"), "no");
  EXPECT_EQ(sides("0x5"), "no");
  EXPECT_EQ(sides("6 4"), "no");
}

TEST(Units, NegativeDurationsAndSizesSaySo) {
  EXPECT_NE(parse_duration_seconds("-1").error().message.find("-1 is negative"), std::string::npos);
  EXPECT_NE(parse_byte_size("-2MB").error().message.find("-2MB is negative"), std::string::npos);
  EXPECT_EQ(parse_duration_seconds("90").value(), 90);  // a plain number is seconds
}
