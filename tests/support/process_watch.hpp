#pragma once
// Runs a program to its end under watch, for soak tests: its resident memory sampled while it
// runs, its peak (getrusage of the child), and a hard deadline after which it is killed.

#include <chrono>
#include <string>
#include <vector>

namespace thumbfetch::test {

struct WatchedRun {
  int exit_code = -1;  // -1: killed (by the deadline, or a signal)
  bool deadline_hit = false;
  double wall_seconds = 0;
  long peak_rss_kib = 0;                         // ru_maxrss of the child
  std::vector<std::pair<double, long>> samples;  // (seconds since start, VmRSS KiB)
  std::string out, err;                          // what it printed (kept in files while it runs)
};

// Runs argv with stdout and stderr to files under `scratch`, sampling VmRSS every `every`.
WatchedRun run_watched(const std::vector<std::string>& argv, const std::string& scratch,
                       std::chrono::seconds deadline,
                       std::chrono::milliseconds every = std::chrono::milliseconds(50));

// The largest sample taken in [from, to) of the run's wall time (fractions 0..1).
long peak_between(const WatchedRun& run, double from, double to);

}  // namespace thumbfetch::test
