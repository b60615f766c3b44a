#include <gtest/gtest.h>

#include "thumbfetch/util/strings.hpp"

using namespace thumbfetch;

TEST(UtilStrings, ParseIntTakesTheWholeTextOrNothing) {
  EXPECT_EQ(parse_int("42"), 42);
  EXPECT_EQ(parse_int("-7"), -7);
  EXPECT_EQ(parse_int("0"), 0);
  for (const char* bad : {"", "1x", " 1", "1 ", "+1", "0x10", "99999999999"}) {
    EXPECT_EQ(parse_int(bad), std::nullopt) << bad;
  }
}

TEST(UtilStrings, AsciiLowerLeavesOtherBytesAlone) {
  EXPECT_EQ(ascii_lower("Content-TYPE"), "content-type");
  EXPECT_EQ(ascii_lower("\xc3\x89X"), "\xc3\x89x");
}
