// serial: one transfer at a time on one reused easy handle, so one kept-alive connection serves
// the whole list (per host). Backoff waits are sliced so that Ctrl-C is seen at once.
#include <thread>

#include "thumbfetch/fetch/naming.hpp"
#include "thumbfetch/fetch/strategy.hpp"
#include "thumbfetch/fetch/transfer.hpp"
#include "thumbfetch/fetch/wait.hpp"

namespace thumbfetch {

namespace {

class SerialFetch final : public FetchStrategy {
 public:
  explicit SerialFetch(const FetchRunConfig& config) : config_(config) {}

  std::string_view name() const override { return "serial"; }

  void run(FetchFeed& feed, const FetchProgress& progress) override {
    CurlEasy easy = make_curl_easy();
    for (size_t i = 0; !is_cancelled(config_); ++i) {
      const std::optional<FetchItem> item = feed.next();
      if (!item) break;
      const FetchResult result = fetch_one(easy.get(), i, *item);
      if (progress && !result.not_started()) progress(i, result);
    }
  }

 private:
  FetchResult fetch_one(CURL* easy, size_t index, const FetchItem& item) {
    Transfer transfer(index, item, config_);
    const std::string host = url_host(item.url);
    for (;;) {
      if (!wait_unless_cancelled(config_, pace_.reserve_wait(host))) {  // --rate
        transfer.cancel();
        break;
      }
      transfer.prepare(easy);
      if (transfer.finish(curl_easy_perform(easy)) == Transfer::Next::done) break;
      if (!wait_unless_cancelled(config_, transfer.retry_delay())) {
        transfer.cancel();
        break;
      }
    }
    return transfer.take_result();
  }

  FetchRunConfig config_;
  HostPace pace_{config_.policy.rate_per_host};
};

}  // namespace

std::unique_ptr<FetchStrategy> make_serial_fetch(const FetchRunConfig& config) {
  return std::make_unique<SerialFetch>(config);
}

}  // namespace thumbfetch
