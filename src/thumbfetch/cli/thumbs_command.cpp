// `thumbfetch thumbs INPUT... -o OUT_DIR`: thumbnails for files and folders, with a choice of
// strategy, a line per failure and a summary.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "thumbfetch/cli/cli.hpp"
#include "thumbfetch/cli/thumb_flags.hpp"
#include "thumbfetch/report/tally.hpp"
#include "thumbfetch/thumbnail/strategy.hpp"
#include "thumbfetch/util/atomic_file.hpp"
#include "thumbfetch/util/interrupt.hpp"
#include "thumbfetch/util/stopwatch.hpp"

namespace thumbfetch {

namespace fs = std::filesystem;

namespace {

struct ThumbsArgs {
  std::vector<fs::path> inputs;
  fs::path out_dir;
  bool recursive = false;
  bool skip_existing = false;
  bool quiet = false;
  std::string strategy = "threads";
  int jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  double timeout = 120;
  fs::path json_report;
  ThumbFlags flags;
};

nlohmann::json result_json(const ThumbJob& job, const ThumbResult& r) {
  static const char* kState[] = {"done", "failed", "skipped"};
  nlohmann::json j = {
      {"input", job.input.string()}, {"state", kState[int(r.state)]}, {"seconds", r.seconds}};
  if (r.state == ThumbResult::State::failed) {
    j["error_kind"] = std::string(to_string(r.error.kind));
    j["error"] = r.error.message;
  } else {
    j["output"] = r.done.output.string();
    j["width"] = r.done.size.width;
    j["height"] = r.done.size.height;
    j["bytes"] = r.done.bytes;
    j["decoder"] = std::string(to_string(r.done.decoder));
  }
  return j;
}

void write_json_report(const ThumbsArgs& args, std::string_view strategy,
                       const std::vector<ThumbJob>& jobs, const std::vector<ThumbResult>& results,
                       const Tally& tally, const TimeSpent& time) {
  nlohmann::json items = nlohmann::json::array();
  for (size_t i = 0; i < jobs.size(); ++i) items.push_back(result_json(jobs[i], results[i]));
  nlohmann::json report = {{"command", "thumbs"},
                           {"strategy", strategy},
                           {"workers", strategy == "serial" ? 1 : args.jobs},
                           {"ok", tally.ok},
                           {"failed", tally.failed},
                           {"skipped", tally.skipped},
                           {"wall_seconds", time.wall},
                           {"user_seconds", time.user},
                           {"system_seconds", time.system},
                           {"items", items}};
  const std::string text = report.dump(2) + "\n";
  auto st = write_file_atomically(
      args.json_report, {reinterpret_cast<const unsigned char*>(text.data()), text.size()});
  if (!st) fmt::print(stderr, "thumbfetch: {}\n", st.error().message);
}

int run_thumbs(const ThumbsArgs& args) {
  const ThumbOptions options = args.flags.to_options();
  const auto kind = parse_thumb_strategy(args.strategy);
  if (!kind) throw CLI::ValidationError("--strategy", kind.error().message);

  std::error_code ec;
  fs::create_directories(args.out_dir, ec);
  if (!fs::is_directory(args.out_dir)) {
    throw std::runtime_error(
        fmt::format("cannot create the output folder {}: {}", args.out_dir.string(), ec.message()));
  }
  remove_stale_temp_files(args.out_dir);

  const auto inputs = collect_inputs(args.inputs, args.recursive ? Recursive::yes : Recursive::no);
  const auto all_jobs = plan_jobs(inputs, args.out_dir, options.format);

  // --skip-existing: those with a thumbnail already are settled before any work starts.
  std::vector<ThumbJob> todo;
  std::vector<ThumbResult> results(all_jobs.size());
  std::vector<size_t> todo_index;
  Tally tally;
  for (size_t i = 0; i < all_jobs.size(); ++i) {
    fs::path existing = args.skip_existing ? existing_output(all_jobs[i], options.format) : "";
    if (!existing.empty()) {
      results[i].state = ThumbResult::State::skipped;
      results[i].done.output = existing;
      tally.add_skipped();
    } else {
      todo.push_back(all_jobs[i]);
      todo_index.push_back(i);
    }
  }

  ThumbRunConfig config;
  config.options = options;
  config.workers = args.jobs;
  config.timeout_seconds = args.timeout;
  config.worker_exe = fs::read_symlink("/proc/self/exe");
  InterruptGuard interrupt;  // Ctrl-C: finish what is in progress, start nothing new
  config.cancel = &interrupt_flag();
  auto strategy = make_thumb_strategy(*kind, config);

  Stopwatch clock;
  auto report_failure = [](const ThumbJob& job, const ThumbResult& r) {
    if (r.state == ThumbResult::State::failed) {
      fmt::print(stderr, "{}: {}\n", job.input.string(), r.error.message);
    }
  };
  std::vector<ThumbResult> done = strategy->run(todo, report_failure);
  const TimeSpent time = clock.elapsed();

  for (size_t k = 0; k < done.size(); ++k) {
    if (done[k].state == ThumbResult::State::done)
      tally.add_ok();
    else
      tally.add_failure(done[k].error.kind);
    results[todo_index[k]] = std::move(done[k]);
  }
  if (!args.quiet) {
    // The rate counts the images that were thumbnailed or failed, not those never started.
    const int attempted = tally.ok + tally.failed;
    fmt::print("{} in {:.2f} s ({:.0f} images/s, {} x{}, cpu {:.2f} s)\n", tally.summary(),
               time.wall, time.wall > 0 ? attempted / time.wall : 0.0, strategy->name(),
               *kind == ThumbStrategyKind::serial ? 1 : args.jobs, time.cpu());
  }
  if (!args.json_report.empty()) {
    write_json_report(args, strategy->name(), all_jobs, results, tally, time);
  }
  if (InterruptGuard::signal_received() != 0) {
    fmt::print(stderr, "thumbfetch: interrupted; run again with --skip-existing to resume\n");
    return kExitInterrupted;
  }
  return tally.failed > 0 ? kExitSomeFailed : kExitOk;
}

}  // namespace

void add_thumbs_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ThumbsArgs>();
  CLI::App* cmd = app.add_subcommand("thumbs", "Make thumbnails of image files and folders");
  cmd->add_option("INPUT", args->inputs, "Image files and/or folders")->required();
  cmd->add_option("-o,--output", args->out_dir, "Output folder (created when missing)")->required();
  cmd->add_flag("-r,--recursive", args->recursive, "Scan folders recursively");
  args->flags.add_to(*cmd);
  cmd->add_option("--strategy", args->strategy, "serial, threads or processes")
      ->capture_default_str();
  cmd->add_option("-j,--jobs", args->jobs, "Worker threads or processes")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->add_option("--timeout", args->timeout,
                  "Seconds one image may take before its worker process is replaced "
                  "(processes strategy; 0 = no limit)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_flag("--skip-existing", args->skip_existing, "Skip images whose thumbnail exists");
  cmd->add_option("--json", args->json_report, "Write per-image results and timings as JSON");
  cmd->add_flag("-q,--quiet", args->quiet, "No summary line");
  cmd->callback([args, &exit_code] { exit_code = run_thumbs(*args); });
}

}  // namespace thumbfetch
