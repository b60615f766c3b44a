// threads: N worker threads, each with its own codec handles, pulling one image at a time from
// a shared queue (an atomic cursor over the job list), so a large image never holds up others.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "thumbfetch/thumbnail/strategy.hpp"

namespace thumbfetch {

namespace {

class ThreadStrategy final : public ThumbStrategy {
 public:
  explicit ThreadStrategy(const ThumbRunConfig& config) : config_(config) {}

  std::string_view name() const override { return "threads"; }

  std::vector<ThumbResult> run(const std::vector<ThumbJob>& jobs,
                               const ThumbProgress& progress) override {
    std::vector<ThumbResult> results(jobs.size());
    std::atomic<size_t> next{0};
    std::mutex progress_mutex;
    auto work = [&] {
      Thumbnailer thumbnailer(config_.options);
      for (size_t i = next++; i < jobs.size(); i = next++) {
        if (config_.cancelled()) {
          results[i] = not_started();
          continue;
        }
        results[i] = run_job(thumbnailer, jobs[i]);
        if (progress) {
          std::lock_guard lock(progress_mutex);
          progress(jobs[i], results[i]);
        }
      }
    };
    const size_t n =
        std::min<size_t>(std::max(1, config_.workers), std::max<size_t>(jobs.size(), 1));
    {
      std::vector<std::jthread> threads;
      for (size_t t = 0; t < n; ++t) threads.emplace_back(work);
    }  // jthreads join here
    return results;
  }

 private:
  ThumbRunConfig config_;
};

}  // namespace

std::unique_ptr<ThumbStrategy> make_thread_strategy(const ThumbRunConfig& config) {
  return std::make_unique<ThreadStrategy>(config);
}

}  // namespace thumbfetch
