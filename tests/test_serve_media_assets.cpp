#include <gtest/gtest.h>

#include <vips/vips8>

#include "thumbfetch/serve/media_assets.hpp"
#include "thumbfetch/thumbnail/vips_runtime.hpp"
#include "thumbfetch/util/sniff.hpp"

using namespace thumbfetch;

TEST(ServeMediaAssets, AnimatedGifDecodesWithAllFrames) {
  init_vips("thumbfetch_tests");
  std::string gif = make_animated_gif(70, 41, 3, 7);
  EXPECT_EQ(sniff_image_format(gif), ImageFormat::gif);
  EXPECT_EQ(gif, make_animated_gif(70, 41, 3, 7));  // deterministic
  vips::VImage all = vips::VImage::new_from_buffer(gif.data(), gif.size(), "",
                                                   vips::VImage::option()->set("n", -1));
  EXPECT_EQ(all.width(), 70);
  EXPECT_EQ(all.get_int("page-height"), 41);
  EXPECT_EQ(all.height(), 41 * 3);
  // Decoding every pixel proves the LZW stream is valid, not just the header.
  EXPECT_GE(all.avg(), 0.0);
}

TEST(ServeMediaAssets, FakeMp4AndJpegPreambleHaveTheRightMagic) {
  std::string mp4 = make_fake_mp4(2000);
  EXPECT_EQ(mp4.size(), 2000u);
  EXPECT_EQ(mp4.substr(4, 4), "ftyp");
  EXPECT_EQ(sniff_image_format(jpeg_preamble()), ImageFormat::jpeg);
}
