#pragma once
// The transfer policy, in one place, for every strategy: how an easy handle is set up, what is
// accepted while the body streams in, and what happens after each attempt (done, or retry after
// a delay). Strategies only decide *when* attempts run.
//
//   - http and https only, also across redirects (at most kMaxRedirects);
//   - connect timeout, stall timeout (no byte received for that long once the request is out,
//     measured by the progress callback: libcurl's own low-speed check averages over 5 s and
//     reacts late), total deadline per attempt;
//   - retries with exponential backoff and jitter on connection errors, timeouts, truncated
//     bodies, 5xx, 408 and 429, honouring Retry-After up to a cap;
//   - max bytes enforced in the write callback whatever Content-Length says (and refused early
//     when Content-Length already says too much);
//   - the first bytes checked against image magic numbers; nothing is written for a non-image;
//   - a JPEG or PNG must reach its end marker (EOI, IEND) within the body, whatever HTTP said
//     about the body's length;
//   - the body streamed into a temp file in the output folder, hashed and scanned on the way
//     (each piece while it is in cache), renamed to STEM.EXT (EXT from the detected type) only
//     when complete and checked. libcurl's receive buffer is kReceiveBufferBytes, so a
//     web-sized image arrives in a few socket reads rather than one per 16 KB (libcurl still
//     hands it over in pieces of 16 KB; staging them into larger writes measured no gain).

#include <curl/curl.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "thumbfetch/fetch/types.hpp"
#include "thumbfetch/util/atomic_file.hpp"
#include "thumbfetch/util/image_end.hpp"
#include "thumbfetch/util/sha256.hpp"

namespace thumbfetch {

inline constexpr long kMaxRedirects = 5;

// libcurl's receive buffer per handle (default 16 KB; at most 512 KB in libcurl 7.88): a loopback
// TCP read brings up to 64 KB at a time, and 256 KB measured no less CPU than 64 KB on 3,000
// web-sized images while costing 12 MB more resident memory at 64 transfers in flight.
inline constexpr long kReceiveBufferBytes = 64 * 1024;

struct CurlEasyDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct CurlMultiDeleter {
  void operator()(CURLM* h) const { curl_multi_cleanup(h); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
// The extra request headers (-H) of a transfer, alive while libcurl uses them.
struct CurlSlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;
using CurlMulti = std::unique_ptr<CURLM, CurlMultiDeleter>;

// New handles; throw std::runtime_error when libcurl cannot make one (cannot continue).
CurlEasy make_curl_easy();
CurlMulti make_curl_multi();

// libcurl's process-wide initialisation, once, before any thread starts (RAII).
class CurlGlobal {
 public:
  CurlGlobal();
  ~CurlGlobal();
  CurlGlobal(const CurlGlobal&) = delete;
  CurlGlobal& operator=(const CurlGlobal&) = delete;
};

// The delay before retry number `retry` (1-based): base * 2^(retry-1), capped, with jitter
// (50-100%), or the server's Retry-After when it gave one (capped by policy.retry_after_cap).
double retry_delay_seconds(const FetchPolicy& policy, int retry, double retry_after_seconds);

// --cacert and --insecure on a handle, as curl does them: the same for image downloads and the
// Imgur API.
void apply_tls(CURL* easy, const FetchPolicy& policy);

// One item's download across its attempts. Must stay at one address while libcurl runs it
// (its address is the handle's CURLOPT_PRIVATE and the callbacks' user data).
class Transfer {
 public:
  enum class Next { done, retry };

  Transfer(size_t index, const FetchItem& item, const FetchRunConfig& config);
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  size_t index() const { return index_; }
  const std::string& url() const { return item_.url; }

  // Sets up `easy` for the next attempt (every option, so a reused handle carries nothing over).
  void prepare(CURL* easy);
  // Settles the attempt libcurl just finished. On Next::retry, retry_delay() says how long to
  // wait before prepare() again; on Next::done, result() is final.
  Next finish(CURLcode code);
  double retry_delay() const { return retry_delay_; }
  // Marks the item cancelled (the run was interrupted while it waited to retry).
  void cancel();

  const FetchResult& result() const { return result_; }
  FetchResult take_result() { return std::move(result_); }

 private:
  static size_t on_body(char* data, size_t size, size_t count, void* self);
  static int on_progress(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t);
  size_t accept(const char* data, size_t n);
  std::optional<Error> open_file_for_head();
  std::optional<Error> digest_and_write(const char* data, size_t n);
  Next fail(Error error, bool retryable, double retry_after = 0);

  size_t index_;
  FetchItem item_;
  const FetchRunConfig& config_;
  CURL* easy_ = nullptr;
  char errbuf_[CURL_ERROR_SIZE] = {};
  CurlSlist headers_;  // policy.headers, for CURLOPT_HTTPHEADER
  std::chrono::steady_clock::time_point first_start_{};
  bool started_ = false;

  // Per attempt.
  bool status_checked_ = false;
  bool discard_body_ = false;  // a non-2xx answer: its body is not the image
  std::string head_;           // the first bytes, held until they can be sniffed
  std::optional<AtomicFile> file_;
  std::optional<Error> abort_reason_;  // why a callback stopped the transfer
  bool abort_retryable_ = false;
  curl_off_t last_received_ = 0;  // stall watch: bytes seen at last_progress_
  std::chrono::steady_clock::time_point last_progress_{};
  std::uint64_t bytes_ = 0;
  Sha256 sha_;
  ImageEndScanner end_scan_;
  std::string extension_;

  FetchResult result_;
  double retry_delay_ = 0;
};

}  // namespace thumbfetch
