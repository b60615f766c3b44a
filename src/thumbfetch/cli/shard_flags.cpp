#include "thumbfetch/cli/shard_flags.hpp"

#include <cstdlib>

#include <fmt/format.h>

#include "thumbfetch/cli/checks.hpp"

namespace thumbfetch {

void ShardFlags::add_to(CLI::App& command) {
  auto* k = command.add_option("--shard", shard,
                               "Do only part K of N of the --urls file (0-based), into "
                               "DIR/parts/K-of-N/");
  auto* env = command.add_flag("--shard-from-env", from_env,
                               "Take K (and N) from SLURM_ARRAY_TASK_ID/_COUNT, "
                               "JOB_COMPLETION_INDEX or SGE_TASK_ID/_LAST");
  k->excludes(env);
  command
      .add_option("--shard-count", count,
                  "N for --shard-from-env (needed for Kubernetes, and when resubmitting a few "
                  "Slurm tasks: their SLURM_ARRAY_TASK_COUNT is not N)")
      ->check(CLI::Range(1, 10'000'000))
      ->needs(env);
}

std::optional<ShardTask> ShardFlags::begin(const SourceFlags& source,
                                           const std::filesystem::path& out_dir) const {
  if (shard.empty() && !from_env) return std::nullopt;
  if (source.count > 0) {
    conflict(from_env ? "--shard-from-env -n" : "--shard -n",
             "-n/--count cannot cut a sharded list: give one of them");
  }
  auto spec = from_env ? shard_from_env([](const char* name) { return std::getenv(name); }, count)
                       : parse_shard_spec(shard);
  if (!spec)
    throw CLI::ValidationError(from_env ? "--shard-from-env" : "--shard", spec.error().message);
  return ShardTask::begin(source.urls_file, out_dir, *spec);
}

bool shard_needs_no_job(const ShardTask& task, const std::string& command, bool quiet) {
  if (task.done()) {
    if (!quiet)
      fmt::print("shard {} is done already ({})\n", shard_name(task.spec()), task.dir().string());
    return true;
  }
  if (!task.empty() || task.refused() > 0) return false;
  finish_empty_shard(task, command);
  if (!quiet) fmt::print("shard {} holds no line of the list: done\n", shard_name(task.spec()));
  return true;
}

}  // namespace thumbfetch
