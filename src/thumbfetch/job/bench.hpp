#pragma once
// `thumbfetch bench`: every approach on the same input, in turn, timed as a user would time it
// (the clock runs from plan to commit, so it stops when every item is written), with the CPU
// each spent (children included): downloads serial / threads / async, thumbnails serial /
// threads / processes, and the streamed pipeline. Fairness: outputs are cleared before each
// run, one warm-up run goes first, every approach runs `repeat` times (median, min, max), and
// every approach's files are compared with the serial run's (same names, same bytes); a
// difference or a failure shows in its row. The jobs are the same FetchJob, ThumbsJob and
// PipelineJob the commands run.

#include <filesystem>
#include <stop_token>
#include <string>
#include <vector>

#include "thumbfetch/job/links.hpp"
#include "thumbfetch/job/observer.hpp"
#include "thumbfetch/report/bench_table.hpp"
#include "thumbfetch/thumbnail/options.hpp"

namespace thumbfetch {

struct BenchConfig {
  LinkSource source;                 // --urls / --imgur / links in hand; unused with serve_images
  int serve_images = 0;              // > 0: start the built-in server with this many images
  int serve_latency_ms = 50;         //      and this latency before each response
  bool serve_via_imgur = false;      //      and collect the links through its Imgur look-alike
  std::filesystem::path corpus_dir;  //    generated images cached here ("" = in memory only)
  std::filesystem::path work_dir;    // every run's output folder goes under it
  int repeat = 3;
  int fetch_jobs = 64;    // transfers in flight (async) and threads (threads)
  int thumb_workers = 2;  // threads or processes
  ThumbOptions options;
  FetchPolicy policy;
  std::string command = "thumbfetch bench";
  // The thumbfetch executable the server and the worker processes are started from (default:
  // this executable; the Python module, whose process is python, gives the one it was built with).
  std::filesystem::path exe;
};

struct BenchOutcome {
  BenchReport report;
  std::filesystem::path thumbnails;  // the serial run's thumbnails (for the contact sheet)
};

// Throws SetupError (nothing to fetch, an unusable work folder); per-run failures are counted
// in their rows. Notes ("download async x64: run 2 of 3, 1.23 s") go to the observer.
BenchOutcome run_bench(const BenchConfig& config, const JobObserver& observer,
                       std::stop_token stop);

// "2 cores, AMD EPYC 7B13, Linux 6.1.0": for the report's header.
std::string describe_machine();

// What differs between two output folders' images (names and bytes; manifests, hidden files
// ignored): "" when identical, else e.g. "3 files differ, 1 missing, 2 extra".
std::string compare_outputs(const std::filesystem::path& reference,
                            const std::filesystem::path& other);

// The image files of an output folder, sorted by name.
std::vector<std::filesystem::path> output_images(const std::filesystem::path& dir);

}  // namespace thumbfetch
