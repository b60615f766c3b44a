#include "thumbfetch/fetch/wait.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

namespace thumbfetch {

namespace {
constexpr auto kSlice = std::chrono::milliseconds(50);
}

bool wait_unless_cancelled(const FetchRunConfig& config, double seconds) {
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                         std::chrono::duration<double>(seconds));
  while (!is_cancelled(config)) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= until) return true;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(until - now, kSlice));
  }
  return false;
}

bool HostSlots::acquire(const std::string& host, const FetchRunConfig& config) {
  if (limit_ <= 0) return !is_cancelled(config);
  std::unique_lock lock(mutex_);
  while (in_flight_[host] >= limit_) {
    if (is_cancelled(config)) return false;
    freed_.wait_for(lock, kSlice);
  }
  ++in_flight_[host];
  return true;
}

void HostSlots::release(const std::string& host) {
  if (limit_ <= 0) return;
  {
    std::lock_guard lock(mutex_);
    if (--in_flight_[host] <= 0) in_flight_.erase(host);
  }
  freed_.notify_all();
}

std::chrono::steady_clock::time_point HostPace::reserve(const std::string& host) {
  const auto now = std::chrono::steady_clock::now();
  if (interval_ <= 0) return now;
  std::lock_guard lock(mutex_);
  auto [it, inserted] = next_.try_emplace(host, now);
  const auto at = std::max(it->second, now);
  it->second = at + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                        std::chrono::duration<double>(interval_));
  return at;
}

double HostPace::reserve_wait(const std::string& host) {
  const auto at = reserve(host);
  return std::max(0.0,
                  std::chrono::duration<double>(at - std::chrono::steady_clock::now()).count());
}

bool HostPace::take_turn_now(const std::string& host) {
  const auto now = std::chrono::steady_clock::now();
  if (interval_ <= 0) return true;
  std::lock_guard lock(mutex_);
  auto [it, inserted] = next_.try_emplace(host, now);
  if (it->second > now) return false;
  it->second = now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                         std::chrono::duration<double>(interval_));
  return true;
}

std::chrono::steady_clock::time_point HostPace::next_turn(const std::string& host) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  auto it = next_.find(host);
  return it == next_.end() ? now : std::max(it->second, now);
}

}  // namespace thumbfetch
