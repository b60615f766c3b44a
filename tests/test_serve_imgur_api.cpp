#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "support/serve_test_client.hpp"
#include "thumbfetch/serve/image_server.hpp"
#include "thumbfetch/util/sniff.hpp"

using namespace thumbfetch;
using namespace thumbfetch::testing;
using nlohmann::json;

namespace {

const std::string kAuth = "Authorization: Client-ID test-client-id\r\n";

class ServeImgurApi : public ::testing::Test {
 protected:
  void SetUp() override { start(12500); }
  void start(int rate_limit) {
    ServeConfig config;
    config.generate = 8;
    config.spec.min_side = 64;
    config.spec.max_side = 128;
    config.imgur_rate_limit = rate_limit;
    server_ = std::make_unique<ImageServer>(config);
    server_->start_in_thread();
  }
  RawResponse api(const std::string& target, const std::string& headers = kAuth) {
    return http_request(server_->port(), target, headers);
  }
  json page(int n) {
    RawResponse r = api("/3/gallery/hot/viral/day/" + std::to_string(n));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-type"), "application/json");
    return json::parse(r.body);
  }
  std::unique_ptr<ImageServer> server_;
};

}  // namespace

TEST_F(ServeImgurApi, RequiresTheClientId) {
  for (const std::string& headers :
       {std::string(), std::string("Authorization: Client-ID wrong\r\n"),
        std::string("Authorization: Bearer test-client-id\r\n")}) {
    RawResponse r = api("/3/gallery/hot/viral/day/0", headers);
    EXPECT_EQ(r.status, 403);
    json j = json::parse(r.body);
    EXPECT_EQ(j["data"]["error"], "Authentication required");
    EXPECT_EQ(j["data"]["request"], "/3/gallery/hot/viral/day/0");
    EXPECT_EQ(j["data"]["method"], "GET");
    EXPECT_EQ(j["success"], false);
    EXPECT_EQ(j["status"], 403);
  }
}

TEST_F(ServeImgurApi, PagesHoldTheDocumentedMixAndThenRunDry) {
  std::set<std::string> links;
  for (int p = 0; p < 3; ++p) {
    json j = page(p);
    EXPECT_EQ(j["success"], true);
    EXPECT_EQ(j["status"], 200);
    ASSERT_EQ(j["data"].size(), 60u);
    int stills = 0, gifs = 0, albums_with = 0, albums_without = 0, nsfw = 0, album_images = 0;
    for (const json& item : j["data"]) {
      if (item["is_album"]) {
        EXPECT_TRUE(item["link"].get<std::string>().find("/a/") != std::string::npos);
        if (item.contains("images")) {
          ++albums_with;
          EXPECT_EQ(item["images"].size(), item["images_count"].get<std::size_t>());
          for (const json& image : item["images"]) {
            links.insert(image["link"].get<std::string>());
            ++album_images;
          }
        } else {
          ++albums_without;
          EXPECT_EQ(item["images_count"], 4);
        }
        continue;
      }
      links.insert(item["link"].get<std::string>());
      if (item["nsfw"]) ++nsfw;
      if (item["animated"]) {
        ++gifs;
        EXPECT_EQ(item["type"], "image/gif");
        EXPECT_TRUE(item.contains("mp4"));
        EXPECT_TRUE(item.contains("gifv"));
      } else {
        ++stills;
        std::string type = item["type"];
        EXPECT_TRUE(type == "image/jpeg" || type == "image/png") << type;
      }
    }
    EXPECT_EQ(stills, 42);
    EXPECT_EQ(gifs, 6);
    EXPECT_EQ(albums_with, 6);
    EXPECT_EQ(albums_without, 6);
    EXPECT_EQ(album_images, 18);
    EXPECT_EQ(nsfw, 3);
  }
  EXPECT_EQ(links.size(), 3u * (42 + 6 + 18));  // every link a distinct URL
  json dry = page(3);
  EXPECT_EQ(dry["data"], json::array());
  EXPECT_EQ(dry["success"], true);
  // The form without a window gives the same page.
  RawResponse no_window = api("/3/gallery/top/time/1");
  EXPECT_EQ(json::parse(no_window.body)["data"], page(1)["data"]);
}

TEST_F(ServeImgurApi, LinksServeWhatTheJsonDescribes) {
  json data = page(0)["data"];
  const std::string prefix = server_->base_url() + "/img/";
  for (int i : {0, 5}) {  // a still image and an animated GIF
    const json& item = data[static_cast<std::size_t>(i)];
    std::string link = item["link"];
    ASSERT_EQ(link.rfind(prefix, 0), 0u) << link;
    RawResponse r = http_request(server_->port(), link.substr(server_->base_url().size()));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body.size(), item["size"].get<std::size_t>());
    EXPECT_EQ(r.header("content-type"), item["type"]);
    EXPECT_EQ(sniff_image_format(r.body),
              item["animated"] ? ImageFormat::gif : sniff_image_format(r.body));
    EXPECT_NE(sniff_image_format(r.body), ImageFormat::unknown);
  }
  std::string mp4 = data[5]["mp4"];
  RawResponse video = http_request(server_->port(), mp4.substr(server_->base_url().size()));
  EXPECT_EQ(video.status, 200);
  EXPECT_EQ(video.header("content-type"), "video/mp4");
  EXPECT_EQ(video.body.size(), data[5]["mp4_size"].get<std::size_t>());
}

TEST_F(ServeImgurApi, AlbumsWithoutImagesAreListedByTheAlbumEndpoint) {
  json album = page(0)["data"][7];
  ASSERT_TRUE(album["is_album"]);
  ASSERT_FALSE(album.contains("images"));
  RawResponse r = api("/3/album/" + album["id"].get<std::string>() + "/images");
  ASSERT_EQ(r.status, 200);
  json images = json::parse(r.body)["data"];
  ASSERT_EQ(images.size(), 4u);
  EXPECT_EQ(images[0]["id"], album["cover"]);
  for (const json& image : images) EXPECT_FALSE(image.contains("is_album"));  // image objects
  RawResponse missing = api("/3/album/nosuchid/images");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(json::parse(missing.body)["success"], false);
}

TEST_F(ServeImgurApi, RateLimitCountsDownTo429) {
  start(3);
  for (int remaining : {2, 1, 0}) {
    RawResponse r = api("/3/gallery/hot/viral/day/0");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("x-ratelimit-clientlimit"), "3");
    EXPECT_EQ(r.header("x-ratelimit-clientremaining"), std::to_string(remaining));
    EXPECT_EQ(r.header("x-ratelimit-userremaining"), std::to_string(remaining));
    EXPECT_FALSE(r.header("x-ratelimit-userreset").empty());
  }
  EXPECT_EQ(api("/3/gallery/hot/viral/day/0", "").status, 403);  // no auth: not counted
  RawResponse r = api("/3/gallery/hot/viral/day/1");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.header("x-ratelimit-clientremaining"), "0");
  json j = json::parse(r.body);
  EXPECT_EQ(j["data"]["error"], "Too Many Requests");
  EXPECT_EQ(j["status"], 429);
}
