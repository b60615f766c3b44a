#pragma once
// An Imgur API v3 look-alike for tests and demos: gallery pages of realistic JSON (still images,
// animated GIFs, albums with and without their `images`, NSFW flags) whose links point at this
// server's /img/ route. The mix is a pure function of the position on a page and the seed, so
// tests can count what a client should collect (see tests/test_serve_imgur_api.cpp).

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace thumbfetch {

// Bytes served under /img/<name>, with what the server says and knows about them.
struct ServedAsset {
  std::shared_ptr<const std::string> bytes;
  std::string content_type;  // "image/jpeg", ...
  int width = 0;             // 0 when unknown (not an image)
  int height = 0;
};

// The Content-Type for a file name, by extension ("a.JPG" -> "image/jpeg").
std::string content_type_for_name(std::string_view name);

struct ImgurCatalogConfig {
  int pages = 3;
  int per_page = 60;
  std::uint64_t seed = 1;
};

// One image of the API, as the JSON describes it.
struct ImgurImage {
  std::string id;         // 7 characters [A-Za-z0-9]
  std::string extension;  // "jpg", "png", "gif"
  std::string type;       // "image/jpeg", ...
  bool animated = false;
  bool nsfw = false;
  int width = 0;
  int height = 0;
  std::size_t size = 0;
  std::size_t mp4_size = 0;  // animated only
  int ordinal = 0;           // a running number: titles, view counts
};

struct ImgurAlbum {
  std::string id;
  std::vector<ImgurImage> images;
  bool embeds_images = true;  // false: the gallery item has no `images`; ask /3/album/{id}/images
  int ordinal = 0;
};

// The whole API content, built once from the served corpus.
class ImgurCatalog {
 public:
  // `corpus`: the still images to reuse in turn (name -> asset; without any image every page is
  // empty). The links
  // start with `base_url` ("http://127.0.0.1:PORT").
  ImgurCatalog(const ImgurCatalogConfig& config, const std::map<std::string, ServedAsset>& corpus,
               std::string base_url);

  // `{"data":[...],"success":true,"status":200}` for a page; past the last page `data` is [].
  nlohmann::ordered_json gallery_page(int page) const;

  // `{"data":[images],...}` for an album id, or nullopt when there is no such album.
  std::optional<nlohmann::ordered_json> album_images(std::string_view album_id) const;

  // The extra files the JSON links to ("<id>.jpg", "<id>.gif", "<id>.mp4", "<id>.gifv").
  const std::map<std::string, ServedAsset>& assets() const { return assets_; }

 private:
  struct Item {
    bool is_album = false;
    ImgurImage image;       // !is_album
    std::size_t album = 0;  // index into albums_ when is_album
  };

  nlohmann::ordered_json image_json(const ImgurImage& image, bool in_gallery) const;
  nlohmann::ordered_json album_json(const ImgurAlbum& album) const;
  std::string unique_id();
  ImgurImage make_still(const std::vector<std::pair<std::string, const ServedAsset*>>& corpus,
                        std::size_t& next, bool nsfw);

  ImgurCatalogConfig config_;
  std::string base_url_;
  std::uint64_t rng_state_;
  int ordinal_ = 0;
  std::vector<std::vector<Item>> pages_;
  std::vector<ImgurAlbum> albums_;
  std::map<std::string, std::size_t, std::less<>> album_index_;
  std::map<std::string, ServedAsset> assets_;
  std::set<std::string> ids_;  // every id handed out, albums and images alike
};

// The JSON error body the real API sends: `{"data":{"error":...,"request":...,"method":...},
// "success":false,"status":N}`.
nlohmann::ordered_json imgur_error_json(int status, std::string_view error,
                                        std::string_view request_path, std::string_view method);

}  // namespace thumbfetch
