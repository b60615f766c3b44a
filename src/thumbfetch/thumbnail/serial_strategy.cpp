// serial: one image after another on the calling thread; the baseline.
#include "thumbfetch/thumbnail/strategy.hpp"

namespace thumbfetch {

namespace {

class SerialStrategy final : public ThumbStrategy {
 public:
  explicit SerialStrategy(const ThumbRunConfig& config) : config_(config) {}

  std::string_view name() const override { return "serial"; }

  std::vector<ThumbResult> run(const std::vector<ThumbJob>& jobs,
                               const ThumbProgress& progress) override {
    Thumbnailer thumbnailer(config_.options);
    std::vector<ThumbResult> results;
    results.reserve(jobs.size());
    for (const ThumbJob& job : jobs) {
      if (config_.cancelled()) {
        results.push_back(not_started());
        continue;
      }
      results.push_back(run_job(thumbnailer, job));
      if (progress) progress(job, results.back());
    }
    return results;
  }

 private:
  ThumbRunConfig config_;
};

}  // namespace

std::unique_ptr<ThumbStrategy> make_serial_strategy(const ThumbRunConfig& config) {
  return std::make_unique<SerialStrategy>(config);
}

}  // namespace thumbfetch
