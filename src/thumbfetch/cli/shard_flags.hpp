#pragma once
// --shard K/N, --shard-from-env and --shard-count on `run` and `fetch`: which part of the URL
// list this task does (job/shard.hpp), and the few lines a command runs around its job.

#include <CLI/CLI.hpp>

#include <filesystem>
#include <optional>
#include <string>

#include "thumbfetch/cli/fetch_flags.hpp"
#include "thumbfetch/job/shard.hpp"

namespace thumbfetch {

struct ShardFlags {
  std::string shard;
  bool from_env = false;
  int count = 0;

  void add_to(CLI::App& command);
  // The task, with its range read and checked; nullopt when the run is not sharded. Throws
  // CLI::ValidationError for a bad --shard or one given with -n (a shard is a part of the whole
  // list, which -n would cut differently in every task), SetupError for a refused resume.
  std::optional<ShardTask> begin(const SourceFlags& source,
                                 const std::filesystem::path& out_dir) const;
};

// True when the task has nothing to run: its shard is DONE already (a requeued task that had
// finished), or its range holds no line (marked done here). Says so on stdout unless `quiet`.
bool shard_needs_no_job(const ShardTask& task, const std::string& command, bool quiet);

}  // namespace thumbfetch
