#pragma once
// One interface, three ways to run a batch of thumbnails. Every strategy returns one result per
// job, in job order, and writes the same bytes: only the time differs.

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "thumbfetch/thumbnail/jobs.hpp"

namespace thumbfetch {

enum class ThumbStrategyKind { serial, threads, processes };

Result<ThumbStrategyKind> parse_thumb_strategy(std::string_view text);
std::string_view to_string(ThumbStrategyKind kind);

struct ThumbRunConfig {
  ThumbOptions options;
  int workers = 1;                   // threads or processes
  double timeout_seconds = 0;        // per image, processes only (a thread cannot be stopped)
  std::filesystem::path worker_exe;  // processes: the thumbfetch executable to start workers from
  // Once this becomes true (Ctrl-C), no new image is started; images in progress finish and the
  // rest come back as ErrorKind::cancelled.
  const std::atomic<bool>* cancel = nullptr;

  bool cancelled() const { return cancel && cancel->load(std::memory_order_relaxed); }
};

// The result of a job that was never started because the run was interrupted.
ThumbResult not_started();

// Called as each job finishes, from whichever thread finished it, one call at a time.
using ThumbProgress = std::function<void(const ThumbJob&, const ThumbResult&)>;

class ThumbStrategy {
 public:
  virtual ~ThumbStrategy() = default;
  virtual std::string_view name() const = 0;
  // Runs every job; results[i] belongs to jobs[i]. Throws only when it cannot continue at all.
  virtual std::vector<ThumbResult> run(const std::vector<ThumbJob>& jobs,
                                       const ThumbProgress& progress) = 0;
};

std::unique_ptr<ThumbStrategy> make_serial_strategy(const ThumbRunConfig& config);
std::unique_ptr<ThumbStrategy> make_thread_strategy(const ThumbRunConfig& config);
std::unique_ptr<ThumbStrategy> make_process_strategy(const ThumbRunConfig& config);
std::unique_ptr<ThumbStrategy> make_thumb_strategy(ThumbStrategyKind kind,
                                                   const ThumbRunConfig& config);

}  // namespace thumbfetch
