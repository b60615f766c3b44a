#pragma once
// A thumbnail run over files and folders into an output folder, in three steps that every
// caller (the CLI, bench, run, the Python module) goes through:
//   plan   preflight (inputs exist, the folder is ours: made, writable, locked), inputs
//          collected (our own thumbnails in the folder are never taken as inputs), a name per
//          input from the input alone (names.hpp), resume decided from DIR/thumbs.jsonl;
//   run    the chosen strategy on what is left to do, each settled item reported to the
//          observer and appended to the manifest at once; stoppable;
//   commit the manifest rewritten compacted.
// Throws SetupError from plan() only; per-item failures are results.

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "thumbfetch/job/folder.hpp"
#include "thumbfetch/job/observer.hpp"
#include "thumbfetch/job/out_of_space.hpp"
#include "thumbfetch/job/stages.hpp"
#include "thumbfetch/job/thumbs_manifest.hpp"
#include "thumbfetch/report/tally.hpp"
#include "thumbfetch/thumbnail/strategy.hpp"
#include "thumbfetch/util/jsonl_file.hpp"

namespace thumbfetch {

struct ThumbsConfig {
  std::vector<std::filesystem::path> inputs;  // files and folders
  Recursive recursive = Recursive::no;
  std::filesystem::path out_dir;
  ThumbOptions options;
  ThumbStrategyKind strategy = ThumbStrategyKind::threads;
  int workers = 1;
  double timeout_seconds = 120;      // processes only; 0: none
  std::filesystem::path worker_exe;  // processes; default: this executable
  bool skip_existing = false;        // resume: skip inputs already done with these options
  // With -r: IN/a/b/c.jpg -> OUT/a/b/c.jpg (OUT/IN's name/a/b/c.jpg when several inputs are
  // given) instead of all in OUT; without -r a SetupError.
  bool mirror_tree = false;
  WaitForLock wait = WaitForLock::no;
  std::string command = "thumbfetch thumbs";  // shown to a second run by the folder lock
};

struct ThumbsItem {
  std::string key;               // absolute, normalised input path
  ThumbJob job;                  // input and output stem
  InputStamp stamp;              // of the input when planned
  bool skip = false;             // already done (resume)
  std::string rel_dir;           // --mirror-tree: its folder under the output ("a/b")
  std::string rel_stem;          // its name relative to the output folder ("a/b/c")
  std::optional<Error> refused;  // a folder path that cannot be mirrored: failed, not run
  long previous = -1;            // index of its row in the previous manifest, -1 when none
};

class ThumbsJob {
 public:
  static ThumbsJob plan(ThumbsConfig config, std::stop_token stop = {});

  // Runs what is left to do. Call once.
  void run(const JobObserver& observer, std::stop_token stop);
  // Rewrites the manifest compacted; a failure is returned, the run's files stay.
  Status commit();

  const ThumbsConfig& config() const { return config_; }
  const std::vector<ThumbsItem>& items() const { return items_; }
  // results()[i] belongs to items()[i]; skipped items come back as State::skipped.
  const std::vector<ThumbResult>& results() const { return results_; }
  const Tally& tally() const { return tally_; }
  const std::vector<StageTime>& stages() const { return stages_; }
  TimeSpent run_time() const;  // the "run" stage
  std::string_view strategy_name() const { return to_string(config_.strategy); }
  int workers() const;
  bool interrupted() const { return interrupted_; }
  // Set when the disk filled up: the first "no space left on device", the run stopped there.
  const std::optional<Error>& out_of_space() const { return out_of_space_; }
  const std::filesystem::path& out_dir() const { return folder_.path(); }

 private:
  ThumbsJob(ThumbsConfig config, OutputFolder folder)
      : config_(std::move(config)), folder_(std::move(folder)) {}
  struct Found {
    std::filesystem::path path;
    std::string rel_dir;
  };
  void plan_items(const std::vector<Found>& inputs);
  std::optional<Error> prepare(size_t i) const;
  ThumbsRow row_for(size_t i) const;
  ThumbsRow pending_row(size_t i) const;
  void settle(size_t i, ThumbResult r, JsonlFile& manifest, const JobObserver& observer,
              OutOfSpace& space);
  void remove_old_output(size_t i) const;

  ThumbsConfig config_;
  OutputFolder folder_;
  std::vector<ThumbsRow> previous_;
  std::vector<ThumbsItem> items_;
  std::vector<ThumbResult> results_;
  Tally tally_;
  std::vector<StageTime> stages_;
  bool interrupted_ = false;
  std::optional<Error> out_of_space_;
  // results_ and tally_: the pool reports from its threads (a pointer keeps the job movable).
  std::unique_ptr<std::mutex> mutex_ = std::make_unique<std::mutex>();
};

// The per-image results as JSON (command, strategy, workers, counts, stage times, items with
// status ok|failed|skipped), for --json.
std::string thumbs_json_report(const ThumbsJob& job);

}  // namespace thumbfetch
