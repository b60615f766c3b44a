#pragma once
// Waiting that an interrupted run does not sit through, and the per-host limit for the threads
// strategy (async keeps its own count inside its loop).

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>

#include "thumbfetch/fetch/types.hpp"

namespace thumbfetch {

// Sleeps `seconds` in short slices; false as soon as the run is cancelled.
bool wait_unless_cancelled(const FetchRunConfig& config, double seconds);

// At most `limit` holders per host at a time (limit 0: no limit).
class HostSlots {
 public:
  explicit HostSlots(int limit) : limit_(limit) {}
  // Blocks until `host` has a free slot; false (and nothing held) when the run is cancelled.
  bool acquire(const std::string& host, const FetchRunConfig& config);
  void release(const std::string& host);

 private:
  int limit_;
  std::mutex mutex_;
  std::condition_variable freed_;
  std::map<std::string, int> in_flight_;
};

// Politeness: request starts per host spaced by 1/rate seconds (--rate 10/s), retries included.
// Thread-safe; every strategy asks it before each attempt, once the host's slot (--per-host) is
// held, so a turn is never spent waiting for a slot.
class HostPace {
 public:
  explicit HostPace(double per_second) : interval_(per_second > 0 ? 1.0 / per_second : 0) {}
  // Reserves the next start for `host`: the time it may start (now, or later when the host's
  // last start was less than an interval ago).
  std::chrono::steady_clock::time_point reserve(const std::string& host);
  // Seconds from now until the reserved start (0 when it may start now).
  double reserve_wait(const std::string& host);
  // For a loop that starts items itself: takes the host's turn if it has come (true), else
  // reserves nothing; next_turn says when it comes.
  bool take_turn_now(const std::string& host);
  std::chrono::steady_clock::time_point next_turn(const std::string& host);

 private:
  double interval_;
  std::mutex mutex_;
  std::map<std::string, std::chrono::steady_clock::time_point> next_;
};

}  // namespace thumbfetch
