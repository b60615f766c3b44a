#pragma once
// Named steps of a run with their timers (plan, run, commit), as mold times its passes: every
// job result carries them, and the JSON report and the bench print them.

#include <string>
#include <string_view>
#include <vector>

#include "thumbfetch/util/stopwatch.hpp"

namespace thumbfetch {

struct StageTime {
  std::string name;
  TimeSpent time;
};

// Times one named step into `out` from construction to destruction (or stop()).
class StageTimer {
 public:
  StageTimer(std::vector<StageTime>& out, std::string name) : out_(out), name_(std::move(name)) {}
  ~StageTimer() { stop(); }
  StageTimer(const StageTimer&) = delete;
  StageTimer& operator=(const StageTimer&) = delete;
  void stop() {
    if (stopped_) return;
    stopped_ = true;
    out_.push_back({name_, clock_.elapsed()});
  }

 private:
  std::vector<StageTime>& out_;
  std::string name_;
  Stopwatch clock_;
  bool stopped_ = false;
};

// The time of the named step ("run"), zeros when it has not run.
inline TimeSpent stage_time(const std::vector<StageTime>& stages, std::string_view name) {
  for (const StageTime& s : stages) {
    if (s.name == name) return s.time;
  }
  return {};
}

}  // namespace thumbfetch
