#include "thumbfetch/cli/bench_flags.hpp"

#include <stdlib.h>

#include <thread>

#include <fmt/format.h>

#include "thumbfetch/cli/cli.hpp"
#include "thumbfetch/cli/display.hpp"
#include "thumbfetch/fetch/transfer.hpp"
#include "thumbfetch/job/folder.hpp"
#include "thumbfetch/job/setup_error.hpp"
#include "thumbfetch/report/html_report.hpp"
#include "thumbfetch/util/interrupt.hpp"

namespace thumbfetch {

namespace fs = std::filesystem;

void BenchFlags::add_to(CLI::App& command) {
  workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  command.add_option("--repeat", repeat, "Measured runs of each approach (median, min, max)")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  command.add_option("-j,--jobs", fetch_jobs, "Transfers in flight (async) and threads (threads)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  command.add_option("-w,--workers", workers, "Thumbnail threads or processes")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  command.add_option("--format", format, "text, markdown, csv or json")
      ->check(CLI::IsMember({"text", "markdown", "csv", "json"}))
      ->capture_default_str();
  command.add_option("--work", work_dir,
                     "Where the runs write (kept); default: a temp folder, removed at the end");
  command.add_flag("-q,--quiet", quiet, "No progress notes; the table only");
  transfer.add_to(command, /*with_strategy=*/false);
  thumb.add_to(command, "--thumb-format");
}

void BenchFlags::apply(BenchConfig& c) const {
  c.repeat = repeat;
  c.fetch_jobs = fetch_jobs;
  c.thumb_workers = workers;
  c.policy = transfer.to_policy();
  c.options = thumb.to_options();
}

namespace {

std::string table_in(const BenchReport& report, const std::string& format) {
  if (format == "markdown") return format_markdown(report);
  if (format == "csv") return format_csv(report);
  if (format == "json") return format_json(report);
  return format_text_table(report);
}

// A temp work folder unless one was given; removed at the end when it was ours.
class WorkDir {
 public:
  explicit WorkDir(const fs::path& given) : path_(given) {
    if (!path_.empty()) return;
    std::string pattern = (fs::temp_directory_path() / "thumbfetch-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw SetupError("cannot make a temp work folder");
    path_ = pattern;
    owned_ = true;
  }
  ~WorkDir() {
    std::error_code ec;
    if (owned_) fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
  bool owned_ = false;
};

bool all_clean(const BenchReport& report) {
  for (const BenchRow& row : report.rows) {
    if (row.failed > 0 || !row.mismatch.empty()) return false;
  }
  return true;
}

}  // namespace

int run_and_print_bench(BenchConfig config, const BenchFlags& flags) {
  if (!flags.report_dir.empty()) {
    std::error_code ec;
    fs::create_directories(flags.report_dir, ec);  // the report's own folder, made up front
    check_output_file(flags.report_dir / "index.html", "report");
  }
  CurlGlobal curl;
  InterruptGuard interrupt;
  SignalStopSource stop;
  WorkDir work(config.work_dir.empty() ? flags.work_dir : config.work_dir);
  config.work_dir = work.path();
  Display display(flags.quiet);
  BenchOutcome out = run_bench(config, display.observer(), stop.token());
  display.finish();
  fmt::print("{}", table_in(out.report, flags.format));
  std::fflush(stdout);
  if (!flags.report_dir.empty()) {
    if (auto st = write_report_dir(out.report, flags.report_dir, output_images(out.thumbnails));
        !st) {
      fmt::print(stderr, "thumbfetch: cannot write the report: {}\n", st.error().message);
      return kExitSomeFailed;
    }
    fmt::print(stderr, "report: {}\n", (flags.report_dir / "index.html").string());
  }
  if (InterruptGuard::signal_received() != 0) return kExitInterrupted;
  return all_clean(out.report) ? kExitOk : kExitSomeFailed;
}

}  // namespace thumbfetch
