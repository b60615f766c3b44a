#include "thumbfetch/serve/imgur_routes.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "thumbfetch/util/strings.hpp"

namespace thumbfetch {

namespace {

constexpr std::string_view kJsonType = "application/json";

// "/3/gallery/hot" -> {"3", "gallery", "hot"}; empty segments are dropped.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

Response json_error(int status, std::string_view message, const HttpRequest& req,
                    const HeaderList& headers = {}) {
  return make_response(status, kJsonType,
                       imgur_error_json(status, message, req.path, req.method).dump(),
                       req.method == "HEAD", headers);
}

}  // namespace

ImgurRoutes::ImgurRoutes(const ImgurCatalog& catalog, std::string client_id, int rate_limit)
    : catalog_(catalog),
      client_id_(std::move(client_id)),
      limit_(static_cast<std::uint64_t>(std::max(0, rate_limit))),
      user_reset_(std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count() +
                  3600) {}

Response ImgurRoutes::answer(const HttpRequest& req) {
  const std::string* auth = req.header("authorization");
  if (auth == nullptr || *auth != "Client-ID " + client_id_) {
    return json_error(403, "Authentication required", req);
  }
  ++requests_;
  std::uint64_t remaining = requests_ >= limit_ ? 0 : limit_ - requests_;
  const HeaderList headers = {
      {"X-RateLimit-ClientLimit", std::to_string(limit_)},
      {"X-RateLimit-ClientRemaining", std::to_string(remaining)},
      {"X-RateLimit-UserLimit", std::to_string(limit_)},
      {"X-RateLimit-UserRemaining", std::to_string(remaining)},
      {"X-RateLimit-UserReset", std::to_string(user_reset_)},
  };
  if (requests_ > limit_) return json_error(429, "Too Many Requests", req, headers);
  std::vector<std::string_view> parts = split_path(req.path);
  if (parts.size() >= 3 && parts.size() <= 6 && parts[1] == "gallery") {
    return gallery(req, headers);
  }
  if (parts.size() == 4 && parts[1] == "album" && parts[3] == "images") {
    if (auto images = catalog_.album_images(parts[2])) {
      return make_response(200, kJsonType, images->dump(), req.method == "HEAD", headers);
    }
    return json_error(404, fmt::format("Unable to find an album with the id, {}", parts[2]), req,
                      headers);
  }
  return json_error(404, "Not found", req, headers);
}

// /3/gallery/{section}[/{sort}[/{window}]][/{page}]
Response ImgurRoutes::gallery(const HttpRequest& req, const HeaderList& headers) {
  std::vector<std::string_view> parts = split_path(req.path);
  int page = 0;
  if (parts.size() >= 4) {
    std::optional<int> last = parse_int(parts.back());
    if (last && *last >= 0) {
      page = *last;
    } else if (parts.size() == 6) {
      return json_error(400, "Invalid page", req, headers);
    }
  }
  return make_response(200, kJsonType, catalog_.gallery_page(page).dump(), req.method == "HEAD",
                       headers);
}

}  // namespace thumbfetch
