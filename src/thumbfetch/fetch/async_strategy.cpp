// async: an event loop per core (up to kMaxLoops), each on its own thread with its own libcurl
// multi handle driven socket by socket (curl_multi_socket_action on epoll, as event-driven
// clients do) and its share of a bounded window of N transfers in flight. The loops take the
// next item from one shared cursor, so each URL is fetched once and the list is dealt as the
// loops have room. Why: with one loop, 3,000 web-sized images from nginx on 127.0.0.1 kept it
// busy from start to end (4 epoll_wait calls in the whole run: always data to read, hash and
// write) while the other core served nginx and idled. A list of fewer than 64 items per loop,
// a --per-host below -j and --rate run one loop (slots and turns per host are kept in one place).
// Over HTTP/2 each loop multiplexes on a connection of its own. Within a loop, a transfer that
// completes is settled and replaced by the next one at once, before the loop looks at any other
// socket, so the window stays full: with perform-style polling, a batch of bodies arriving together
// would all be read, written and hashed before a single new request went out, and the transfers
// would move in waves. Easy handles are pooled and reused; connections are kept alive and HTTP/2
// streams multiplexed where the server offers it. Retries wait on timers inside the loop, which
// never sleeps past the next one. The per-host limit is a count kept by the loop (a --per-host run
// has one loop): an item whose host is full waits in that host's queue and starts when a slot
// frees. --rate is a queue per host too, with one wake-up per host at its next turn (not a reserved
// start per item; a turn is taken as the item starts), and the loop looks at most kLookAhead items
// past those that cannot start yet, so a list of millions on one host costs neither memory nor a
// retry's place in line.
#include <sys/epoll.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <queue>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "thumbfetch/fetch/naming.hpp"
#include "thumbfetch/fetch/strategy.hpp"
#include "thumbfetch/fetch/transfer.hpp"
#include "thumbfetch/fetch/wait.hpp"
#include "thumbfetch/util/fd.hpp"

namespace thumbfetch {

namespace {

using Clock = std::chrono::steady_clock;

// How long the loop may wait for events before it looks at the cancel flag again.
constexpr int kPollSliceMs = 100;

// Items taken from the list that wait for their host (a slot or a turn) are at most this many
// (and window): past that, the list is not read further until some of them have started.
constexpr size_t kLookAhead = 64;

struct Timer {
  Clock::time_point due;
  size_t index;
  bool operator>(const Timer& other) const { return due > other.due; }
};

// When a host's next turn (--rate) comes, for the first item in its queue.
struct PaceTimer {
  Clock::time_point due;
  std::string host;
  bool operator>(const PaceTimer& other) const { return due > other.due; }
};

// Event loops at most: past a few, the server and the file system are the limit.
constexpr int kMaxLoops = 4;

// What the loops of one run share: the feed (taken from one call at a time, items numbered in
// the order taken), the progress callback (called one at a time), and whether a loop failed.
struct SharedRun {
  SharedRun(FetchFeed& source, const FetchProgress& callback) : feed(source), progress(callback) {}
  FetchFeed& feed;
  const FetchProgress& progress;
  std::mutex feed_mutex, progress_mutex;
  size_t taken = 0;  // under feed_mutex
  // A loop that fails stops the others at their next turn, rather than after the whole list.
  std::atomic<bool> failed{false};

  // The next item for the calling loop and its number, or nullopt when the feed is done.
  std::optional<std::pair<size_t, FetchItem>> take() {
    std::lock_guard lock(feed_mutex);
    std::optional<FetchItem> item = feed.next();
    if (!item) return std::nullopt;
    return std::pair{taken++, std::move(*item)};
  }
  void report(size_t index, const FetchResult& result) {
    if (!progress) return;
    std::lock_guard lock(progress_mutex);
    progress(index, result);
  }
};

// Part `i` of `total` split between `parts` (as even as can be; the first ones get the rest).
int share_of(int total, int parts, int i) {
  return total / parts + (i < total % parts ? 1 : 0);
}

int milliseconds_until(Clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(ms + 1, 0, kPollSliceMs));
}

// One run of the loop: its handles, queues and counters live exactly as long as the run.
class EventLoop {
 public:
  // `window` transfers in flight at most, `per_host` per host (0: no limit).
  EventLoop(SharedRun& shared, const FetchRunConfig& config, int window, int per_host)
      : shared_(shared),
        config_(config),
        window_(window),
        per_host_limit_(per_host),
        epoll_(::epoll_create1(EPOLL_CLOEXEC)),
        multi_(make_curl_multi()) {
    if (!epoll_.valid()) throw std::runtime_error("epoll_create1 failed");
    CURLM* m = multi_.get();
    curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, &EventLoop::on_socket);
    curl_multi_setopt(m, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, &EventLoop::on_timer);
    curl_multi_setopt(m, CURLMOPT_TIMERDATA, this);
    curl_multi_setopt(m, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, static_cast<long>(window_));
    if (per_host_limit_ > 0) {
      curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(per_host_limit_));
    }
  }

  ~EventLoop() {
    for (auto& [raw, easy] : busy_handles_) curl_multi_remove_handle(multi_.get(), raw);
  }

  void run() {
    while (!stopping()) {
      promote_due_retries();
      promote_due_turns();
      fill_window();
      if (in_flight_ == 0 && timers_.empty() && pace_waiting_.empty() && ready_.empty() &&
          list_done_) {
        break;
      }
      if (curl_deadline_ && Clock::now() >= *curl_deadline_) {
        curl_deadline_.reset();  // libcurl may set a new one during the call
        act(CURL_SOCKET_TIMEOUT, 0);
        continue;
      }
      wait_for_sockets();
    }
    if (stopping()) cancel_the_rest();
  }

 private:
  // libcurl tells us which sockets to watch for what; epoll does the watching.
  static int on_socket(CURL*, curl_socket_t s, int what, void* self, void* known) {
    auto* loop = static_cast<EventLoop*>(self);
    if (what == CURL_POLL_REMOVE) {
      ::epoll_ctl(loop->epoll_.get(), EPOLL_CTL_DEL, s, nullptr);  // may be closed already
      return 0;
    }
    epoll_event ev{};
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
    ev.data.fd = s;
    if (!known || ::epoll_ctl(loop->epoll_.get(), EPOLL_CTL_MOD, s, &ev) != 0) {
      // A new socket (or a reused descriptor number the kernel already dropped from the set).
      if (::epoll_ctl(loop->epoll_.get(), EPOLL_CTL_ADD, s, &ev) != 0 && errno == EEXIST) {
        ::epoll_ctl(loop->epoll_.get(), EPOLL_CTL_MOD, s, &ev);
      }
      curl_multi_assign(loop->multi_.get(), s, loop);
    }
    return 0;
  }

  // libcurl's single timer: -1 cancels it, 0 means "call me now".
  static int on_timer(CURLM*, long timeout_ms, void* self) {
    auto* loop = static_cast<EventLoop*>(self);
    if (timeout_ms < 0)
      loop->curl_deadline_.reset();
    else
      loop->curl_deadline_ = Clock::now() + std::chrono::milliseconds(timeout_ms);
    return 0;
  }

  void wait_for_sockets() {
    int timeout = kPollSliceMs;
    if (curl_deadline_) timeout = std::min(timeout, milliseconds_until(*curl_deadline_));
    if (!timers_.empty()) timeout = std::min(timeout, milliseconds_until(timers_.top().due));
    if (!pace_timers_.empty()) {
      timeout = std::min(timeout, milliseconds_until(pace_timers_.top().due));
    }
    std::array<epoll_event, 128> events;
    const int n = ::epoll_wait(epoll_.get(), events.data(), events.size(), timeout);
    for (int k = 0; k < n; ++k) {
      const std::uint32_t e = events[k].events;
      const int mask = (e & EPOLLIN ? CURL_CSELECT_IN : 0) | (e & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                       (e & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
      act(events[k].data.fd, mask);
      fill_window();  // a finished transfer is replaced before the next socket is served
    }
  }

  void act(curl_socket_t s, int mask) {
    int running = 0;
    curl_multi_socket_action(multi_.get(), s, mask, &running);
    collect_finished();
  }

  void promote_due_retries() {
    const auto now = Clock::now();
    while (!timers_.empty() && timers_.top().due <= now) {
      ready_.push_front(timers_.top().index);  // retries go to the front of the line
      timers_.pop();
    }
  }

  // A host's next turn has come: the first item in its queue goes to the front of the line. It
  // takes the turn only as it starts (may_start), so a loop that woke late never starts two.
  void promote_due_turns() {
    const auto now = Clock::now();
    while (!pace_timers_.empty() && pace_timers_.top().due <= now) {
      const std::string host = pace_timers_.top().host;
      pace_timers_.pop();
      pace_armed_.erase(host);
      auto it = pace_waiting_.find(host);
      if (it == pace_waiting_.end()) continue;
      ready_.push_front(it->second.front());
      it->second.pop_front();
      --parked_;
      if (it->second.empty()) pace_waiting_.erase(it);
    }
  }

  // One wake-up per host with a queue, at its next turn (nothing is reserved ahead).
  void arm_turn(const std::string& host) {
    if (pace_armed_.contains(host) || !pace_waiting_.contains(host)) return;
    pace_armed_.insert(host);
    pace_timers_.push({pace_.next_turn(host), host});
  }

  bool host_full(const std::string& host) {
    return per_host_limit_ > 0 && per_host_[host] >= per_host_limit_;
  }

  // The next item allowed to start now, if any.
  std::optional<size_t> next_startable() {
    for (;;) {
      size_t index;
      bool from_list = false;
      if (!ready_.empty()) {
        index = ready_.front();
        ready_.pop_front();
      } else if (!list_done_ && parked_ < std::max<size_t>(kLookAhead, window_)) {
        auto taken = shared_.take();
        if (!taken) {
          list_done_ = true;
          return std::nullopt;
        }
        index = taken->first;
        waiting_.emplace(index, std::move(taken->second));
        from_list = true;
      } else {
        return std::nullopt;
      }
      if (may_start(index, from_list)) return index;
    }
  }

  // Whether `index` may start now; if not, it waits in its host's queue for a slot or a turn.
  // Retries and items that had a slot or a turn come (not `from_list`) go first in the queue.
  bool may_start(size_t index, bool from_list) {
    const std::string host = url_host(url_of(index));
    if (host_full(host)) {  // the slot first, then the turn
      blocked_[host].push_back(index);
      ++parked_;
      return false;
    }
    const bool queued = pace_waiting_.contains(host);
    if (!(from_list && queued) && pace_.take_turn_now(host)) {
      arm_turn(host);  // for the queue behind it, if any
      return true;
    }
    auto& queue = pace_waiting_[host];
    if (from_list)
      queue.push_back(index);
    else
      queue.push_front(index);
    ++parked_;
    arm_turn(host);
    return false;
  }

  void fill_window() {
    while (in_flight_ < window_ && !stopping()) {
      auto index = next_startable();
      if (!index) break;
      start(*index);
    }
  }

  void start(size_t index) {
    auto& transfer = live_[index];
    if (!transfer) {
      auto item = waiting_.find(index);
      transfer = std::make_unique<Transfer>(index, item->second, config_);
      waiting_.erase(item);
    }
    CurlEasy easy;
    if (!idle_handles_.empty()) {
      easy = std::move(idle_handles_.back());
      idle_handles_.pop_back();
    } else {
      easy = make_curl_easy();
    }
    transfer->prepare(easy.get());
    CURL* raw = easy.get();
    busy_handles_.emplace(raw, std::move(easy));
    ++per_host_[url_host(transfer->url())];
    ++in_flight_;
    curl_multi_add_handle(multi_.get(), raw);  // sets a 0 ms timer: it starts right away
  }

  void collect_finished() {
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* handle = msg->easy_handle;
      const CURLcode code = msg->data.result;
      Transfer* transfer = nullptr;
      curl_easy_getinfo(handle, CURLINFO_PRIVATE, &transfer);
      curl_multi_remove_handle(multi_.get(), handle);
      auto busy = busy_handles_.find(handle);
      idle_handles_.push_back(std::move(busy->second));
      busy_handles_.erase(busy);
      --in_flight_;
      const size_t index = transfer->index();
      free_host_slot(url_host(transfer->url()));
      if (transfer->finish(code) == Transfer::Next::retry) {
        const auto delay = std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(transfer->retry_delay()));
        timers_.push({Clock::now() + delay, index});
      } else {
        settle(index);
      }
    }
  }

  void free_host_slot(const std::string& host) {
    if (--per_host_[host] <= 0) per_host_.erase(host);
    if (auto it = blocked_.find(host); it != blocked_.end()) {
      ready_.push_front(it->second.front());  // its host has a free slot now
      it->second.pop_front();
      --parked_;
      if (it->second.empty()) blocked_.erase(it);
    }
  }

  void settle(size_t index) {
    const FetchResult result = live_[index]->take_result();
    live_.erase(index);
    shared_.report(index, result);
  }

  // The URL of an item taken from the feed: its transfer's, or its own while it waits to start.
  const std::string& url_of(size_t index) const {
    if (auto it = live_.find(index); it != live_.end()) return it->second->url();
    return waiting_.at(index).url;
  }

  bool stopping() const {
    return is_cancelled(config_) || shared_.failed.load(std::memory_order_relaxed);
  }

  // Ctrl-C: abort what is in flight (their temp files go with them), settle what waits to retry.
  void cancel_the_rest() {
    for (auto& [raw, easy] : busy_handles_) curl_multi_remove_handle(multi_.get(), raw);
    busy_handles_.clear();
    for (auto& [index, transfer] : live_) {
      transfer->cancel();
      const FetchResult result = transfer->take_result();
      if (!result.not_started()) shared_.report(index, result);
    }
    live_.clear();
  }

  SharedRun& shared_;
  const FetchRunConfig& config_;
  const int window_;
  const int per_host_limit_;

  // What libcurl's callbacks touch (on_socket, on_timer): declared before multi_, so it outlives
  // curl_multi_cleanup, which may still call them (closing cached connections).
  UniqueFd epoll_;
  std::optional<Clock::time_point> curl_deadline_;

  // Transfers that exist (in flight or waiting to retry), by item index.
  std::unordered_map<size_t, std::unique_ptr<Transfer>> live_;
  std::vector<CurlEasy> idle_handles_;
  std::unordered_map<CURL*, CurlEasy> busy_handles_;  // in the multi
  std::deque<size_t> ready_;                          // items to start, retries due first
  bool list_done_ = false;                            // the feed has no items left for this loop
  // Items taken from the feed that have no transfer yet (parked for their host), by number: only
  // these are held, never the list.
  std::unordered_map<size_t, FetchItem> waiting_;
  std::unordered_map<std::string, std::deque<size_t>> blocked_;  // waiting for their host
  std::unordered_map<std::string, int> per_host_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  int in_flight_ = 0;
  HostPace pace_{config_.policy.rate_per_host};
  // --rate: per host, the items waiting for a turn, and one wake-up per host at its next turn.
  std::unordered_map<std::string, std::deque<size_t>> pace_waiting_;
  std::priority_queue<PaceTimer, std::vector<PaceTimer>, std::greater<>> pace_timers_;
  std::unordered_set<std::string> pace_armed_;  // hosts with a wake-up in pace_timers_
  size_t parked_ = 0;                           // items in blocked_ and pace_waiting_

  // Last, so destroyed first: every easy handle is out of it by then (~EventLoop) and the
  // members above, which its callbacks and its handles use, are all still alive.
  CurlMulti multi_;
};

class AsyncFetch final : public FetchStrategy {
 public:
  explicit AsyncFetch(const FetchRunConfig& config)
      : config_(config), window_(std::max(1, config.concurrency)) {}

  std::string_view name() const override { return "async"; }

  void run(FetchFeed& feed, const FetchProgress& progress) override {
    SharedRun shared(feed, progress);
    const int count = loop_count(feed.size_hint());
    // Every loop is made here, before any thread starts: a loop that cannot be made (no epoll,
    // no multi handle) fails the run at once.
    std::vector<std::unique_ptr<EventLoop>> loops;
    for (int i = 0; i < count; ++i) {
      loops.push_back(std::make_unique<EventLoop>(shared, config_, share_of(window_, count, i),
                                                  config_.policy.per_host));
    }
    std::vector<std::exception_ptr> errors(count);
    auto run_loop = [&](int i) {
      try {
        loops[i]->run();
      } catch (...) {  // e.g. no easy handle mid-run: the other loops stop at their next turn
        errors[i] = std::current_exception();
        shared.failed = true;
      }
    };
    {
      std::vector<std::jthread> threads;
      try {
        for (int i = 1; i < count; ++i) threads.emplace_back(run_loop, i);
      } catch (...) {
        shared.failed = true;  // the loops already started stop at once, then are joined
        throw;
      }
      run_loop(0);
    }  // joined here
    for (auto& e : errors) {
      if (e) std::rethrow_exception(e);
    }
  }

 private:
  // A loop per core (or config.loops), each with a share of the window, when the list is long
  // enough (64 items a loop), and there is no --rate nor a --per-host below the window: their
  // turns and slots per host are kept by one loop, which also keeps an item parked for a busy
  // host from waiting behind one loop's stalled transfer while another loop has a free slot. A
  // per-host limit at or above the window cannot bind (the loops' shares add up to the window).
  int loop_count(std::optional<size_t> items) const {
    const int per_host = config_.policy.per_host;
    if (config_.policy.rate_per_host > 0 || (per_host > 0 && per_host < window_)) return 1;
    int loops = config_.loops > 0 ? config_.loops
                                  : static_cast<int>(std::clamp(std::thread::hardware_concurrency(),
                                                                1u, unsigned{kMaxLoops}));
    loops = std::min(loops, window_);
    if (items && config_.loops == 0) {  // a short list is not worth a thread (nor a connection)
      loops = static_cast<int>(std::min<size_t>(loops, std::max<size_t>(1, *items / 64)));
    }
    return std::max(1, loops);
  }

  FetchRunConfig config_;
  int window_;
};

}  // namespace

std::unique_ptr<FetchStrategy> make_async_fetch(const FetchRunConfig& config) {
  return std::make_unique<AsyncFetch>(config);
}

}  // namespace thumbfetch
