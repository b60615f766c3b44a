#pragma once
// A full disk ends a run once, cleanly. The first item that fails for want of space
// (ErrorKind::no_space) stops the run as Ctrl-C would (nothing new starts); that item and every
// other one that hits the same wall are not failures of their own but "not started": no error
// line, no manifest row, and the next run, once there is room, does them. The command prints the
// one message (`first()`) and exits 1.

#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>

#include "thumbfetch/util/error.hpp"

namespace thumbfetch {

class OutOfSpace {
 public:
  // Stops with `outer` too (the user's Ctrl-C).
  explicit OutOfSpace(std::stop_token outer)
      : forward_(std::move(outer), [this] { source_.request_stop(); }) {}
  OutOfSpace(const OutOfSpace&) = delete;
  OutOfSpace& operator=(const OutOfSpace&) = delete;

  // The token the run polls: set by the outer token or by a full disk.
  std::stop_token token() const { return source_.get_token(); }

  // True when `error` is a full disk: the first one is kept and stops the run. Thread-safe.
  bool absorb(const Error& error) {
    if (error.kind != ErrorKind::no_space) return false;
    std::lock_guard lock(mutex_);
    if (!first_) {
      first_ = error;
      source_.request_stop();
    }
    return true;
  }

  // The first full-disk error, if any.
  std::optional<Error> first() const {
    std::lock_guard lock(mutex_);
    return first_;
  }

 private:
  std::stop_source source_;
  std::stop_callback<std::function<void()>> forward_;
  mutable std::mutex mutex_;
  std::optional<Error> first_;
};

}  // namespace thumbfetch
