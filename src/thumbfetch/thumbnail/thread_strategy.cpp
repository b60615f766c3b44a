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
  explicit ThreadStrategy(const ThumbRunConfig& config)
      : options_(config.options), workers_(std::max(1, config.workers)) {}

  std::string_view name() const override { return "threads"; }

  std::vector<ThumbResult> run(const std::vector<ThumbJob>& jobs,
                               const ThumbProgress& progress) override {
    std::vector<ThumbResult> results(jobs.size());
    std::atomic<size_t> next{0};
    std::mutex progress_mutex;
    auto work = [&] {
      Thumbnailer thumbnailer(options_);
      for (size_t i = next++; i < jobs.size(); i = next++) {
        results[i] = run_job(thumbnailer, jobs[i]);
        if (progress) {
          std::lock_guard lock(progress_mutex);
          progress(jobs[i], results[i]);
        }
      }
    };
    const int n = static_cast<int>(std::min<size_t>(workers_, std::max<size_t>(jobs.size(), 1)));
    {
      std::vector<std::jthread> threads;
      for (int t = 0; t < n; ++t) threads.emplace_back(work);
    }  // jthreads join here
    return results;
  }

 private:
  ThumbOptions options_;
  int workers_;
};

}  // namespace

std::unique_ptr<ThumbStrategy> make_thread_strategy(const ThumbRunConfig& config) {
  return std::make_unique<ThreadStrategy>(config);
}

}  // namespace thumbfetch
