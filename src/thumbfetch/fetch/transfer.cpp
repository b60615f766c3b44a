#include "thumbfetch/fetch/transfer.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <random>
#include <stdexcept>

#include <fmt/format.h>

#include "thumbfetch/util/sniff.hpp"

namespace thumbfetch {

namespace {

// Enough for every magic number sniff_image_format knows (ISO-BMFF needs 12).
constexpr size_t kSniffBytes = 16;

long to_ms(double seconds) {
  return static_cast<long>(std::llround(seconds * 1000));
}

std::string human_bytes(std::uint64_t n) {
  if (n >= 1000 * 1000) return fmt::format("{:.1f} MB", n / 1e6);
  if (n >= 1000) return fmt::format("{:.1f} kB", n / 1e3);
  return fmt::format("{} bytes", n);
}

bool retryable_status(long code) {
  return code >= 500 || code == 429 || code == 408;
}

bool is_https(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  return url.size() >= kScheme.size() &&
         std::equal(kScheme.begin(), kScheme.end(), url.begin(), [](char a, char b) {
           return a == std::tolower(static_cast<unsigned char>(b));
         });
}

}  // namespace

CurlEasy make_curl_easy() {
  CurlEasy easy(curl_easy_init());
  if (!easy) throw std::runtime_error("libcurl cannot create a transfer handle");
  return easy;
}

CurlMulti make_curl_multi() {
  CurlMulti multi(curl_multi_init());
  if (!multi) throw std::runtime_error("libcurl cannot create a multi handle");
  return multi;
}

CurlGlobal::CurlGlobal() {
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    throw std::runtime_error("libcurl cannot be initialised");
  }
}

CurlGlobal::~CurlGlobal() {
  curl_global_cleanup();
}

double retry_delay_seconds(const FetchPolicy& policy, int retry, double retry_after_seconds) {
  if (retry_after_seconds > 0) return std::min(retry_after_seconds, policy.retry_after_cap);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const double exp = policy.retry_base * std::pow(2.0, std::max(0, retry - 1));
  const double capped = std::min(exp, policy.retry_max_delay);
  return capped * std::uniform_real_distribution<double>(0.5, 1.0)(rng);
}

Transfer::Transfer(size_t index, const FetchItem& item, const FetchRunConfig& config)
    : index_(index), item_(item), config_(config) {}

void Transfer::prepare(CURL* easy) {
  if (!started_) {
    started_ = true;
    first_start_ = std::chrono::steady_clock::now();
  }
  easy_ = easy;
  errbuf_[0] = '\0';
  status_checked_ = false;
  discard_body_ = false;
  head_.clear();
  file_.reset();  // an unfinished temp file of an earlier attempt is removed here
  abort_reason_.reset();
  abort_retryable_ = false;
  last_received_ = 0;
  last_progress_ = std::chrono::steady_clock::now();
  bytes_ = 0;
  sha_.reset();
  end_scan_ = ImageEndScanner();
  extension_.clear();
  result_.attempts += 1;

  const FetchPolicy& p = config_.policy;
  curl_easy_setopt(easy, CURLOPT_URL, item_.url.c_str());
  curl_easy_setopt(easy, CURLOPT_PRIVATE, this);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf_);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  // An https URL redirects to https only: what was asked for over an authenticated connection
  // is never fetched over a plain one. http may go up to https.
  curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, is_https(item_.url) ? "https" : "http,https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(easy, CURLOPT_MAXREDIRS, kMaxRedirects);
  curl_easy_setopt(easy, CURLOPT_AUTOREFERER, 1L);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, to_ms(p.connect_timeout));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, to_ms(p.total_timeout));
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, std::max(1L, std::lround(p.stall_timeout)));
  curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(p.max_bytes));
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  // Wait for an existing connection to multiplex on rather than open another, where HTTP/2 is
  // possible at all: over TLS (CURL_HTTP_VERSION_2TLS keeps cleartext on HTTP/1.1). For http://
  // waiting only queues the transfer in libcurl until the first response proves HTTP/1.1, and
  // libcurl 7.x then wakes queued transfers one per finished transfer, so a slow or stalled
  // response holds up the ones queued behind it.
  curl_easy_setopt(easy, CURLOPT_PIPEWAIT, is_https(item_.url) ? 1L : 0L);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, p.user_agent.c_str());
  // Issue 10: the user's extra headers (-H) and proxy (--proxy; unset: libcurl's default, which
  // reads $http_proxy and friends).
  curl_slist* list = nullptr;
  for (const std::string& h : p.headers) {
    if (curl_slist* head = curl_slist_append(list, h.c_str())) list = head;
  }
  headers_.reset(list);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers_.get());
  curl_easy_setopt(easy, CURLOPT_PROXY, p.proxy.empty() ? nullptr : p.proxy.c_str());
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, nullptr);  // images: no content coding
  curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, kReceiveBufferBytes);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Transfer::on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, &Transfer::on_progress);
  curl_easy_setopt(easy, CURLOPT_XFERINFODATA, this);
  apply_tls(easy, p);
}

void apply_tls(CURL* easy, const FetchPolicy& p) {
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, p.insecure ? 0L : 1L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, p.insecure ? 0L : 2L);
  // The same for every request of a run (a handle never serves two runs), so set only when given.
  if (!p.ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, p.ca_file.c_str());
}

int Transfer::on_progress(void* self, curl_off_t, curl_off_t received, curl_off_t, curl_off_t) {
  // Non-zero aborts the transfer (CURLE_ABORTED_BY_CALLBACK): that is how Ctrl-C reaches it,
  // and how a stall is cut (libcurl calls this at least once a second, data or not).
  auto* t = static_cast<Transfer*>(self);
  if (is_cancelled(t->config_)) return 1;
  const auto now = std::chrono::steady_clock::now();
  // The stall clock starts when the request goes out. Before that the transfer may sit in
  // libcurl's pending queue waiting for a connection (PIPEWAIT, per-host limits), then connect
  // (bounded by the connect timeout); neither is a server that stopped sending. Counting the
  // queue made transfers queued behind a slow one "stall" the moment libcurl picked them up
  // again. PRETRANSFER is reset for every attempt and never 0 once reached.
  curl_off_t pretransfer_us = 0;
  curl_easy_getinfo(t->easy_, CURLINFO_PRETRANSFER_TIME_T, &pretransfer_us);
  if (pretransfer_us == 0) {
    t->last_progress_ = now;
    return 0;
  }
  if (received != t->last_received_) {
    t->last_received_ = received;
    t->last_progress_ = now;
    return 0;
  }
  if (std::chrono::duration<double>(now - t->last_progress_).count() >=
      t->config_.policy.stall_timeout) {
    t->abort_reason_ = make_error(
        ErrorKind::timeout,
        fmt::format("timeout: stalled, no data for {:g} s", t->config_.policy.stall_timeout));
    t->abort_retryable_ = true;
    return 1;
  }
  return 0;
}

size_t Transfer::on_body(char* data, size_t size, size_t count, void* self) {
  return static_cast<Transfer*>(self)->accept(data, size * count);
}

size_t Transfer::accept(const char* data, size_t n) {
  if (!status_checked_) {
    status_checked_ = true;
    long code = 0;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &code);
    discard_body_ = code < 200 || code >= 300;
  }
  if (discard_body_) return n;  // an error page: read and drop it, the status decides
  if (bytes_ + n > config_.policy.max_bytes) {
    abort_reason_ =
        make_error(ErrorKind::too_large, fmt::format("too large: more than {} (--max-bytes)",
                                                     human_bytes(config_.policy.max_bytes)));
    return 0;  // CURLE_WRITE_ERROR: libcurl stops reading
  }
  bytes_ += n;
  std::optional<Error> err;
  if (file_) {
    err = digest_and_write(data, n);
  } else {
    // Held until the magic number can be checked: nothing is written for a non-image.
    head_.append(data, n);
    if (head_.size() >= kSniffBytes) err = open_file_for_head();
  }
  if (err) {
    abort_reason_ = std::move(err);
    return 0;
  }
  return n;
}

// The hash, the end-of-image scan and the write of one piece of the body, while it is in cache
// (libcurl 7.88 hands the body over in pieces of at most 16 KB; nothing here depends on their
// size).
std::optional<Error> Transfer::digest_and_write(const char* data, size_t n) {
  sha_.update({reinterpret_cast<const unsigned char*>(data), n});
  end_scan_.feed({data, n});
  if (auto st = file_->write({reinterpret_cast<const unsigned char*>(data), n}); !st) {
    return st.error();
  }
  return std::nullopt;
}

std::optional<Error> Transfer::open_file_for_head() {
  const ImageFormat format = sniff_image_format(head_);
  if (format == ImageFormat::unknown) {
    return make_error(ErrorKind::not_an_image,
                      fmt::format("not an image ({})", describe_non_image(head_)));
  }
  extension_ = std::string(format_extension(format));
  end_scan_ = ImageEndScanner(format);
  file_.emplace(config_.out_dir / (item_.stem + "." + extension_));
  if (!file_->ok()) {
    Error err = file_->error();
    file_.reset();
    return err;
  }
  auto err = digest_and_write(head_.data(), head_.size());  // accept() does the rest as it arrives
  head_.clear();
  head_.shrink_to_fit();
  return err;
}

Transfer::Next Transfer::fail(Error error, bool retryable, double retry_after) {
  file_.reset();  // the temp file goes; nothing appears under a final name
  const bool cancelled = is_cancelled(config_);
  if (retryable && !cancelled && result_.attempts <= config_.policy.retries) {
    retry_delay_ = retry_delay_seconds(config_.policy, result_.attempts, retry_after);
    return Next::retry;
  }
  result_.state = FetchResult::State::failed;
  result_.error = std::move(error);
  result_.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - first_start_).count();
  return Next::done;
}

void Transfer::cancel() {
  file_.reset();
  result_.state = FetchResult::State::failed;
  result_.error = make_error(ErrorKind::cancelled, "cancelled: the run was interrupted");
  if (started_) {
    result_.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - first_start_).count();
  }
}

Transfer::Next Transfer::finish(CURLcode code) {
  long http = 0;
  curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &http);
  result_.http_code = http;
  const char* ctype = nullptr;
  curl_easy_getinfo(easy_, CURLINFO_CONTENT_TYPE, &ctype);
  result_.content_type = ctype != nullptr ? ctype : "";
  result_.bytes = bytes_;
  const std::string detail = errbuf_[0] != '\0' ? errbuf_ : curl_easy_strerror(code);

  if (code != CURLE_OK && is_cancelled(config_)) {
    cancel();
    return Next::done;
  }
  if (abort_reason_) return fail(*abort_reason_, abort_retryable_);

  switch (code) {
    case CURLE_OK:
      break;
    case CURLE_FILESIZE_EXCEEDED: {
      curl_off_t announced = -1;
      curl_easy_getinfo(easy_, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced);
      return fail(
          make_error(ErrorKind::too_large,
                     announced > 0 ? fmt::format("too large: {} announced, the limit is {}",
                                                 human_bytes(static_cast<std::uint64_t>(announced)),
                                                 human_bytes(config_.policy.max_bytes))
                                   : fmt::format("too large: more than {} (--max-bytes)",
                                                 human_bytes(config_.policy.max_bytes))),
          false);
    }
    case CURLE_UNSUPPORTED_PROTOCOL: {
      long redirects = 0;
      curl_easy_getinfo(easy_, CURLINFO_REDIRECT_COUNT, &redirects);
      return fail(make_error(ErrorKind::refused,
                             redirects > 0 || http / 100 == 3
                                 ? fmt::format("refused: redirect to a scheme other than {} ({})",
                                               is_https(item_.url) ? "https (from an https URL)"
                                                                   : "http/https",
                                               detail)
                                 : fmt::format("refused: {}", detail)),
                  false);
    }
    case CURLE_TOO_MANY_REDIRECTS:
      return fail(make_error(ErrorKind::refused,
                             fmt::format("refused: more than {} redirects", kMaxRedirects)),
                  false);
    case CURLE_URL_MALFORMAT:
      return fail(make_error(ErrorKind::refused, fmt::format("refused: {}", detail)), false);
    case CURLE_OPERATION_TIMEDOUT: {
      // libcurl's own words tell the three limits apart (connect times read 0 on a reused
      // connection, so they cannot).
      const FetchPolicy& p = config_.policy;
      const std::string_view said(errbuf_);
      std::string what =
          said.starts_with("Operation too slow")
              ? fmt::format("timeout: stalled, no data for {:g} s", p.stall_timeout)
          : http == 0 && bytes_ == 0 &&
                  (said.starts_with("Connection timed out") ||
                   said.starts_with("Failed to connect") || said.starts_with("Resolving timed out"))
              ? fmt::format("timeout: no connection within {:g} s", p.connect_timeout)
              : fmt::format("timeout: not finished within {:g} s", p.total_timeout);
      return fail(make_error(ErrorKind::timeout, what), true);
    }
    case CURLE_PARTIAL_FILE: {
      curl_off_t announced = -1;
      curl_easy_getinfo(easy_, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced);
      return fail(
          make_error(ErrorKind::truncated,
                     announced > 0 ? fmt::format("truncated: got {} of {} bytes", bytes_, announced)
                                   : fmt::format("truncated: {}", detail)),
          true);
    }
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_QUIC_CONNECT_ERROR:
    case CURLE_WEIRD_SERVER_REPLY:
      return fail(make_error(ErrorKind::network, fmt::format("network error: {}", detail)), true);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
      // The same certificate again would fail the same way: not retried.
      return fail(make_error(ErrorKind::network,
                             fmt::format("certificate not trusted: {} (--cacert FILE trusts its "
                                         "issuer, --insecure skips the check)",
                                         detail)),
                  false);
    case CURLE_WRITE_ERROR:
      return fail(make_error(ErrorKind::write, fmt::format("write error: {}", detail)), false);
    default:
      return fail(make_error(ErrorKind::network, fmt::format("network error: {}", detail)), false);
  }

  if (http < 200 || http >= 300) {
    curl_off_t retry_after = 0;
    curl_easy_getinfo(easy_, CURLINFO_RETRY_AFTER, &retry_after);
    return fail(make_error(ErrorKind::http_status, fmt::format("HTTP {}", http)),
                retryable_status(http), static_cast<double>(retry_after));
  }
  if (!file_) {
    // The whole body was shorter than the sniffing window.
    if (auto err = open_file_for_head()) return fail(*err, false);
  }
  // Complete by HTTP is not complete as an image: a server that lies about Content-Length, or
  // serves a file cut short on its disk, would otherwise leave a broken image saved as ok.
  // Not retried: the server said this is the whole body and would say it again.
  switch (end_scan_.verdict()) {
    case ImageEndScanner::Verdict::incomplete:
      return fail(make_error(ErrorKind::truncated,
                             fmt::format("truncated: the {} image stops after {}, before its end",
                                         format_name(end_scan_.format()), human_bytes(bytes_))),
                  false);
    case ImageEndScanner::Verdict::broken:
      return fail(make_error(ErrorKind::corrupt,
                             fmt::format("corrupt: not a valid {} from byte {} on",
                                         format_name(end_scan_.format()), end_scan_.offset())),
                  false);
    case ImageEndScanner::Verdict::unchecked:
    case ImageEndScanner::Verdict::complete:
      break;
  }
  const std::filesystem::path final_path = config_.out_dir / (item_.stem + "." + extension_);
  // Never over a file the run does not own (the job layer removes its own stale downloads).
  if (auto st = file_->commit(Overwrite::no); !st) return fail(st.error(), false);
  file_.reset();
  result_.state = FetchResult::State::ok;
  result_.file = final_path;
  result_.sha256 = sha_.hex_digest();
  result_.error = {};
  result_.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - first_start_).count();
  return Next::done;
}

}  // namespace thumbfetch
