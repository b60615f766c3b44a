#include <gtest/gtest.h>

#include "thumbfetch/util/sniff.hpp"

using namespace thumbfetch;

TEST(Sniff, RecognisesImageMagic) {
  EXPECT_EQ(sniff_image_format("\xFF\xD8\xFF\xE0"), ImageFormat::jpeg);
  EXPECT_EQ(sniff_image_format("\x89PNG\r\n\x1A\n...."), ImageFormat::png);
  EXPECT_EQ(sniff_image_format("GIF89a......"), ImageFormat::gif);
  EXPECT_EQ(sniff_image_format(std::string_view("RIFF\x10\0\0\0WEBPVP8 ", 16)), ImageFormat::webp);
  EXPECT_EQ(sniff_image_format(std::string_view("\0\0\0\x1c"
                                                "ftypavif",
                                                12)),
            ImageFormat::avif);
  EXPECT_EQ(sniff_image_format(std::string_view("\0\0\0\x18"
                                                "ftypheic",
                                                12)),
            ImageFormat::heif);
  EXPECT_EQ(sniff_image_format(std::string_view("II*\0\x08\0\0\0", 8)), ImageFormat::tiff);
  EXPECT_EQ(sniff_image_format(std::string_view("MM\0*\0\0\0\x08", 8)), ImageFormat::tiff);
}

// BigTIFF: version 43 and 64-bit offsets ("II+\0", 8, 0, then the first IFD's offset).
TEST(Sniff, RecognisesBigTiff) {
  EXPECT_EQ(sniff_image_format(std::string_view("II+\0\x08\0\0\0\x10\0\0\0\0\0\0\0", 16)),
            ImageFormat::tiff);
  EXPECT_EQ(sniff_image_format(std::string_view("MM\0+\0\x08\0\0\0\0\0\0\0\0\0\x10", 16)),
            ImageFormat::tiff);
}

TEST(Sniff, NamesWhatIsNotAnImage) {
  EXPECT_EQ(sniff_image_format("<!DOCTYPE html><html>"), ImageFormat::unknown);
  EXPECT_EQ(describe_non_image("  <!DOCTYPE html><html>"), "text/html");
  EXPECT_EQ(describe_non_image("<HTML><body>404"), "text/html");
  EXPECT_EQ(describe_non_image(""), "empty file");
  EXPECT_EQ(describe_non_image("{\"error\": 1}"), "application/json");
  EXPECT_EQ(describe_non_image("hello world\n"), "text/plain");
  EXPECT_EQ(describe_non_image(std::string_view("\x01\x02\x00\xff", 4)), "data");
}
