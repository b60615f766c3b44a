#include "thumbfetch/serve/fault_injection.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include "thumbfetch/serve/media_assets.hpp"
#include "thumbfetch/util/hash.hpp"

namespace thumbfetch {

namespace {

constexpr std::uint64_t kBigBodyBytes = 60ULL * 1024 * 1024;
constexpr int kSlowKbps = 20;
constexpr std::uint64_t kStallBytes = 16;
constexpr std::string_view kHtmlType = "text/html; charset=utf-8";

// A uniform double in [0, 1) from a 64-bit hash.
double unit_interval(std::uint64_t h) {
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

// The faults that send the file's own bytes, whole or in part, or none at all.
std::optional<Response> body_fault(std::string_view kind, bool head_only,
                                   const ServedAsset& asset) {
  Body full{asset.bytes, asset.bytes->size()};
  const std::string& type = asset.content_type;
  if (kind.empty() || kind == "none" || kind == "slow") {
    Response r = make_body_response(200, type, full, head_only);
    if (kind == "slow") r.bandwidth_kbps = kSlowKbps;
    return r;
  }
  if (kind == "truncate") {
    Response r = make_body_response(200, type, full, head_only);
    r.send_bytes /= 2;
    r.after = After::close;
    return r;
  }
  if (kind == "stall") {
    Response r = make_body_response(200, type, full, head_only);
    r.send_bytes = std::min(r.send_bytes, kStallBytes);
    r.after = After::hold;
    return r;
  }
  if (kind == "wrong-type") return make_body_response(200, kHtmlType, full, head_only);
  if (kind == "nolength") {
    return make_body_response(200, type, full, head_only, {}, LengthHeader::omitted);
  }
  if (kind == "big" || kind == "big-honest" || kind == "big-nolength") {
    static const auto preamble = std::make_shared<const std::string>(jpeg_preamble());
    Response r =
        make_body_response(200, "image/jpeg", Body{preamble, kBigBodyBytes}, head_only, {},
                           kind == "big-nolength" ? LengthHeader::omitted : LengthHeader::sent,
                           kind == "big" ? 1000 : UINT64_MAX);
    r.after = After::close;  // after a lying length the connection cannot be reused
    return r;
  }
  return std::nullopt;
}

// The faults that answer with a status or a redirect instead of the file.
std::optional<Response> status_fault(std::string_view kind, const HttpRequest& req,
                                     std::string_view base_url) {
  const bool head_only = req.method == "HEAD";
  if (kind == "500" || kind == "503") {
    int status = kind == "500" ? 500 : 503;
    return make_response(status, kHtmlType, html_page(status, "Injected fault."), head_only);
  }
  if (kind == "429") {
    return make_response(429, kHtmlType, html_page(429, "Injected fault."), head_only,
                         {{"Retry-After", "1"}});
  }
  if (kind == "html") {
    return make_response(200, "image/jpeg",
                         html_page(503, "Our servers are busy. Please try again later."),
                         head_only);
  }
  auto redirect = [&](std::string location) {
    return make_response(302, kHtmlType, html_page(302, "Moved."), head_only,
                         {{"Location", std::move(location)}});
  };
  const std::string here = std::string(base_url) + req.path;
  if (kind == "redirect") {
    std::string rest = query_without(req.query, "fault");
    return redirect(here + (rest.empty() ? "" : "?" + rest));
  }
  if (kind == "random-redirect") return redirect(here + "?nofault=1");
  if (kind == "redirect-file") return redirect("file:///etc/passwd");
  if (kind == "redirect-ftp") return redirect("ftp://127.0.0.1/x.jpg");
  if (kind == "redirect-loop") return redirect(std::string(base_url) + req.target);
  return std::nullopt;
}

}  // namespace

std::string choose_fault(const FaultRates& rates, std::string_view query, std::uint64_t order) {
  if (std::optional<std::string> named = query_param(query, "fault")) return *named;
  if (query_param(query, "flaky") || query_param(query, "nofault")) return {};
  // One draw per /img/ request, a pure function of the seed and its order.
  double u = unit_interval(mix64(rates.seed * 0x100000001b3ULL ^ mix64(order)));
  const std::pair<double, const char*> table[] = {
      {rates.rate_500, "500"},     {rates.rate_503, "503"},
      {rates.rate_429, "429"},     {rates.rate_truncate, "truncate"},
      {rates.rate_stall, "stall"}, {rates.rate_wrong_type, "wrong-type"},
      {rates.rate_html, "html"},   {rates.rate_redirect, "random-redirect"}};
  double edge = 0;
  for (const auto& [rate, kind] : table) {
    edge += std::max(0.0, rate);
    if (u < edge) return kind;
  }
  return {};
}

Response fault_response(std::string_view kind, const HttpRequest& req, const ServedAsset& asset,
                        std::string_view base_url) {
  const bool head_only = req.method == "HEAD";
  if (std::optional<Response> r = body_fault(kind, head_only, asset)) return std::move(*r);
  if (std::optional<Response> r = status_fault(kind, req, base_url)) return std::move(*r);
  return make_response(400, kHtmlType, html_page(400, "Unknown fault: " + std::string(kind)),
                       head_only);
}

}  // namespace thumbfetch
