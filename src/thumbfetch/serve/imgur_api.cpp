#include "thumbfetch/serve/imgur_api.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "thumbfetch/serve/media_assets.hpp"
#include "thumbfetch/util/hash.hpp"
#include "thumbfetch/util/strings.hpp"

namespace thumbfetch {

namespace {

// A fixed "now" for `datetime`, so the JSON is the same on every run.
constexpr std::int64_t kEpoch = 1'700'000'000;

std::string extension_for_type(std::string_view type) {
  if (type == "image/jpeg") return "jpg";
  if (type == "image/png") return "png";
  if (type == "image/gif") return "gif";
  if (type == "image/webp") return "webp";
  return "bin";
}

}  // namespace

std::string content_type_for_name(std::string_view name) {
  std::size_t dot = name.rfind('.');
  const std::string ext =
      dot == std::string_view::npos ? std::string() : ascii_lower(name.substr(dot + 1));
  if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
  if (ext == "png") return "image/png";
  if (ext == "gif") return "image/gif";
  if (ext == "webp") return "image/webp";
  if (ext == "bmp") return "image/bmp";
  if (ext == "tif" || ext == "tiff") return "image/tiff";
  if (ext == "avif") return "image/avif";
  if (ext == "heic" || ext == "heif") return "image/heic";
  if (ext == "mp4") return "video/mp4";
  if (ext == "gifv" || ext == "html" || ext == "htm") return "text/html; charset=utf-8";
  if (ext == "txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

nlohmann::ordered_json imgur_error_json(int status, std::string_view error,
                                        std::string_view request_path, std::string_view method) {
  return {{"data", {{"error", error}, {"request", request_path}, {"method", method}}},
          {"success", false},
          {"status", status}};
}

ImgurCatalog::ImgurCatalog(const ImgurCatalogConfig& config,
                           const std::map<std::string, ServedAsset>& corpus, std::string base_url)
    : config_(config), base_url_(std::move(base_url)), rng_state_(config.seed ^ 0x1a2b3c4d5e6fULL) {
  // Only real images with known dimensions can stand behind a still-image item.
  std::vector<std::pair<std::string, const ServedAsset*>> stills;
  for (const auto& [name, asset] : corpus) {
    if (asset.width > 0 && asset.content_type.rfind("image/", 0) == 0)
      stills.emplace_back(name, &asset);
  }
  if (stills.empty()) return;  // nothing to link to: every gallery page is empty
  std::size_t next_still = 0;

  for (int p = 0; p < config_.pages; ++p) {
    std::vector<Item> page;
    for (int i = 0; i < config_.per_page; ++i) {
      Item item;
      if (i % 10 == 3 || i % 10 == 7) {
        ImgurAlbum album;
        album.id = unique_id();
        album.ordinal = ordinal_++;
        album.embeds_images = i % 10 == 3;
        int count = album.embeds_images ? 3 : 4;
        for (int k = 0; k < count; ++k)
          album.images.push_back(make_still(stills, next_still, false));
        item.is_album = true;
        item.album = albums_.size();
        album_index_.emplace(album.id, albums_.size());
        albums_.push_back(std::move(album));
      } else if (i % 10 == 5) {
        ImgurImage gif;
        gif.id = unique_id();
        gif.ordinal = ordinal_++;
        gif.extension = "gif";
        gif.type = "image/gif";
        gif.animated = true;
        gif.width = 48 + static_cast<int>(splitmix64_next(rng_state_) % 113);
        gif.height = 48 + static_cast<int>(splitmix64_next(rng_state_) % 113);
        auto bytes = std::make_shared<const std::string>(
            make_animated_gif(gif.width, gif.height, 3, splitmix64_next(rng_state_)));
        gif.size = bytes->size();
        assets_[gif.id + ".gif"] = ServedAsset{bytes, "image/gif", gif.width, gif.height};
        auto mp4 = std::make_shared<const std::string>(
            make_fake_mp4(1000 + splitmix64_next(rng_state_) % 4000));
        gif.mp4_size = mp4->size();
        assets_[gif.id + ".mp4"] = ServedAsset{mp4, "video/mp4", gif.width, gif.height};
        auto page_html = std::make_shared<const std::string>(fmt::format(
            "<!DOCTYPE html><html><body><video src=\"{}/img/{}.mp4\" autoplay loop></video>"
            "</body></html>\n",
            base_url_, gif.id));
        assets_[gif.id + ".gifv"] = ServedAsset{page_html, "text/html; charset=utf-8", 0, 0};
        item.image = std::move(gif);
      } else {
        item.image = make_still(stills, next_still, i % 20 == 1);
      }
      page.push_back(std::move(item));
    }
    pages_.push_back(std::move(page));
  }
}

std::string ImgurCatalog::unique_id() {
  static constexpr std::string_view kAlphabet =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  for (;;) {
    std::uint64_t r = splitmix64_next(rng_state_);
    std::string id;
    for (int k = 0; k < 7; ++k) {
      id += kAlphabet[r % kAlphabet.size()];
      r /= kAlphabet.size();
    }
    // Ids name both albums and images; a clash (vanishingly rare) just draws again.
    if (ids_.insert(id).second) return id;
  }
}

ImgurImage ImgurCatalog::make_still(
    const std::vector<std::pair<std::string, const ServedAsset*>>& corpus, std::size_t& next,
    bool nsfw) {
  const ServedAsset& asset = *corpus[next % corpus.size()].second;
  ++next;
  ImgurImage image;
  image.id = unique_id();
  image.ordinal = ordinal_++;
  image.type = asset.content_type;
  image.extension = extension_for_type(asset.content_type);
  image.width = asset.width;
  image.height = asset.height;
  image.size = asset.bytes->size();
  image.nsfw = nsfw;
  assets_[image.id + "." + image.extension] = asset;
  return image;
}

nlohmann::ordered_json ImgurCatalog::image_json(const ImgurImage& image, bool in_gallery) const {
  int n = image.ordinal;
  std::string stem = fmt::format("{}/img/{}", base_url_, image.id);
  nlohmann::ordered_json j = {
      {"id", image.id},
      {"title", in_gallery ? nlohmann::ordered_json(fmt::format("Synthetic image {}", n))
                           : nlohmann::ordered_json()},
      {"description", nullptr},
      {"datetime", kEpoch - n * 37},
      {"type", image.type},
      {"animated", image.animated},
      {"width", image.width},
      {"height", image.height},
      {"size", image.size},
      {"views", 1000 + n * 13},
      {"bandwidth", static_cast<std::uint64_t>(1000 + n * 13) * image.size},
      {"vote", nullptr},
      {"favorite", false},
      {"nsfw", image.nsfw},
      {"section", in_gallery ? nlohmann::ordered_json("pics") : nlohmann::ordered_json()},
      {"account_url",
       in_gallery ? nlohmann::ordered_json(fmt::format("user{}", n)) : nlohmann::ordered_json()},
      {"account_id", in_gallery ? nlohmann::ordered_json(1000 + n) : nlohmann::ordered_json()},
      {"is_ad", false},
      {"in_most_viral", in_gallery},
      {"has_sound", false},
      {"tags", nlohmann::ordered_json::array()},
      {"ad_type", 0},
      {"ad_url", ""},
      {"edited", "0"},
      {"in_gallery", in_gallery},
      {"link", fmt::format("{}.{}", stem, image.extension)},
  };
  if (image.animated) {
    j["mp4"] = stem + ".mp4";
    j["gifv"] = stem + ".gifv";
    j["hls"] = stem + ".m3u8";
    j["mp4_size"] = image.mp4_size;
    j["looping"] = true;
  }
  if (in_gallery) {
    j["comment_count"] = n % 17;
    j["favorite_count"] = n % 23;
    j["ups"] = 50 + n % 31;
    j["downs"] = n % 5;
    j["points"] = 50 + n % 31 - n % 5;
    j["score"] = 60 + n % 41;
    j["is_album"] = false;
  }
  return j;
}

nlohmann::ordered_json ImgurCatalog::album_json(const ImgurAlbum& album) const {
  int n = album.ordinal;
  const ImgurImage& cover = album.images.front();
  nlohmann::ordered_json j = {
      {"id", album.id},
      {"title", fmt::format("Synthetic album {}", n)},
      {"description", nullptr},
      {"datetime", kEpoch - n * 37},
      {"cover", cover.id},
      {"cover_width", cover.width},
      {"cover_height", cover.height},
      {"account_url", fmt::format("user{}", n)},
      {"account_id", 1000 + n},
      {"privacy", "public"},
      {"layout", "blog"},
      {"views", 900 + n * 11},
      {"link", fmt::format("{}/a/{}", base_url_, album.id)},
      {"ups", 10 + n % 13},
      {"downs", n % 3},
      {"points", 10 + n % 13 - n % 3},
      {"score", 12 + n % 19},
      {"is_album", true},
      {"vote", nullptr},
      {"favorite", false},
      {"nsfw", false},
      {"section", ""},
      {"comment_count", n % 7},
      {"favorite_count", n % 11},
      {"topic", "No Topic"},
      {"topic_id", 29},
      {"images_count", album.images.size()},
      {"in_gallery", true},
      {"is_ad", false},
      {"tags", nlohmann::ordered_json::array()},
      {"in_most_viral", false},
      {"include_album_ads", false},
  };
  if (album.embeds_images) {
    nlohmann::ordered_json images = nlohmann::ordered_json::array();
    for (const ImgurImage& image : album.images) images.push_back(image_json(image, false));
    j["images"] = std::move(images);
  }
  return j;
}

nlohmann::ordered_json ImgurCatalog::gallery_page(int page) const {
  nlohmann::ordered_json data = nlohmann::ordered_json::array();
  if (page >= 0 && page < static_cast<int>(pages_.size())) {
    for (const Item& item : pages_[static_cast<std::size_t>(page)]) {
      data.push_back(item.is_album ? album_json(albums_[item.album])
                                   : image_json(item.image, true));
    }
  }
  return {{"data", std::move(data)}, {"success", true}, {"status", 200}};
}

std::optional<nlohmann::ordered_json> ImgurCatalog::album_images(std::string_view album_id) const {
  auto it = album_index_.find(album_id);
  if (it == album_index_.end()) return std::nullopt;
  nlohmann::ordered_json data = nlohmann::ordered_json::array();
  for (const ImgurImage& image : albums_[it->second].images)
    data.push_back(image_json(image, false));
  return nlohmann::ordered_json{{"data", std::move(data)}, {"success", true}, {"status", 200}};
}

}  // namespace thumbfetch
