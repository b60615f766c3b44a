#pragma once
// Waiting in tests for something another thread or process does: a file appearing, a counter
// moving. Polls, bounded, instead of sleeping a fixed time and hoping it happened.

#include <chrono>
#include <thread>

namespace thumbfetch::test {

// True once `done()` holds; false when `limit` passes first.
template <typename Predicate>
bool wait_until(Predicate done, std::chrono::milliseconds limit = std::chrono::seconds(3)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace thumbfetch::test
