// threads: N worker threads pulling one URL at a time from one shared feed (under a mutex), so
// each URL is fetched exactly once. Each thread owns one easy handle,
// reused for all its transfers, so its connections stay alive between them. A per-host limit
// makes a thread wait for a slot before its transfer starts, and --rate for its turn after that.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "thumbfetch/fetch/naming.hpp"
#include "thumbfetch/fetch/strategy.hpp"
#include "thumbfetch/fetch/transfer.hpp"
#include "thumbfetch/fetch/wait.hpp"

namespace thumbfetch {

namespace {

class ThreadFetch final : public FetchStrategy {
 public:
  explicit ThreadFetch(const FetchRunConfig& config)
      : config_(config), workers_(std::max(1, config.concurrency)) {}

  std::string_view name() const override { return "threads"; }

  void run(FetchFeed& feed, const FetchProgress& progress) override {
    std::mutex feed_mutex, progress_mutex;
    size_t taken = 0;
    auto take = [&]() -> std::optional<std::pair<size_t, FetchItem>> {
      std::lock_guard lock(feed_mutex);
      if (is_cancelled(config_)) return std::nullopt;
      std::optional<FetchItem> item = feed.next();
      if (!item) return std::nullopt;
      return std::pair(taken++, std::move(*item));
    };
    HostSlots slots(config_.policy.per_host);
    HostPace pace(config_.policy.rate_per_host);
    auto work = [&](CURL* easy) {
      while (auto item = take()) {
        const FetchResult result = fetch_one(easy, item->first, item->second, slots, pace);
        if (progress && !result.not_started()) {
          std::lock_guard lock(progress_mutex);
          progress(item->first, result);
        }
      }
    };
    // No more threads than items, when the feed knows how many.
    const size_t items = feed.size_hint().value_or(size_t(workers_));
    const int n = static_cast<int>(std::clamp<size_t>(items, 1, size_t(workers_)));
    // Handles are made before any thread starts: a failure here is "cannot run", not a crash.
    std::vector<CurlEasy> handles;
    for (int t = 0; t < n; ++t) handles.push_back(make_curl_easy());
    {
      std::vector<std::jthread> threads;
      for (int t = 0; t < n; ++t) threads.emplace_back(work, handles[t].get());
    }  // jthreads join here
  }

 private:
  FetchResult fetch_one(CURL* easy, size_t index, const FetchItem& item, HostSlots& slots,
                        HostPace& pace) {
    const std::string host = url_host(item.url);
    Transfer transfer(index, item, config_);
    for (;;) {
      // The host's slot first, then the turn (--rate): threads that waited for the slot would
      // otherwise hold turns long past when it frees, and start together.
      if (!slots.acquire(host, config_)) {
        transfer.cancel();
        break;
      }
      if (!wait_unless_cancelled(config_, pace.reserve_wait(host))) {
        slots.release(host);
        transfer.cancel();
        break;
      }
      transfer.prepare(easy);
      const Transfer::Next next = transfer.finish(curl_easy_perform(easy));
      slots.release(host);  // not held while backing off
      if (next == Transfer::Next::done) break;
      if (!wait_unless_cancelled(config_, transfer.retry_delay())) {
        transfer.cancel();
        break;
      }
    }
    return transfer.take_result();
  }

  FetchRunConfig config_;
  int workers_;
};

}  // namespace

std::unique_ptr<FetchStrategy> make_thread_fetch(const FetchRunConfig& config) {
  return std::make_unique<ThreadFetch>(config);
}

}  // namespace thumbfetch
