#pragma once
// What the test server answers, as the handler its EventLoop calls: /list.txt, /stats,
// /img/<name> with its faults (fault_injection.hpp), the Imgur API under /3/ (imgur_routes.hpp),
// 404 and 405 otherwise; and the latency every response waits (--latency, --jitter, ?delay=).
// It keeps the state the faults need: the order of /img/ requests, the ?flaky= counters and
// the --rate-limit token bucket. Called from the loop's thread only.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>

#include "thumbfetch/serve/fault_injection.hpp"
#include "thumbfetch/serve/http_request.hpp"
#include "thumbfetch/serve/http_response.hpp"
#include "thumbfetch/serve/image_server.hpp"
#include "thumbfetch/serve/imgur_routes.hpp"
#include "thumbfetch/serve/server_stats.hpp"

namespace thumbfetch {

using ServedFiles = std::map<std::string, ServedAsset, std::less<>>;

class ServeRoutes {
 public:
  // `corpus` (listed in /list.txt), `aliases` (the Imgur links' extra files) and `catalog` must
  // outlive the routes; `stats` gives /stats its snapshot.
  ServeRoutes(const ServeConfig& config, const ServedFiles& corpus, const ServedFiles& aliases,
              const ImgurCatalog& catalog, std::string base_url,
              std::function<ServerStats()> stats);

  // The response to one request, its delay included.
  Response answer(const HttpRequest& req);

 private:
  Response route(const HttpRequest& req);
  Response image(const HttpRequest& req, const ServedAsset& asset);
  Response stats_json(bool head_only) const;
  int base_delay_ms();
  bool take_rate_token();

  const ServeConfig& config_;
  FaultRates rates_;
  const ServedFiles& corpus_;
  const ServedFiles& aliases_;
  ImgurRoutes imgur_;
  std::string base_url_;
  std::function<ServerStats()> stats_;

  std::uint64_t img_requests_ = 0;  // orders the random faults
  std::uint64_t jitter_draws_ = 0;
  std::unordered_map<std::string, int> flaky_counts_;
  double tokens_ = 0;
  std::chrono::steady_clock::time_point tokens_at_;
};

}  // namespace thumbfetch
