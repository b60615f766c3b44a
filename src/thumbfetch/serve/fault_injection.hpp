#pragma once
// Fault injection for /img/: which fault a request gets and the response that fault makes.
// Pure functions of their arguments (no sockets, clocks or state), so that tests can call them
// directly; the routes keep the state (the order of requests, ?flaky= counters, the rate limit).
//
// Kinds, by `?fault=KIND` or drawn at random by the --rate-* flags:
//   ""/none     the file as it is            slow          the file at 20 KiB/s
//   500, 503    an HTML error page           429           an HTML page with Retry-After: 1
//   truncate    half the body, then close    stall         16 bytes, then nothing, ever
//   wrong-type  the file as text/html        html          an HTML page as image/jpeg
//   redirect    302 to the same URL without `fault`
//   random-redirect  302 to the same path with ?nofault=1 (what --rate-redirect draws)
//   redirect-file, redirect-ftp, redirect-loop   302 to file:, ftp: or this very URL
//   big, big-honest, big-nolength   60 MiB that start like a JPEG: Content-Length 1000 (a lie),
//               the true length, or none (close-delimited)
//   nolength    the file, close-delimited
// Any other kind is answered 400 "Unknown fault: KIND".

#include <cstdint>
#include <string>
#include <string_view>

#include "thumbfetch/serve/http_request.hpp"
#include "thumbfetch/serve/http_response.hpp"
#include "thumbfetch/serve/imgur_api.hpp"

namespace thumbfetch {

// The --rate-* probabilities and the seed of their draws.
struct FaultRates {
  double rate_500 = 0, rate_503 = 0, rate_429 = 0, rate_truncate = 0, rate_stall = 0,
         rate_wrong_type = 0, rate_html = 0, rate_redirect = 0;
  std::uint64_t seed = 1;
};

// The fault for an /img/ request with `query`: the kind `?fault=` names; otherwise, unless
// `?flaky=` or `?nofault` is present, a draw that depends only on `rates` and `order` (the
// request's position among /img/ requests since start-up); "" for none.
std::string choose_fault(const FaultRates& rates, std::string_view query, std::uint64_t order);

// The response to `req` (GET or HEAD) for `asset` under fault `kind`. `base_url`
// ("http://127.0.0.1:PORT") makes the redirect targets.
Response fault_response(std::string_view kind, const HttpRequest& req, const ServedAsset& asset,
                        std::string_view base_url);

}  // namespace thumbfetch
