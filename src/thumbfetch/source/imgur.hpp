#pragma once
// Image links from the Imgur API v3 gallery: GET {api}/3/gallery/{section}/{sort}/{window}/{page}
// with "Authorization: Client-ID <id>", pages from 0 until `limit` links are collected or a page
// comes back empty. Albums are expanded into their images (their images[], or
// GET /3/album/{id}/images when the gallery left it out). Kept by default: still images
// (image/jpeg, image/png, image/webp, not animated, not NSFW); GIFs and NSFW by option.
// Rate limits: X-RateLimit-ClientRemaining / UserRemaining / UserReset are read on every answer;
// a 429, a 403 "over capacity" or a remaining count of 0 stops the asking, and what was collected
// so far is kept. Transient failures (network, 5xx) are retried with backoff like downloads.

#include <curl/curl.h>

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "thumbfetch/fetch/types.hpp"
#include "thumbfetch/util/error.hpp"

namespace thumbfetch {

struct ImgurQuery {
  std::string api_base = "https://api.imgur.com";
  std::string client_id;
  std::string section = "hot";  // hot | top | user
  std::string sort = "viral";   // viral | top | time | rising
  std::string window = "day";   // day | week | month | year | all
  int limit = 0;                // links wanted; 0: every page until an empty one
  bool animated = false;        // keep animated GIFs
  bool nsfw = false;            // keep items flagged NSFW
  FetchPolicy policy;           // timeouts and retries for the API requests
  const std::atomic<bool>* cancel = nullptr;
};

struct ImgurLinks {
  std::vector<std::string> links;  // distinct, in gallery order, at most `limit`
  std::vector<ItemMeta> meta;      // what the API said of each link (same order)
  int requests = 0;                // API requests made
  bool limit_reached = false;
  std::string limit_message;   // "Imgur API limit reached: collected X of N links (...)"
  std::optional<Error> error;  // an API error that stopped the collection (data.error shown)
};

ImgurLinks collect_imgur_links(const ImgurQuery& query);

// One API answer as the collector reads it (`path` is "/3/gallery/..." or "/3/album/...").
struct ImgurAnswer {
  CURLcode code = CURLE_OK;  // the transfer's outcome; CURLE_OK: status, body and headers hold
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lowercase names, last response only
  std::string curl_error;
};
using ImgurTransport = std::function<ImgurAnswer(const std::string& path)>;

// The same collection with the answers taken from `transport` instead of HTTP: the page reader
// alone, for the fuzz target (requests counts the transport's calls).
ImgurLinks collect_imgur_links(const ImgurQuery& query, const ImgurTransport& transport);

// "abcd…" style: enough to recognise a Client-ID, never the whole of it.
std::string mask_secret(std::string_view secret);

// Checks section/sort/window; the message names the allowed values.
Status validate_imgur_query(const ImgurQuery& query);

}  // namespace thumbfetch
