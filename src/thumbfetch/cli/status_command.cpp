// `thumbfetch status DIR`: flags -> shard_overview -> print. Shards done, running (their lock is
// held), failed (started, stopped without DONE) and missing, item counts, and the shards still to
// run as a Slurm --array spec. Exit 0 only when every shard is done.
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "thumbfetch/cli/cli.hpp"
#include "thumbfetch/job/shard_report.hpp"

namespace thumbfetch {

namespace {

int run_status(const std::filesystem::path& dir) {
  const ShardsOverview o = shard_overview(dir);
  auto n = [&](ShardState s) { return o.by_state.count(s) ? o.by_state.at(s) : 0; };
  fmt::print("{}: {} shards: {} done, {} running, {} failed, {} missing; items {} ok, {} failed\n",
             dir.string(), o.count, n(ShardState::done), n(ShardState::running),
             n(ShardState::failed), n(ShardState::missing), o.ok, o.failed);
  for (ShardState s : {ShardState::running, ShardState::failed, ShardState::missing}) {
    if (n(s) > 0) fmt::print("{}: {}\n", to_string(s), array_spec(o.in_state(s)));
  }
  if (o.all_done()) return kExitOk;
  // Running shards are left out: resubmitting them would only meet their lock.
  std::vector<int> again = o.in_state(ShardState::failed);
  const std::vector<int> missing = o.in_state(ShardState::missing);
  again.insert(again.end(), missing.begin(), missing.end());
  if (!again.empty()) fmt::print("resubmit: --array={}\n", array_spec(again));
  return kExitSomeFailed;
}

}  // namespace

void add_status_command(CLI::App& app, CliContext& context) {
  auto dir = std::make_shared<std::filesystem::path>();
  CLI::App* cmd = app.add_subcommand(
      "status", "Shards of a sharded run: done, running, failed, missing (exit 0: all done)");
  cmd->add_option("DIR", *dir, "The output folder the shards write into (-o of the tasks)")
      ->required();
  cmd->callback([dir, &context] { context.exit_code = run_status(*dir); });
}

}  // namespace thumbfetch
