#pragma once
// The Imgur API v3 routes of the test server (/3/...): the Client-ID check, the rate-limit
// headers and 429 past the limit, gallery pages and album images from an ImgurCatalog.

#include <cstdint>
#include <string>

#include "thumbfetch/serve/http_request.hpp"
#include "thumbfetch/serve/http_response.hpp"
#include "thumbfetch/serve/imgur_api.hpp"

namespace thumbfetch {

class ImgurRoutes {
 public:
  // Answers requests carrying "Authorization: Client-ID `client_id`"; `rate_limit` API requests
  // are answered before 429. `catalog` must outlive this object.
  ImgurRoutes(const ImgurCatalog& catalog, std::string client_id, int rate_limit);

  // The answer to a request whose path starts with "/3/".
  Response answer(const HttpRequest& req);

 private:
  Response gallery(const HttpRequest& req, const HeaderList& headers);

  const ImgurCatalog& catalog_;
  std::string client_id_;
  std::uint64_t limit_;
  std::uint64_t requests_ = 0;
  std::int64_t user_reset_ = 0;  // X-RateLimit-UserReset: fixed an hour after start-up
};

}  // namespace thumbfetch
