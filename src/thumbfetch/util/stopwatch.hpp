#pragma once
// Wall and CPU time of a run, CPU counted honestly: this process's threads plus every child
// process that has been waited for (worker processes).

#include <sys/resource.h>

#include <chrono>
#include <cstdint>

namespace thumbfetch {

// The most resident memory this process has had (getrusage's ru_maxrss), in bytes. Worker
// processes are not included: their memory is their own and bounded per image.
inline std::uint64_t peak_rss_bytes() {
  rusage self{};
  getrusage(RUSAGE_SELF, &self);
  return static_cast<std::uint64_t>(self.ru_maxrss) * 1024;  // Linux: kilobytes
}

struct TimeSpent {
  double wall = 0;
  double user = 0;
  double system = 0;
  double cpu() const { return user + system; }
};

class Stopwatch {
 public:
  Stopwatch() : wall_start_(std::chrono::steady_clock::now()), cpu_start_(cpu_now()) {}

  TimeSpent elapsed() const {
    TimeSpent now = cpu_now();
    now.wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start_).count();
    now.user -= cpu_start_.user;
    now.system -= cpu_start_.system;
    return now;
  }

 private:
  static double seconds(const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; }
  static TimeSpent cpu_now() {
    rusage self{}, children{};
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    TimeSpent t;
    t.user = seconds(self.ru_utime) + seconds(children.ru_utime);
    t.system = seconds(self.ru_stime) + seconds(children.ru_stime);
    return t;
  }

  std::chrono::steady_clock::time_point wall_start_;
  TimeSpent cpu_start_;
};

}  // namespace thumbfetch
