// serial: one image after another on the calling thread; the baseline.
#include "thumbfetch/thumbnail/strategy.hpp"

namespace thumbfetch {

namespace {

class SerialStrategy final : public ThumbStrategy {
 public:
  explicit SerialStrategy(const ThumbRunConfig& config) : options_(config.options) {}

  std::string_view name() const override { return "serial"; }

  std::vector<ThumbResult> run(const std::vector<ThumbJob>& jobs,
                               const ThumbProgress& progress) override {
    Thumbnailer thumbnailer(options_);
    std::vector<ThumbResult> results;
    results.reserve(jobs.size());
    for (const ThumbJob& job : jobs) {
      results.push_back(run_job(thumbnailer, job));
      if (progress) progress(job, results.back());
    }
    return results;
  }

 private:
  ThumbOptions options_;
};

}  // namespace

std::unique_ptr<ThumbStrategy> make_serial_strategy(const ThumbRunConfig& config) {
  return std::make_unique<SerialStrategy>(config);
}

}  // namespace thumbfetch
