// `thumbfetch fetch (--urls FILE | --imgur) -o DIR`: flags -> FetchJob (plan, run, commit) ->
// print. Ctrl-C stops cleanly (exit 130) with the manifest written.
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "thumbfetch/cli/checks.hpp"
#include "thumbfetch/cli/cli.hpp"
#include "thumbfetch/cli/display.hpp"
#include "thumbfetch/cli/fetch_flags.hpp"
#include "thumbfetch/cli/out_of_space.hpp"
#include "thumbfetch/cli/shard_flags.hpp"
#include "thumbfetch/fetch/transfer.hpp"
#include "thumbfetch/job/fetch_job.hpp"
#include "thumbfetch/util/interrupt.hpp"

namespace thumbfetch {

namespace fs = std::filesystem;

namespace {

struct FetchArgs {
  SourceFlags source;
  TransferFlags transfer;
  ShardFlags shard;
  fs::path out_dir;
  bool quiet = false;
  bool verbose = false;
  bool wait = false;
};

FetchConfig config_from(const FetchArgs& a, const std::string& command) {
  FetchConfig c;
  c.source = a.source.to_source();
  c.out_dir = a.out_dir;
  c.policy = a.transfer.to_policy();
  c.strategy = a.transfer.to_strategy();
  c.concurrency = a.transfer.jobs;
  c.wait = a.wait ? WaitForLock::yes : WaitForLock::no;
  c.command = command;
  return c;
}

void print_summary(const FetchJob& job) {
  const TimeSpent time = job.run_time();
  const Tally& tally = job.tally();
  fmt::print("{} in {:.2f} s ({:.0f} images/s, {:.1f} MB/s, {} x{}, cpu {:.2f} s{})\n",
             tally.summary(), time.wall, time.wall > 0 ? tally.ok / time.wall : 0.0,
             time.wall > 0 ? job.bytes_fetched() / 1e6 / time.wall : 0.0, job.strategy_name(),
             job.concurrency(), time.cpu(), peak_rss_note(job.url_count()));
}

int run_fetch(const FetchArgs& a, const std::string& command) {
  if (a.quiet && a.verbose) conflict("-q -v", "give one of --quiet and --verbose");
  a.source.warn_ineffective();
  a.transfer.warn_ineffective();
  FetchConfig config = config_from(a, command);
  const std::optional<ShardTask> shard = a.shard.begin(a.source, a.out_dir);
  if (shard && shard_needs_no_job(*shard, command, a.quiet)) return kExitOk;
  if (shard) std::tie(config.source, config.out_dir) = std::pair(shard->source(), shard->dir());
  const double started = unix_seconds_now();
  CurlGlobal curl;  // before any thread starts
  InterruptGuard interrupt;
  SignalStopSource stop;
  Display display(a.quiet, a.verbose ? Display::Lines::every_item : Display::Lines::failures);
  FetchJob job = FetchJob::plan(std::move(config), display.observer(), stop.token());
  if (shard) shard->record();
  if (!a.quiet) {
    fmt::print("fetching {} of {} links into {} ({} x{}{})\n", job.to_fetch(), job.url_count(),
               job.out_dir().string(), job.strategy_name(), job.concurrency(),
               a.transfer.per_host > 0 ? fmt::format(", {} per host", a.transfer.per_host) : "");
    std::fflush(stdout);
  }
  job.run(display.observer(), stop.token());
  display.finish();
  const Status committed = job.commit();
  if (!committed && worth_reporting(committed.error(), job.out_of_space())) {
    fmt::print(stderr, "thumbfetch: cannot write the manifest: {}\n", committed.error().message);
  }
  const Tally& t = job.tally();
  if (shard) {  // no manifest, no record of the work: not DONE
    shard->finish({started, unix_seconds_now(), t.ok + t.skipped, t.failed,
                   all_settled(job) && committed.ok()});
  }
  if (!a.quiet) print_summary(job);  // -q: failure lines only, as in thumbs; the exit code says
  if (job.out_of_space()) {
    print_out_of_space(*job.out_of_space(), job.not_started());
    return kExitSomeFailed;
  }
  if (job.interrupted()) {
    fmt::print(stderr, "interrupted: {} links not started; manifest written to {}\n",
               job.not_started(), (job.out_dir() / kManifestName).string());
    return kExitInterrupted;
  }
  return job.tally().failed > 0 || !committed ? kExitSomeFailed : kExitOk;
}

}  // namespace

void add_fetch_command(CLI::App& app, CliContext& context) {
  auto a = std::make_shared<FetchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "fetch", "Download images from a URL list or the Imgur API (serial, threads or async)");
  a->source.add_to(*cmd);
  cmd->add_option("-o,--output", a->out_dir, "Output folder (created when missing)")->required();
  a->transfer.add_to(*cmd);
  a->shard.add_to(*cmd);
  cmd->add_flag("-q,--quiet", a->quiet, "No progress and no summary line; failures only");
  cmd->add_flag("-v,--verbose", a->verbose, "One line per URL (URL: ok, or the failure)");
  cmd->add_flag("--wait", a->wait, "Wait for another run that holds the output folder");
  cmd->callback([a, &context] { context.exit_code = run_fetch(*a, context.command_line); });
}

}  // namespace thumbfetch
