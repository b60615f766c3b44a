#pragma once
// How a job reports while it runs, and how it is stopped. A job calls its observer one call at
// a time (never concurrently); a display (the CLI's progress line, the Python module's callback,
// the bench's silence) decides what to show. Stopping is a std::stop_token: the job stops
// starting items, lets the ones in progress finish or aborts them, and returns what it has.

#include <atomic>
#include <cstdint>
#include <functional>
#include <stop_token>
#include <string_view>

#include "thumbfetch/util/error.hpp"

namespace thumbfetch {

struct JobObserver {
  // A stage ("download", "thumbnails") begins: `total` items, `skipped` of them already done.
  std::function<void(std::string_view stage, std::uint64_t total, std::uint64_t skipped)> started;
  // One item of a stage settled; `error` is null when it succeeded. Items never started because
  // the run was stopped are not reported.
  std::function<void(std::string_view stage, std::string_view item, const Error* error)> settled;
  // A line of information ("Imgur: 500 links in 6 API requests"), for the user to read.
  std::function<void(std::string_view line)> note;

  void start(std::string_view stage, std::uint64_t total, std::uint64_t skipped) const {
    if (started) started(stage, total, skipped);
  }
  void settle(std::string_view stage, std::string_view item, const Error* error) const {
    if (settled) settled(stage, item, error);
  }
  void say(std::string_view line) const {
    if (note) note(line);
  }
};

// The strategies poll an atomic flag; a stop_token sets it.
class CancelFlag {
 public:
  explicit CancelFlag(std::stop_token stop)
      : callback_(std::move(stop), [this] { flag_.store(true); }) {}
  const std::atomic<bool>* get() const { return &flag_; }
  bool is_set() const { return flag_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> flag_{false};
  std::stop_callback<std::function<void()>> callback_;
};

}  // namespace thumbfetch
