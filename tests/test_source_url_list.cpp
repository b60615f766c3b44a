#include <gtest/gtest.h>

#include <sstream>

#include "thumbfetch/source/url_list.hpp"

using namespace thumbfetch;

TEST(SourceUrlList, SkipsBlanksCommentsDuplicatesAndInvalid) {
  std::istringstream in(
      "# a comment\n"
      "\n"
      "  http://127.0.0.1:8080/img/a.jpg  \n"
      "http://127.0.0.1:8080/img/b.jpg\r\n"
      "http://127.0.0.1:8080/img/a.jpg\n"
      "HTTP://127.0.0.1:8080/img/a.jpg\n"
      "ftp://127.0.0.1/x.jpg\n"
      "file:///etc/passwd\n"
      "not a url\n"
      "http://\n"
      "https://127.0.0.1/img/c.png\n");
  UrlList list = parse_url_list(in);
  ASSERT_EQ(list.urls.size(), 3u);
  EXPECT_EQ(list.urls[0], "http://127.0.0.1:8080/img/a.jpg");
  EXPECT_EQ(list.urls[1], "http://127.0.0.1:8080/img/b.jpg");
  EXPECT_EQ(list.urls[2], "https://127.0.0.1/img/c.png");
  EXPECT_EQ(list.duplicates, 2);
  ASSERT_EQ(list.invalid.size(), 4u);
  EXPECT_EQ(list.invalid[0].line, 7);
  EXPECT_EQ(list.invalid[0].text, "ftp://127.0.0.1/x.jpg");
  EXPECT_NE(list.invalid[0].reason.find("http"), std::string::npos);
}

TEST(SourceUrlList, MissingFileIsAnError) {
  auto list = read_url_list("/nonexistent/urls.txt");
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().kind, ErrorKind::io);
}
