// The three strategies are one engine, ThumbPool, with a kind: each run() submits the whole
// batch, waits, and returns the results in job order.
#include "thumbfetch/thumbnail/strategy.hpp"

#include <algorithm>

#include "thumbfetch/thumbnail/pool.hpp"

namespace thumbfetch {

namespace {

class PoolStrategy final : public ThumbStrategy {
 public:
  PoolStrategy(ThumbStrategyKind kind, const ThumbRunConfig& config)
      : kind_(kind), config_(config) {}

  std::string_view name() const override { return to_string(kind_); }

  std::vector<ThumbResult> run(const std::vector<ThumbJob>& jobs,
                               const ThumbProgress& progress) override {
    std::vector<ThumbResult> results(jobs.size());
    if (jobs.empty()) return results;
    ThumbRunConfig config = config_;
    config.workers = static_cast<int>(std::min<size_t>(std::max(1, config.workers), jobs.size()));
    ThumbPool pool(kind_, config, [&](size_t i, const ThumbJob& job, ThumbResult result) {
      // Images never started (Ctrl-C) are not progress.
      const bool never_started =
          result.state == ThumbResult::State::failed && result.error.kind == ErrorKind::cancelled;
      if (progress && !never_started) progress(job, result);
      results[i] = std::move(result);
    });
    for (size_t i = 0; i < jobs.size(); ++i) pool.submit(jobs[i], i);
    pool.wait();
    return results;
  }

 private:
  ThumbStrategyKind kind_;
  ThumbRunConfig config_;
};

}  // namespace

Result<ThumbStrategyKind> parse_thumb_strategy(std::string_view text) {
  if (text == "serial") return ThumbStrategyKind::serial;
  if (text == "threads") return ThumbStrategyKind::threads;
  if (text == "processes") return ThumbStrategyKind::processes;
  return make_error(ErrorKind::refused, "invalid strategy '" + std::string(text) +
                                            "': expected serial, threads or processes");
}

std::string_view to_string(ThumbStrategyKind kind) {
  switch (kind) {
    case ThumbStrategyKind::serial:
      return "serial";
    case ThumbStrategyKind::threads:
      return "threads";
    case ThumbStrategyKind::processes:
      return "processes";
  }
  return "serial";
}

ThumbResult not_started() {
  ThumbResult r;
  r.error = make_error(ErrorKind::cancelled, "not started: the run was interrupted");
  return r;
}

std::unique_ptr<ThumbStrategy> make_thumb_strategy(ThumbStrategyKind kind,
                                                   const ThumbRunConfig& config) {
  return std::make_unique<PoolStrategy>(kind, config);
}

std::unique_ptr<ThumbStrategy> make_serial_strategy(const ThumbRunConfig& config) {
  return make_thumb_strategy(ThumbStrategyKind::serial, config);
}

std::unique_ptr<ThumbStrategy> make_thread_strategy(const ThumbRunConfig& config) {
  return make_thumb_strategy(ThumbStrategyKind::threads, config);
}

std::unique_ptr<ThumbStrategy> make_process_strategy(const ThumbRunConfig& config) {
  return make_thumb_strategy(ThumbStrategyKind::processes, config);
}

}  // namespace thumbfetch
