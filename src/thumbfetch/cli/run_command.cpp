// `thumbfetch run (--urls FILE | --imgur) -o DIR`: flags -> PipelineJob (plan, run, commit) ->
// print. Downloads and thumbnails as one streamed pipeline.
#include <filesystem>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "thumbfetch/cli/checks.hpp"
#include "thumbfetch/cli/cli.hpp"
#include "thumbfetch/cli/dataset_flags.hpp"
#include "thumbfetch/cli/display.hpp"
#include "thumbfetch/cli/fetch_flags.hpp"
#include "thumbfetch/cli/out_of_space.hpp"
#include "thumbfetch/cli/shard_flags.hpp"
#include "thumbfetch/cli/thumb_flags.hpp"
#include "thumbfetch/fetch/transfer.hpp"
#include "thumbfetch/job/pipeline_job.hpp"
#include "thumbfetch/util/interrupt.hpp"

namespace thumbfetch {

namespace fs = std::filesystem;

namespace {

struct RunArgs {
  SourceFlags source;
  TransferFlags transfer;
  ThumbFlags thumb;
  ShardFlags shard;
  DatasetFlags dataset;
  std::string thumb_strategy = "threads";
  int workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::string thumb_timeout = "120s";
  fs::path out_dir;
  bool keep_originals = false;
  bool quiet = false;
  bool verbose = false;
  bool wait = false;
};

PipelineConfig config_from(const RunArgs& a, const std::string& command) {
  const auto thumb_kind = parse_thumb_strategy(a.thumb_strategy);
  if (!thumb_kind) throw CLI::ValidationError("--thumb-strategy", thumb_kind.error().message);
  PipelineConfig c;
  c.source = a.source.to_source();
  c.out_dir = a.out_dir;
  c.policy = a.transfer.to_policy();
  c.fetch_strategy = a.transfer.to_strategy();
  c.concurrency = a.transfer.jobs;
  c.options = a.thumb.to_options();
  c.thumb_strategy = *thumb_kind;
  c.workers = a.workers;
  c.timeout_seconds = duration_flag("--thumb-timeout", a.thumb_timeout, ZeroAllowed::yes);
  c.keep_originals = a.keep_originals;
  c.wait = a.wait ? WaitForLock::yes : WaitForLock::no;
  c.command = command;
  return c;
}

// Usage checks before any work: conflicts refused (exit 2), flags without effect warned about.
void check_flags(const CLI::App& cmd, const RunArgs& a) {
  if (a.quiet && a.verbose) conflict("-q -v", "give one of --quiet and --verbose");
  a.source.warn_ineffective();
  a.transfer.warn_ineffective();
  a.thumb.warn_ineffective();
  if (a.thumb_strategy != "processes" && given(cmd, "--thumb-timeout")) {
    warn_usage("--thumb-timeout has no effect with --thumb-strategy " + a.thumb_strategy +
               " (only worker processes can be replaced)");
  }
  if (a.thumb_strategy == "serial" && a.workers != 1 && given(cmd, "--workers")) {
    warn_usage(fmt::format("-w {} has no effect with --thumb-strategy serial", a.workers));
  }
}

int run_pipeline(const CLI::App& cmd, const RunArgs& a, const std::string& command) {
  PipelineConfig config = config_from(a, command);
  check_flags(cmd, a);
  const std::optional<ShardTask> shard = a.shard.begin(a.source, a.out_dir);
  if (shard && shard_needs_no_job(*shard, command, a.quiet)) return kExitOk;
  if (shard) std::tie(config.source, config.out_dir) = std::pair(shard->source(), shard->dir());
  const double started = unix_seconds_now();
  CurlGlobal curl;  // before any thread starts
  InterruptGuard interrupt;
  SignalStopSource stop;
  Display display(a.quiet, a.verbose ? Display::Lines::every_item : Display::Lines::failures);
  PipelineJob job = PipelineJob::plan(std::move(config), display.observer(), stop.token());
  if (shard) shard->record();
  job.run(display.observer(), stop.token());
  display.finish();
  const Status committed = job.commit();
  if (!committed && worth_reporting(committed.error(), job.out_of_space())) {
    fmt::print(stderr, "thumbfetch: cannot write the manifest: {}\n", committed.error().message);
  }
  const Tally& t = job.tally();
  // Packing reads the manifest: without a committed one there is nothing right to pack.
  const bool packed =
      !all_settled(job) || (committed && a.dataset.pack(job.out_dir(), a.keep_originals, a.quiet));
  if (shard) {  // no manifest, no record of the work: not DONE
    shard->finish({started, unix_seconds_now(), t.ok + t.skipped, t.failed,
                   all_settled(job) && committed.ok() && packed});
  }
  const Tally& tally = job.tally();
  const TimeSpent time = job.run_time();
  if (!a.quiet) {  // -q: failure lines only; the exit code says the rest
    fmt::print(
        "{} in {:.2f} s ({:.0f} images/s, download {} x{}, thumbnails {} x{}, cpu {:.2f} s{})\n",
        tally.summary(), time.wall, time.wall > 0 ? tally.ok / time.wall : 0.0, a.transfer.strategy,
        a.transfer.strategy == "serial" ? 1 : a.transfer.jobs, a.thumb_strategy,
        a.thumb_strategy == "serial" ? 1 : a.workers, time.cpu(),
        peak_rss_note(static_cast<size_t>(tally.total())));
  }
  if (job.out_of_space()) {
    print_out_of_space(*job.out_of_space(), tally.not_started);
    return kExitSomeFailed;
  }
  if (job.interrupted()) {
    fmt::print(stderr, "interrupted: run the same command again to resume\n");
    return kExitInterrupted;
  }
  return tally.failed > 0 || !packed || !committed ? kExitSomeFailed : kExitOk;
}

}  // namespace

void add_run_command(CLI::App& app, CliContext& context) {
  auto a = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand(
      "run",
      "Download and thumbnail as one streamed pipeline (each image thumbnailed as it lands)");
  a->source.add_to(*cmd);
  cmd->add_option("-o,--output", a->out_dir, "Output folder for the thumbnails and the manifest")
      ->required();
  a->transfer.add_to(*cmd);
  a->thumb.add_to(*cmd);
  a->shard.add_to(*cmd);
  a->dataset.add_to(*cmd);
  cmd->add_option("--thumb-strategy", a->thumb_strategy, "serial, threads or processes")
      ->capture_default_str();
  cmd->add_option("-w,--workers", a->workers, "Thumbnail worker threads or processes")
      ->check(whole_range(1, 1024))
      ->capture_default_str();
  cmd->add_option("--thumb-timeout", a->thumb_timeout,
                  "How long one image may take in a worker process: 30 (seconds), 30s, 2m "
                  "(processes; 0: no limit)")
      ->capture_default_str();
  cmd->add_flag("--keep-originals", a->keep_originals, "Keep the downloads in DIR/originals/");
  cmd->add_flag("-q,--quiet", a->quiet, "No progress and no summary line; failures only");
  cmd->add_flag("-v,--verbose", a->verbose, "One line per URL (URL: ok, or the failure)");
  cmd->add_flag("--wait", a->wait, "Wait for another run that holds the output folder");
  cmd->callback(
      [cmd, a, &context] { context.exit_code = run_pipeline(*cmd, *a, context.command_line); });
}

}  // namespace thumbfetch
