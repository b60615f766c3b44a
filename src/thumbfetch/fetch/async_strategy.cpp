// async: one thread, one libcurl multi handle, a bounded window of up to N transfers in flight
// (as curl's own --parallel does). A new transfer is added as each one finishes; easy handles
// are pooled and reused; connections are kept alive and HTTP/2 streams multiplexed where the
// server offers it. Retries wait on timers inside the loop, which never sleeps: it polls with a
// timeout no later than the next timer. The per-host limit is a count kept by the loop: an item
// whose host is full waits in that host's queue and is the first started when a slot frees.
#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <queue>
#include <unordered_map>

#include "thumbfetch/fetch/naming.hpp"
#include "thumbfetch/fetch/strategy.hpp"
#include "thumbfetch/fetch/transfer.hpp"

namespace thumbfetch {

namespace {

using Clock = std::chrono::steady_clock;

// How long the loop may sleep in curl_multi_poll before it looks at the cancel flag again.
constexpr int kPollSliceMs = 100;

struct Timer {
  Clock::time_point due;
  size_t index;
  bool operator>(const Timer& other) const { return due > other.due; }
};

class AsyncFetch final : public FetchStrategy {
 public:
  explicit AsyncFetch(const FetchRunConfig& config)
      : config_(config), window_(std::max(1, config.concurrency)) {}

  std::string_view name() const override { return "async"; }

  std::vector<FetchResult> run(const std::vector<FetchItem>& items,
                               const FetchProgress& progress) override {
    std::vector<FetchResult> results(items.size());
    CurlMulti multi = make_curl_multi();
    curl_multi_setopt(multi.get(), CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    curl_multi_setopt(multi.get(), CURLMOPT_MAXCONNECTS, static_cast<long>(window_));
    if (config_.policy.per_host > 0) {
      curl_multi_setopt(multi.get(), CURLMOPT_MAX_HOST_CONNECTIONS,
                        static_cast<long>(config_.policy.per_host));
    }

    // Transfers that exist (in flight or waiting to retry), by item index.
    std::unordered_map<size_t, std::unique_ptr<Transfer>> live;
    std::vector<CurlEasy> idle_handles;
    std::unordered_map<CURL*, CurlEasy> busy_handles;  // in the multi
    std::deque<size_t> ready;                          // items to start, retries due first
    size_t next_new = 0;  // items[next_new..] have not been looked at yet
    std::unordered_map<std::string, std::deque<size_t>> blocked;  // waiting for their host
    std::unordered_map<std::string, int> per_host;
    std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers;
    int in_flight = 0;

    auto settle = [&](size_t index) {
      results[index] = live[index]->take_result();
      live.erase(index);
      if (progress) progress(index, results[index]);
    };
    auto host_full = [&](const std::string& host) {
      return config_.policy.per_host > 0 && per_host[host] >= config_.policy.per_host;
    };
    auto start = [&](size_t index) {
      auto& transfer = live[index];
      if (!transfer) transfer = std::make_unique<Transfer>(index, items[index], config_);
      CurlEasy easy;
      if (!idle_handles.empty()) {
        easy = std::move(idle_handles.back());
        idle_handles.pop_back();
      } else {
        easy = make_curl_easy();
      }
      transfer->prepare(easy.get());
      curl_multi_add_handle(multi.get(), easy.get());
      CURL* raw = easy.get();
      busy_handles.emplace(raw, std::move(easy));
      ++per_host[url_host(items[index].url)];
      ++in_flight;
    };
    // The next item allowed to start now, if any.
    auto next_startable = [&]() -> std::optional<size_t> {
      for (;;) {
        size_t index;
        if (!ready.empty()) {
          index = ready.front();
          ready.pop_front();
        } else if (next_new < items.size()) {
          index = next_new++;
        } else {
          return std::nullopt;
        }
        const std::string host = url_host(items[index].url);
        if (!host_full(host)) return index;
        blocked[host].push_back(index);
      }
    };

    while (!is_cancelled(config_)) {
      // Retries whose time has come go to the front of the line.
      const auto now = Clock::now();
      while (!timers.empty() && timers.top().due <= now) {
        ready.push_front(timers.top().index);
        timers.pop();
      }
      while (in_flight < window_) {
        auto index = next_startable();
        if (!index) break;
        start(*index);
      }
      if (in_flight == 0 && timers.empty() && ready.empty() && next_new >= items.size()) break;

      int running = 0;
      curl_multi_perform(multi.get(), &running);
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi.get(), &queued)) {
        if (msg->msg != CURLMSG_DONE) continue;
        CURL* handle = msg->easy_handle;
        const CURLcode code = msg->data.result;
        Transfer* transfer = nullptr;
        curl_easy_getinfo(handle, CURLINFO_PRIVATE, &transfer);
        curl_multi_remove_handle(multi.get(), handle);
        auto busy = busy_handles.find(handle);
        idle_handles.push_back(std::move(busy->second));
        busy_handles.erase(busy);
        --in_flight;
        const size_t index = transfer->index();
        const std::string host = url_host(items[index].url);
        if (--per_host[host] <= 0) per_host.erase(host);
        if (auto it = blocked.find(host); it != blocked.end()) {
          ready.push_front(it->second.front());  // its host has a free slot now
          it->second.pop_front();
          if (it->second.empty()) blocked.erase(it);
        }
        if (transfer->finish(code) == Transfer::Next::retry) {
          const auto delay = std::chrono::duration_cast<Clock::duration>(
              std::chrono::duration<double>(transfer->retry_delay()));
          timers.push({Clock::now() + delay, index});
        } else {
          settle(index);
        }
      }
      if (in_flight < window_ && !ready.empty()) continue;  // start more before sleeping

      int timeout_ms = kPollSliceMs;
      if (!timers.empty()) {
        const auto until =
            std::chrono::duration_cast<std::chrono::milliseconds>(timers.top().due - Clock::now())
                .count();
        timeout_ms = static_cast<int>(std::clamp<long long>(until, 0, kPollSliceMs));
      }
      curl_multi_poll(multi.get(), nullptr, 0, timeout_ms, nullptr);
    }

    for (auto& [raw, easy] : busy_handles) curl_multi_remove_handle(multi.get(), raw);
    busy_handles.clear();
    if (is_cancelled(config_)) {
      // Abort what is in flight (their temp files go with them) and settle what waits to retry.
      for (auto& [index, transfer] : live) {
        transfer->cancel();
        results[index] = transfer->take_result();
        if (progress) progress(index, results[index]);
      }
    }
    live.clear();
    return results;
  }

 private:
  FetchRunConfig config_;
  int window_;
};

}  // namespace

std::unique_ptr<FetchStrategy> make_async_fetch(const FetchRunConfig& config) {
  return std::make_unique<AsyncFetch>(config);
}

}  // namespace thumbfetch
