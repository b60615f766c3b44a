#pragma once
// `run`: download and thumbnail as one streamed pipeline. Each image goes to the thumbnail pool
// as soon as it has landed (the pool's bounded queue pushes back on the downloads when the
// thumbnails fall behind), so the wall time approaches the slower stage, not the sum.
//   DIR/             the thumbnails, named from the URL (names.hpp), and DIR/run.jsonl: one row
//                    per URL (url, status, file, original, stage that failed, options, http_code,
//                    bytes, sha256, width, height, thumb_bytes, attempts, seconds, error_kind,
//                    error)
//   DIR/originals/   the downloads with --keep-originals (their own fetch manifest); without it
//                    they are staged in DIR/.thumbfetch-staging/ and each is removed once
//                    thumbnailed.
// Resume: a URL whose row is ok, made with the same options, and whose thumbnail is there is
// skipped; the rest are redone (a download already staged or kept is not fetched again).
// The same three steps as every job: plan (preflight, links, names, resume) → run → commit.

#include <filesystem>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "thumbfetch/job/fetch_job.hpp"
#include "thumbfetch/job/folder.hpp"
#include "thumbfetch/job/observer.hpp"
#include "thumbfetch/job/out_of_space.hpp"
#include "thumbfetch/job/stages.hpp"
#include "thumbfetch/report/tally.hpp"
#include "thumbfetch/thumbnail/pool.hpp"
#include "thumbfetch/thumbnail/strategy.hpp"
#include "thumbfetch/util/jsonl_file.hpp"

namespace thumbfetch {

inline constexpr const char* kRunManifestName = "run.jsonl";

struct PipelineConfig {
  LinkSource source;
  std::filesystem::path out_dir;
  FetchPolicy policy;
  FetchStrategyKind fetch_strategy = FetchStrategyKind::async;
  int concurrency = 16;
  ThumbOptions options;
  ThumbStrategyKind thumb_strategy = ThumbStrategyKind::threads;
  int workers = 1;
  double timeout_seconds = 120;
  std::filesystem::path worker_exe;  // default: this executable
  bool keep_originals = false;
  WaitForLock wait = WaitForLock::no;
  std::string command = "thumbfetch run";
};

// One URL's outcome in the pipeline.
struct PipelineResult {
  enum class State { ok, failed, skipped };
  State state = State::failed;
  std::string stage;  // "download" or "thumbnail": where it failed
  std::filesystem::path thumbnail;
  FetchResult download;
  ThumbResult thumb;
  Error error;           // failed only
  bool started = false;  // false: never started (the run was stopped)
};

class PipelineJob {
 public:
  static PipelineJob plan(PipelineConfig config, const JobObserver& observer,
                          std::stop_token stop = {});

  void run(const JobObserver& observer, std::stop_token stop);
  Status commit();

  const PipelineConfig& config() const { return config_; }
  const std::vector<std::string>& urls() const { return links_.urls; }
  const std::vector<PipelineResult>& results() const { return results_; }
  const Tally& tally() const { return tally_; }
  const std::vector<StageTime>& stages() const { return stages_; }
  TimeSpent run_time() const;
  bool interrupted() const { return interrupted_; }
  // Set when the disk filled up: the first "no space left on device", the run stopped there.
  const std::optional<Error>& out_of_space() const { return out_of_space_; }
  const std::filesystem::path& out_dir() const { return folder_.path(); }
  std::filesystem::path originals_dir() const;

 private:
  // A row of an earlier run's manifest: its line as written, and what resume needs of it.
  struct PreviousRow {
    std::string url, status, file, options, stem, line;
    std::uint64_t thumb_bytes = 0;
  };
  PipelineJob(PipelineConfig config, OutputFolder folder)
      : config_(std::move(config)), folder_(std::move(folder)) {}
  void plan_items();
  // What the fetch loop's and the pool's callbacks share while a run goes on.
  struct Shared {
    std::mutex mutex;  // results_, the tally, the manifest and the observer: one at a time
    JsonlFile manifest;
    const JobObserver& observer;
    OutOfSpace& space;  // a full disk stops downloads and thumbnails alike
  };
  void thumbnail_settled(Shared& shared, size_t i, const ThumbJob& job, ThumbResult t);
  void download_landed(Shared& shared, ThumbPool& pool, size_t i, const FetchResult& d);
  void settle(size_t i, Shared& shared);
  void remove_old_thumbnail(size_t i) const;
  std::string row_for(size_t i) const;

  PipelineConfig config_;
  OutputFolder folder_;
  Links links_;
  std::vector<std::string> stems_;
  std::vector<long> previous_of_;
  std::vector<bool> skip_;
  std::vector<PreviousRow> previous_;
  std::vector<PipelineResult> results_;
  Tally tally_;
  std::vector<StageTime> stages_;
  bool interrupted_ = false;
  std::optional<Error> out_of_space_;
};

}  // namespace thumbfetch
