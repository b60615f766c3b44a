#include <gtest/gtest.h>

#include "thumbfetch/fetch/naming.hpp"

using namespace thumbfetch;

TEST(FetchNaming, StemFromLastPathSegment) {
  EXPECT_EQ(safe_stem_from_url("http://127.0.0.1:1/img/photo.jpg"), "photo");
  EXPECT_EQ(safe_stem_from_url("http://127.0.0.1:1/a/b/cat.picture.PNG?x=1#frag"), "cat.picture");
  EXPECT_EQ(safe_stem_from_url("http://127.0.0.1:1/img/"), "img");
  EXPECT_EQ(safe_stem_from_url("http://127.0.0.1:1/"), "image");
  EXPECT_EQ(safe_stem_from_url("http://127.0.0.1:1"), "image");
  EXPECT_EQ(safe_stem_from_url("http://127.0.0.1:1/view.php?id=../../x"), "view");
}

TEST(FetchNaming, NeverLeavesTheFolder) {
  for (const char* url :
       {"http://127.0.0.1:1/img/..", "http://127.0.0.1:1/img/%2e%2e",
        "http://127.0.0.1:1/img/..%2F..%2Fetc%2Fpasswd", "http://127.0.0.1:1/img/%2F",
        "http://127.0.0.1:1/img/.hidden.jpg", "http://127.0.0.1:1/img/..%5C..%5Cwin.ini",
        "http://127.0.0.1:1/img/-rf.jpg", "http://127.0.0.1:1/img/%00%0a%1b.jpg"}) {
    const std::string stem = safe_stem_from_url(url);
    SCOPED_TRACE(url);
    EXPECT_FALSE(stem.empty());
    EXPECT_EQ(stem.find('/'), std::string::npos);
    EXPECT_EQ(stem.find('\\'), std::string::npos);
    EXPECT_NE(stem.front(), '.');
    EXPECT_NE(stem.front(), '-');
    for (unsigned char c : stem) EXPECT_GE(c, 0x20);
  }
  EXPECT_EQ(safe_stem_from_url("http://127.0.0.1:1/img/..%2F..%2Fetc%2Fpasswd"), "passwd");
  EXPECT_EQ(safe_stem_from_url("http://127.0.0.1:1/img/.hidden.jpg"), "hidden");
  EXPECT_EQ(safe_stem_from_url("http://127.0.0.1:1/img/a%20b%0Ac.jpg"), "a_b_c");
}

TEST(FetchNaming, LengthCappedAndAsciiOnly) {
  const std::string long_name(500, 'x');
  EXPECT_EQ(safe_stem_from_url("http://127.0.0.1:1/" + long_name + ".jpg").size(), kMaxStemLength);
  EXPECT_EQ(safe_stem_from_url("http://127.0.0.1:1/%E6%97%A5%E6%9C%AC.jpg"), "image");
}

TEST(FetchNaming, HostKey) {
  EXPECT_EQ(url_host("http://User@Example.COM:8080/x?y"), "example.com:8080");
  EXPECT_EQ(url_host("https://127.0.0.1/"), "127.0.0.1");
}
