// Imgur link collection against the test server's Imgur-compatible API (127.0.0.1 only).
#include <gtest/gtest.h>

#include <set>

#include "thumbfetch/fetch/transfer.hpp"
#include "thumbfetch/serve/image_server.hpp"
#include "thumbfetch/source/imgur.hpp"

using namespace thumbfetch;

namespace {

ServeConfig imgur_config() {
  ServeConfig c;
  c.generate = 6;
  c.spec.min_side = 32;
  c.spec.max_side = 64;
  c.imgur_pages = 2;
  c.imgur_per_page = 20;
  c.imgur_client_id = "client-secret-0123456789";
  return c;
}

ImgurQuery query_for(const ImageServer& s) {
  ImgurQuery q;
  q.api_base = s.base_url();
  q.client_id = "client-secret-0123456789";
  q.policy.connect_timeout = 2;
  q.policy.stall_timeout = 2;
  q.policy.total_timeout = 10;
  q.policy.retry_base = 0.02;
  return q;
}

class SourceImgur : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

// Per 20 items (contract): stills at i%10 in {0,1,2,4,6,8,9} = 14, of which i%20==1 NSFW (1);
// album with images (i%10==3): 3 stills each; album without (i%10==7): 4 stills each; GIFs
// at i%10==5.
constexpr int kStillPerPage = 13 + 2 * 3 + 2 * 4;  // NSFW left out
constexpr int kGifsPerPage = 2;

TEST_F(SourceImgur, PagesUntilAnEmptyPageExpandingAlbums) {
  ImageServer s(imgur_config());
  s.start_in_thread();
  const ImgurLinks got = collect_imgur_links(query_for(s));
  EXPECT_FALSE(got.error) << got.error->message;
  EXPECT_FALSE(got.limit_reached);
  EXPECT_EQ(static_cast<int>(got.links.size()), 2 * kStillPerPage);
  // Pages 0, 1 and the empty page 2, each asked once; each album without images once.
  const ServerStats st = s.stats();
  for (int page = 0; page <= 2; ++page) {
    EXPECT_EQ(st.get_count("/3/gallery/hot/viral/day/" + std::to_string(page)), 1u) << page;
  }
  EXPECT_EQ(st.get_count("/3/gallery/hot/viral/day/3"), 0u);
  EXPECT_EQ(got.requests, 3 + 2 * 2);
  std::set<std::string> distinct(got.links.begin(), got.links.end());
  EXPECT_EQ(distinct.size(), got.links.size());
  for (const auto& link : got.links) {
    EXPECT_TRUE(link.starts_with(s.base_url() + "/img/")) << link;
    EXPECT_TRUE(link.ends_with(".jpg") || link.ends_with(".png")) << link;  // no GIFs, no mp4
  }
}

TEST_F(SourceImgur, FiltersAndLimit) {
  ImageServer s(imgur_config());
  s.start_in_thread();
  ImgurQuery q = query_for(s);
  q.animated = true;
  q.nsfw = true;
  q.section = "top";
  q.sort = "time";
  q.window = "week";
  const ImgurLinks all = collect_imgur_links(q);
  EXPECT_EQ(static_cast<int>(all.links.size()), 2 * (kStillPerPage + 1 + kGifsPerPage));
  int gifs = 0;
  for (const auto& link : all.links) gifs += link.ends_with(".gif");
  EXPECT_EQ(gifs, 2 * kGifsPerPage);
  EXPECT_EQ(s.stats().get_count("/3/gallery/top/time/week/0"), 1u);

  q.limit = 7;
  const ImgurLinks seven = collect_imgur_links(q);
  ASSERT_EQ(seven.links.size(), 7u);
  EXPECT_EQ(std::vector<std::string>(all.links.begin(), all.links.begin() + 7), seven.links);
  EXPECT_EQ(seven.requests, 1);  // the first page had enough
}

TEST_F(SourceImgur, RateLimitStopsAskingAndKeepsWhatWasCollected) {
  ServeConfig c = imgur_config();
  c.imgur_rate_limit = 2;  // answers 1 and 2 are good (remaining 1, 0), then 429
  ImageServer s(c);
  s.start_in_thread();
  ImgurQuery q = query_for(s);
  q.limit = 100;
  const ImgurLinks got = collect_imgur_links(q);
  EXPECT_TRUE(got.limit_reached);
  EXPECT_FALSE(got.error);
  EXPECT_EQ(got.requests, 2);  // remaining 0 after the second: no third request
  EXPECT_GT(got.links.size(), 0u);
  EXPECT_EQ(
      got.limit_message.rfind("Imgur API limit reached: collected " +
                                  std::to_string(got.links.size()) + " of 100 links (resets at ",
                              0),
      0u)
      << got.limit_message;

  // Already exhausted: the first answer is a 429.
  const ImgurLinks none = collect_imgur_links(q);
  EXPECT_TRUE(none.limit_reached);
  EXPECT_TRUE(none.links.empty());
  EXPECT_EQ(none.limit_message.rfind("Imgur API limit reached: collected 0 of 100 links", 0), 0u);
}

TEST_F(SourceImgur, ApiErrorsShowDataError) {
  ImageServer s(imgur_config());
  s.start_in_thread();
  ImgurQuery q = query_for(s);
  q.client_id = "wrong";
  const ImgurLinks got = collect_imgur_links(q);
  ASSERT_TRUE(got.error);
  EXPECT_NE(got.error->message.find("HTTP 403"), std::string::npos) << got.error->message;
  EXPECT_NE(got.error->message.find("Authentication required"), std::string::npos);
  EXPECT_TRUE(got.links.empty());
  EXPECT_FALSE(got.limit_reached);
}

TEST_F(SourceImgur, SecretsAreMasked) {
  EXPECT_EQ(mask_secret("client-secret-0123456789"), "clie********");
  EXPECT_EQ(mask_secret("abc"), "***");
  ImgurQuery q;
  q.client_id = "x";
  q.section = "cold";
  EXPECT_FALSE(validate_imgur_query(q).ok());
}

TEST(SourceImgurQuery, TheClientIdGoesOverPlainHttpOnlyToLoopback) {
  auto check = [](const std::string& base) {
    ImgurQuery q;
    q.client_id = "x";
    q.api_base = base;
    return validate_imgur_query(q);
  };
  for (const char* ok :
       {"https://api.imgur.com", "HTTPS://example.org:8443/v", "http://127.0.0.1:8080",
        "http://localhost:1/", "http://LocalHost", "http://[::1]:9000/api", "http://127.0.0.1"}) {
    EXPECT_TRUE(check(ok).ok()) << ok;
  }
  for (const char* bad :
       {"http://api.imgur.com", "http://10.0.0.1:8080", "http://127.0.0.1.evil.net/",
        "http://127.0.0.1@evil.net/", "http://localhost.evil.net", "http://[::2]/",
        "http://0.0.0.0:80", "HTTP://example.org"}) {
    const Status st = check(bad);
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_NE(st.error().message.find("in clear text"), std::string::npos) << st.error().message;
  }
}

}  // namespace
