// `thumbfetch thumbs INPUT... -o OUT_DIR`: flags -> ThumbsJob (plan, run, commit) -> print.
#include <filesystem>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "thumbfetch/cli/checks.hpp"
#include "thumbfetch/cli/cli.hpp"
#include "thumbfetch/cli/display.hpp"
#include "thumbfetch/cli/out_of_space.hpp"
#include "thumbfetch/cli/thumb_flags.hpp"
#include "thumbfetch/job/thumbs_job.hpp"
#include "thumbfetch/util/atomic_file.hpp"
#include "thumbfetch/util/interrupt.hpp"

namespace thumbfetch {

namespace fs = std::filesystem;

namespace {

struct ThumbsArgs {
  std::vector<fs::path> inputs;
  fs::path out_dir;
  bool recursive = false;
  bool mirror_tree = false;
  bool skip_existing = false;
  bool wait = false;
  bool quiet = false;
  bool verbose = false;
  std::string strategy = "threads";
  int jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::string timeout = "120s";
  fs::path json_report;
  ThumbFlags flags;
};

ThumbsConfig config_from(const ThumbsArgs& args, const std::string& command) {
  const auto kind = parse_thumb_strategy(args.strategy);
  if (!kind) throw CLI::ValidationError("--strategy", kind.error().message);
  ThumbsConfig c;
  c.inputs = args.inputs;
  c.recursive = args.recursive ? Recursive::yes : Recursive::no;
  c.mirror_tree = args.mirror_tree;
  c.out_dir = args.out_dir;
  c.options = args.flags.to_options();
  c.strategy = *kind;
  c.workers = args.jobs;
  c.timeout_seconds = duration_flag("--timeout", args.timeout, ZeroAllowed::yes);
  c.skip_existing = args.skip_existing;
  c.wait = args.wait ? WaitForLock::yes : WaitForLock::no;
  c.command = command;
  return c;
}

void write_json(const fs::path& path, const std::string& text) {
  if (path == "-") {
    fmt::print("{}", text);
    return;
  }
  auto st = write_file_atomically(
      path, {reinterpret_cast<const unsigned char*>(text.data()), text.size()});
  if (!st)
    fmt::print(stderr, "thumbfetch: cannot write {}: {}\n", path.string(), st.error().message);
}

// Usage checks before any work: flags that cannot both hold are refused (exit 2), flags that
// have no effect where they were given are warned about.
void check_flags(const CLI::App& cmd, const ThumbsArgs& args) {
  if (args.quiet && args.verbose) conflict("-q -v", "give one of --quiet and --verbose");
  args.flags.warn_ineffective();
  if (args.strategy != "processes" && given(cmd, "--timeout")) {
    warn_usage("--timeout has no effect with --strategy " + args.strategy +
               " (a thread cannot be stopped; only --strategy processes replaces a slow worker)");
  }
  if (args.strategy == "serial" && args.jobs != 1 && given(cmd, "--jobs")) {
    warn_usage(fmt::format("-j {} has no effect with --strategy serial", args.jobs));
  }
}

int run_thumbs(const CLI::App& cmd, const ThumbsArgs& args, const std::string& command) {
  ThumbsConfig config = config_from(args, command);
  check_flags(cmd, args);
  check_output_file(args.json_report, "JSON report");
  InterruptGuard interrupt;  // Ctrl-C: finish what is in progress, start nothing new
  SignalStopSource stop;
  ThumbsJob job = ThumbsJob::plan(std::move(config), stop.token());
  Display display(args.quiet, args.verbose ? Display::Lines::every_item : Display::Lines::failures);
  job.run(display.observer(), stop.token());
  display.finish();
  const Status committed = job.commit();
  if (!committed && worth_reporting(committed.error(), job.out_of_space())) {
    fmt::print(stderr, "thumbfetch: cannot write the manifest: {}\n", committed.error().message);
  }
  const Tally& tally = job.tally();
  const TimeSpent time = job.run_time();
  if (!args.quiet) {
    // The rate counts the images that were thumbnailed or failed, not those never started.
    const int attempted = tally.ok + tally.failed;
    // With --json - the JSON alone goes to standard output.
    fmt::print(args.json_report == "-" ? stderr : stdout,
               "{} in {:.2f} s ({:.0f} images/s, {} x{}, cpu {:.2f} s{})\n", tally.summary(),
               time.wall, time.wall > 0 ? attempted / time.wall : 0.0, job.strategy_name(),
               job.workers(), time.cpu(), peak_rss_note(static_cast<size_t>(tally.total())));
  }
  if (!args.json_report.empty()) write_json(args.json_report, thumbs_json_report(job));
  if (job.out_of_space()) {
    print_out_of_space(*job.out_of_space(), tally.not_started);
    return kExitSomeFailed;
  }
  if (job.interrupted()) {
    fmt::print(stderr, "thumbfetch: interrupted; run again with --skip-existing to resume\n");
    return kExitInterrupted;
  }
  return tally.failed > 0 || !committed ? kExitSomeFailed : kExitOk;
}

}  // namespace

void add_thumbs_command(CLI::App& app, CliContext& context) {
  auto args = std::make_shared<ThumbsArgs>();
  CLI::App* cmd = app.add_subcommand("thumbs", "Make thumbnails of image files and folders");
  cmd->add_option("INPUT", args->inputs, "Image files and/or folders")->required();
  cmd->add_option("-o,--output", args->out_dir, "Output folder (created when missing)")->required();
  cmd->add_flag("-r,--recursive", args->recursive, "Scan folders recursively");
  cmd->add_flag("--mirror-tree", args->mirror_tree,
                "With -r: keep the folder tree (IN/a/b.jpg -> OUT/a/b.jpg; several inputs each "
                "under OUT/their name/)");
  args->flags.add_to(*cmd);
  cmd->add_option("--strategy", args->strategy, "serial, threads or processes")
      ->capture_default_str();
  cmd->add_option("-j,--jobs", args->jobs, "Worker threads or processes")
      ->check(whole_range(1, 1024))
      ->capture_default_str();
  cmd->add_option("--timeout", args->timeout,
                  "How long one image may take before its worker process is replaced: 30 "
                  "(seconds), 30s, 2m (processes strategy; 0: no limit)")
      ->capture_default_str();
  cmd->add_flag("--skip-existing", args->skip_existing,
                "Resume: skip images already thumbnailed, unchanged, with the same options");
  cmd->add_flag("--wait", args->wait, "Wait for another run that holds the output folder");
  cmd->add_option("--json", args->json_report,
                  "Write per-image results and timings as JSON ('-': standard output)");
  cmd->add_flag("-q,--quiet", args->quiet, "No progress and no summary line; failures only");
  cmd->add_flag("-v,--verbose", args->verbose, "One line per image (ITEM: ok, or the failure)");
  cmd->callback(
      [cmd, args, &context] { context.exit_code = run_thumbs(*cmd, *args, context.command_line); });
}

}  // namespace thumbfetch
