#pragma once
// What `bench` and `demo` share: the flags of a benchmark run and how its results are shown
// (a table on stdout in the chosen form, the report folder).

#include <CLI/CLI.hpp>

#include <filesystem>
#include <string>

#include "thumbfetch/cli/fetch_flags.hpp"
#include "thumbfetch/cli/thumb_flags.hpp"
#include "thumbfetch/job/bench.hpp"

namespace thumbfetch {

struct BenchFlags {
  int repeat = 3;
  int fetch_jobs = 64;
  int workers = 2;
  std::string format = "text";
  std::filesystem::path report_dir;
  std::filesystem::path work_dir;
  bool quiet = false;
  TransferFlags transfer;
  ThumbFlags thumb;

  void add_to(CLI::App& command);
  // Fills the shared parts of `config`. Throws CLI::ValidationError / SetupError before any work.
  void apply(BenchConfig& config) const;
};

// Runs the benchmark, prints the table in `flags.format` on stdout and writes the report folder
// when one is asked for. Returns the exit status: 0, or 1 when some approach had failures or
// outputs that differ from the serial run's, 130 when interrupted.
int run_and_print_bench(BenchConfig config, const BenchFlags& flags);

}  // namespace thumbfetch
