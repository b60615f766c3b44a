#include "thumbfetch/source/imgur.hpp"

#include <algorithm>
#include <ctime>
#include <map>
#include <unordered_set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "thumbfetch/fetch/naming.hpp"
#include "thumbfetch/fetch/transfer.hpp"
#include "thumbfetch/fetch/wait.hpp"
#include "thumbfetch/util/strings.hpp"

namespace thumbfetch {

namespace {

using json = nlohmann::json;

using ApiAnswer = ImgurAnswer;

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* a = static_cast<ApiAnswer*>(user);
  if (a->body.size() > 64u * 1024 * 1024) return 0;  // no API page is that big
  a->body.append(data, size * count);
  return size * count;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* a = static_cast<ApiAnswer*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) a->headers.clear();  // a new response (after a redirect)
  if (size_t colon = line.find(':'); colon != std::string_view::npos) {
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() &&
           (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.remove_suffix(1);
    }
    a->headers[ascii_lower(line.substr(0, colon))] = std::string(value);
  }
  return size * count;
}

int on_progress(void* cancel, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* flag = static_cast<const std::atomic<bool>*>(cancel);
  return flag != nullptr && flag->load() ? 1 : 0;
}

class ImgurClient {
 public:
  explicit ImgurClient(const ImgurQuery& q)
      : q_(q), easy_(make_curl_easy()), auth_("Authorization: Client-ID " + q.client_id) {
    headers_ = curl_slist_append(nullptr, auth_.c_str());
    headers_ = curl_slist_append(headers_, "Accept: application/json");
  }
  ~ImgurClient() { curl_slist_free_all(headers_); }
  ImgurClient(const ImgurClient&) = delete;
  ImgurClient& operator=(const ImgurClient&) = delete;

  int requests = 0;

  // One API GET, retried on network errors and 5xx (not on 429: that is the limit).
  ApiAnswer get(const std::string& path) {
    FetchRunConfig cfg;
    cfg.policy = q_.policy;
    cfg.cancel = q_.cancel;
    for (int attempt = 1;; ++attempt) {
      ApiAnswer a = get_once(path);
      const bool transient = (a.code != CURLE_OK && a.code != CURLE_ABORTED_BY_CALLBACK) ||
                             (a.code == CURLE_OK && a.status >= 500);
      if (!transient || attempt > q_.policy.retries || is_cancelled(cfg)) return a;
      if (!wait_unless_cancelled(cfg, retry_delay_seconds(q_.policy, attempt, 0))) return a;
    }
  }

 private:
  ApiAnswer get_once(const std::string& path) {
    ApiAnswer a;
    char errbuf[CURL_ERROR_SIZE] = {};
    CURL* h = easy_.get();
    const std::string url = base() + path;
    const FetchPolicy& p = q_.policy;
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);  // the Client-ID goes to the API only
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(h, CURLOPT_USERAGENT, p.user_agent.c_str());
    curl_easy_setopt(h, CURLOPT_PROXY, p.proxy.empty() ? nullptr : p.proxy.c_str());  // --proxy
    apply_tls(h, p);  // --cacert, --insecure
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(p.connect_timeout * 1000));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(p.total_timeout * 1000));
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, std::max(1L, static_cast<long>(p.stall_timeout)));
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // JSON compresses well
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &a);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(q_.cancel));
    ++requests;
    a.code = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a.status);
    a.curl_error = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(a.code);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
    return a;
  }

  std::string base() const {
    std::string b = q_.api_base;
    while (!b.empty() && b.back() == '/') b.pop_back();
    return b;
  }

  const ImgurQuery& q_;
  CurlEasy easy_;
  std::string auth_;
  curl_slist* headers_ = nullptr;
};

bool json_true(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

std::string json_string(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A whole number the API gave (0 when absent or not a number that fits an int).
int json_int(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return 0;
  const auto v = it->get<long long>();
  return v >= 0 && v <= INT32_MAX ? static_cast<int>(v) : 0;
}

std::string api_error_text(const json& body) {
  if (body.is_object()) {
    auto data = body.find("data");
    if (data != body.end() && data->is_object()) {
      auto err = data->find("error");
      if (err != data->end()) return err->is_string() ? err->get<std::string>() : err->dump();
    }
  }
  return {};
}

std::string reset_time_text(const std::map<std::string, std::string>& headers) {
  auto it = headers.find("x-ratelimit-userreset");
  if (it == headers.end()) return "an unknown time";
  char* end = nullptr;
  const long long epoch = std::strtoll(it->second.c_str(), &end, 10);
  if (end == it->second.c_str() || epoch <= 0) return "an unknown time";
  const std::time_t t = static_cast<std::time_t>(epoch);
  std::tm local{};
  localtime_r(&t, &local);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %Z", &local);
  return buf;
}

bool remaining_is_zero(const std::map<std::string, std::string>& headers) {
  for (const char* name : {"x-ratelimit-clientremaining", "x-ratelimit-userremaining"}) {
    auto it = headers.find(name);
    if (it == headers.end()) continue;
    char* end = nullptr;
    const long long remaining = std::strtoll(it->second.c_str(), &end, 10);
    if (end != it->second.c_str() && remaining <= 0) return true;
  }
  return false;
}

class Collector {
 public:
  Collector(const ImgurQuery& q, const ImgurTransport& get) : q_(q), get_(get) {}

  ImgurLinks run() {
    for (int page = 0; !full() && !stopped_; ++page) {
      if (cancelled()) break;
      auto data = ask(fmt::format("/3/gallery/{}/{}/{}/{}", q_.section, q_.sort, q_.window, page));
      if (!data || !data->is_array() || data->empty()) break;
      for (const json& item : *data) {
        if (full() || cancelled()) break;
        if (!item.is_object()) continue;
        if (json_true(item, "is_album")) {
          add_album(item);
        } else {
          add_image(item, false);
        }
      }
    }
    out_.requests = requests_;
    if (q_.limit > 0 && static_cast<int>(out_.links.size()) > q_.limit) {
      out_.links.resize(static_cast<size_t>(q_.limit));
      out_.meta.resize(out_.links.size());  // one item's metadata per link, always
    }
    if (out_.limit_reached) out_.limit_message = limit_message();
    return std::move(out_);
  }

 private:
  bool full() const { return q_.limit > 0 && static_cast<int>(out_.links.size()) >= q_.limit; }
  bool cancelled() const { return q_.cancel != nullptr && q_.cancel->load(); }

  // The answer's `data`, or nothing (and the reason recorded) when the asking must stop.
  std::optional<json> ask(const std::string& path) {
    if (stopped_) return std::nullopt;  // the limit was reached: no more requests
    ++requests_;
    ApiAnswer a = get_(path);
    if (a.code != CURLE_OK) {
      stopped_ = true;
      if (a.code != CURLE_ABORTED_BY_CALLBACK) {
        out_.error = make_error(ErrorKind::network,
                                fmt::format("Imgur API request failed: {}", a.curl_error));
      }
      return std::nullopt;
    }
    json body = json::parse(a.body, nullptr, /*allow_exceptions=*/false);
    const std::string api_error = api_error_text(body);
    const bool over_capacity =
        a.status == 403 && ascii_lower(api_error).find("over capacity") != std::string::npos;
    if (a.status == 429 || over_capacity) {
      limit_reached(a.headers);
      return std::nullopt;
    }
    if (a.status != 200 || body.is_discarded() || !body.is_object() || !body.contains("data")) {
      stopped_ = true;
      out_.error =
          make_error(ErrorKind::http_status,
                     fmt::format("Imgur API error (HTTP {}): {}", a.status,
                                 !api_error.empty()    ? api_error
                                 : body.is_discarded() ? std::string("the answer is not JSON")
                                                       : std::string("no data in the answer")));
      return std::nullopt;
    }
    // A remaining count of 0: this answer is still used (its page and stills), but nothing more
    // is asked (albums that need a request of their own are left out).
    if (remaining_is_zero(a.headers)) limit_reached(a.headers);
    return std::move(body["data"]);
  }

  void limit_reached(const std::map<std::string, std::string>& headers) {
    stopped_ = true;
    out_.limit_reached = true;
    reset_text_ = reset_time_text(headers);
  }

  std::string limit_message() const {
    const size_t got = std::min<size_t>(out_.links.size(),
                                        q_.limit > 0 ? static_cast<size_t>(q_.limit) : SIZE_MAX);
    return q_.limit > 0
               ? fmt::format("Imgur API limit reached: collected {} of {} links (resets at {})",
                             got, q_.limit, reset_text_)
               : fmt::format("Imgur API limit reached: collected {} links (resets at {})", got,
                             reset_text_);
  }

 private:
  void add_image(const json& image, bool parent_nsfw, const std::string& album_id = {}) {
    if ((json_true(image, "nsfw") || parent_nsfw) && !q_.nsfw) return;
    const std::string type = json_string(image, "type");
    const bool animated = json_true(image, "animated");
    const bool still_type = type == "image/jpeg" || type == "image/png" || type == "image/webp";
    const bool keep =
        (still_type && !animated) || (q_.animated && (type == "image/gif" || animated));
    if (!keep) return;
    std::string link = json_string(image, "link");
    const std::string lower = ascii_lower(link.substr(0, 8));
    if (!lower.starts_with("http://") && !lower.starts_with("https://")) return;
    if (!seen_.insert(link).second) return;
    out_.links.push_back(std::move(link));
    out_.meta.push_back(ItemMeta{json_string(image, "id"), json_string(image, "title"), album_id,
                                 type, json_int(image, "width"), json_int(image, "height")});
  }

  void add_album(const json& album) {
    const bool nsfw = json_true(album, "nsfw");
    if (nsfw && !q_.nsfw) return;
    const std::string id = json_string(album, "id");
    auto images = album.find("images");
    if (images != album.end() && images->is_array()) {
      for (const json& image : *images) {
        if (full()) return;
        if (image.is_object()) add_image(image, nsfw, id);
      }
      return;
    }
    if (id.empty() || id.find_first_of("/?#%") != std::string::npos) return;
    auto data = ask(fmt::format("/3/album/{}/images", id));
    if (!data || !data->is_array()) return;
    for (const json& image : *data) {
      if (full()) return;
      if (image.is_object()) add_image(image, nsfw, id);
    }
  }

  const ImgurQuery& q_;
  const ImgurTransport& get_;
  int requests_ = 0;  // transport calls (HTTP retries are counted by the client)
  ImgurLinks out_;
  std::unordered_set<std::string> seen_;
  bool stopped_ = false;
  std::string reset_text_;
};

bool one_of(std::string_view value, std::initializer_list<std::string_view> allowed) {
  return std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

// The host of an http(s) URL without port or IPv6 brackets ("http://u@[::1]:80/x" -> "::1").
std::string bare_host(std::string_view url) {
  const std::string authority = url_host(url);  // "host:port", lower-cased, no user info
  if (authority.starts_with('[')) return authority.substr(1, authority.find(']') - 1);
  return authority.substr(0, authority.find(':'));
}

// Plain http is for this machine only: exactly what the tests and the demo use.
bool is_loopback_host(std::string_view host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1";
}

}  // namespace

ImgurLinks collect_imgur_links(const ImgurQuery& query) {
  ImgurClient client(query);
  ImgurLinks links =
      collect_imgur_links(query, [&](const std::string& path) { return client.get(path); });
  links.requests = client.requests;  // retries included
  return links;
}

ImgurLinks collect_imgur_links(const ImgurQuery& query, const ImgurTransport& transport) {
  return Collector(query, transport).run();
}

std::string mask_secret(std::string_view secret) {
  if (secret.size() <= 4) return std::string(secret.size(), '*');
  return std::string(secret.substr(0, 4)) +
         std::string(std::min<size_t>(secret.size() - 4, 8), '*');
}

Status validate_imgur_query(const ImgurQuery& q) {
  if (!one_of(q.section, {"hot", "top", "user"})) {
    return make_error(ErrorKind::refused, "--imgur-section: expected hot, top or user");
  }
  if (!one_of(q.sort, {"viral", "top", "time", "rising"})) {
    return make_error(ErrorKind::refused, "--imgur-sort: expected viral, top, time or rising");
  }
  if (!one_of(q.window, {"day", "week", "month", "year", "all"})) {
    return make_error(ErrorKind::refused, "--imgur-window: expected day, week, month, year or all");
  }
  if (q.client_id.empty()) {
    return make_error(ErrorKind::refused,
                      "--imgur needs a Client-ID: --imgur-client-id or IMGUR_CLIENT_ID");
  }
  const std::string lower = ascii_lower(q.api_base.substr(0, 8));
  if (!lower.starts_with("http://") && !lower.starts_with("https://")) {
    return make_error(ErrorKind::refused, "--imgur-api: expected an http:// or https:// URL");
  }
  // The Client-ID is a credential in a header: over plain http anyone on the path reads it.
  // Loopback is the one exception (the test server and the demo); there is no opt-in flag,
  // since Imgur itself is https only and a plain mirror elsewhere can be reached through a TLS
  // proxy or a tunnel to localhost.
  if (lower.starts_with("http://") && !is_loopback_host(bare_host(q.api_base))) {
    return make_error(ErrorKind::refused,
                      fmt::format("--imgur-api: the Client-ID would go in clear text to {}; use "
                                  "https:// (plain http:// only to 127.0.0.1, localhost or ::1)",
                                  q.api_base));
  }
  return Ok{};
}

}  // namespace thumbfetch
