#include "thumbfetch/serve/routes.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "thumbfetch/util/hash.hpp"
#include "thumbfetch/util/strings.hpp"

namespace thumbfetch {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::string_view kHtmlType = "text/html; charset=utf-8";

FaultRates rates_of(const ServeConfig& c) {
  FaultRates r;
  r.rate_500 = c.rate_500;
  r.rate_503 = c.rate_503;
  r.rate_429 = c.rate_429;
  r.rate_truncate = c.rate_truncate;
  r.rate_stall = c.rate_stall;
  r.rate_wrong_type = c.rate_wrong_type;
  r.rate_html = c.rate_html;
  r.rate_redirect = c.rate_redirect;
  r.seed = c.seed;
  return r;
}

}  // namespace

ServeRoutes::ServeRoutes(const ServeConfig& config, const ServedFiles& corpus,
                         const ServedFiles& aliases, const ImgurCatalog& catalog,
                         std::string base_url, std::function<ServerStats()> stats)
    : config_(config),
      rates_(rates_of(config)),
      corpus_(corpus),
      aliases_(aliases),
      imgur_(catalog, config.imgur_client_id, config.imgur_rate_limit),
      base_url_(std::move(base_url)),
      stats_(std::move(stats)),
      tokens_(std::max(1.0, config.rate_limit_per_s)),
      tokens_at_(Clock::now()) {}

Response ServeRoutes::answer(const HttpRequest& req) {
  Response r = route(req);
  // Summed in 64 bits and capped at an hour: ?delay=2147483647 on top of --latency must not
  // overflow an int.
  constexpr long long kMaxDelayMs = 3'600'000;
  long long delay = static_cast<long long>(r.delay_ms) + base_delay_ms();
  if (auto extra = query_param(req.query, "delay")) {
    if (auto ms = parse_int(*extra); ms && *ms > 0) delay += *ms;
  }
  r.delay_ms = static_cast<int>(std::min(delay, kMaxDelayMs));
  return r;
}

Response ServeRoutes::route(const HttpRequest& req) {
  bool head_only = req.method == "HEAD";
  if (req.method != "GET" && !head_only) {
    return make_response(405, kHtmlType, html_page(405, "Only GET and HEAD are served."), false,
                         {{"Allow", "GET, HEAD"}});
  }
  if (req.path == "/list.txt") {
    std::string list;
    for (const auto& [name, asset] : corpus_) list += fmt::format("{}/img/{}\n", base_url_, name);
    return make_response(200, "text/plain; charset=utf-8", std::move(list), head_only);
  }
  if (req.path == "/stats") return stats_json(head_only);
  if (req.path.rfind("/img/", 0) == 0) {
    std::string name = percent_decode(std::string_view(req.path).substr(5));
    auto it = corpus_.find(name);
    if (it != corpus_.end()) return image(req, it->second);
    it = aliases_.find(name);
    if (it != aliases_.end()) return image(req, it->second);
  } else if (req.path.rfind("/3/", 0) == 0) {
    return imgur_.answer(req);
  }
  return make_response(404, kHtmlType, html_page(404, "No such file here."), head_only);
}

Response ServeRoutes::stats_json(bool head_only) const {
  ServerStats s = stats_();
  nlohmann::json j = {{"total_requests", s.total_requests},
                      {"connections_accepted", s.connections_accepted},
                      {"max_concurrent_connections", s.max_concurrent_connections},
                      {"current_connections", s.current_connections},
                      {"connections_refused", s.connections_refused},
                      {"get_counts", nlohmann::json::object()}};
  for (const auto& [path, count] : s.get_counts) j["get_counts"][path] = count;
  return make_response(200, "application/json", j.dump() + "\n", head_only);
}

Response ServeRoutes::image(const HttpRequest& req, const ServedAsset& asset) {
  bool head_only = req.method == "HEAD";
  std::uint64_t order = img_requests_++;
  if (std::optional<std::string> flaky = query_param(req.query, "flaky")) {
    int& seen = flaky_counts_[req.target];
    if (seen < parse_int(*flaky).value_or(0)) {
      ++seen;
      return make_response(503, kHtmlType, html_page(503, "Flaky on purpose; try again."),
                           head_only, {{"Retry-After", "1"}});
    }
  }
  if (config_.rate_limit_per_s > 0 && !take_rate_token()) {
    auto wait = static_cast<long long>(std::ceil(1.0 / config_.rate_limit_per_s));
    return make_response(429, kHtmlType, html_page(429, "Rate limit exceeded."), head_only,
                         {{"Retry-After", std::to_string(std::max(1LL, wait))}});
  }
  return fault_response(choose_fault(rates_, req.query, order), req, asset, base_url_);
}

int ServeRoutes::base_delay_ms() {
  long long delay = std::max(0, config_.latency_ms);
  if (config_.jitter_ms > 0) {
    std::uint64_t h = mix64(config_.seed ^ 0x6a177e5ULL ^ mix64(++jitter_draws_));
    delay += static_cast<long long>(h % (static_cast<std::uint64_t>(config_.jitter_ms) + 1));
  }
  return static_cast<int>(std::min<long long>(delay, std::numeric_limits<int>::max()));
}

bool ServeRoutes::take_rate_token() {
  Clock::time_point now = Clock::now();
  double rate = config_.rate_limit_per_s;
  tokens_ = std::min(std::max(1.0, rate),
                     tokens_ + std::chrono::duration<double>(now - tokens_at_).count() * rate);
  tokens_at_ = now;
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

}  // namespace thumbfetch
