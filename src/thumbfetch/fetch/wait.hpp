#pragma once
// Waiting that an interrupted run does not sit through, and the per-host limit for the threads
// strategy (async keeps its own count inside its loop).

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

}  // namespace thumbfetch
