#pragma once
// A download run into an output folder, in the three steps every caller goes through:
//   plan   preflight (the source is usable, the folder is ours: made, writable, locked), the
//          links collected, a name per URL from the URL alone (names.hpp), resume decided from
//          DIR/manifest.jsonl (a URL whose file is there whole is skipped);
//   run    the chosen strategy, each settled item reported to the observer, appended to the
//          manifest and handed to `landed` (the streamed pipeline thumbnails it there); stoppable;
//   commit the manifest rewritten compacted.
// Throws SetupError from plan() only; per-item failures are results.

#include <algorithm>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "thumbfetch/fetch/manifest.hpp"
#include "thumbfetch/fetch/strategy.hpp"
#include "thumbfetch/job/folder.hpp"
#include "thumbfetch/job/links.hpp"
#include "thumbfetch/job/observer.hpp"
#include "thumbfetch/job/stages.hpp"
#include "thumbfetch/report/tally.hpp"

namespace thumbfetch {

struct FetchConfig {
  LinkSource source;
  std::filesystem::path out_dir;
  FetchPolicy policy;
  FetchStrategyKind strategy = FetchStrategyKind::async;
  int concurrency = 16;
  WaitForLock wait = WaitForLock::no;
  std::string command = "thumbfetch fetch";
};

// Called for each item with an outcome: a resumed one (State::skipped, its file already there)
// before the transfers start, then each fetched or failed one as it settles, one call at a
// time, from the strategy's thread. Never for an item the stop left unstarted or cancelled.
using Landed = std::function<void(size_t item, const FetchResult& result)>;

class FetchJob {
 public:
  static FetchJob plan(FetchConfig config, const JobObserver& observer, std::stop_token stop = {});

  void run(const JobObserver& observer, std::stop_token stop, const Landed& landed = {});
  Status commit();

  const FetchConfig& config() const { return config_; }
  const std::vector<std::string>& urls() const { return links_.urls; }
  // results()[i] belongs to urls()[i]; a resumed URL comes back as State::skipped.
  const std::vector<FetchResult>& results() const { return results_; }
  size_t to_fetch() const {
    return static_cast<size_t>(std::count(skip_.begin(), skip_.end(), false));
  }
  const Tally& tally() const { return tally_; }
  const std::vector<StageTime>& stages() const { return stages_; }
  TimeSpent run_time() const;
  std::uint64_t bytes_fetched() const { return bytes_fetched_; }
  int not_started() const { return tally_.not_started; }
  std::string_view strategy_name() const { return to_string(config_.strategy); }
  int concurrency() const;
  bool interrupted() const { return interrupted_; }
  // Set when the disk filled up: the first "no space left on device", the run stopped there.
  const std::optional<Error>& out_of_space() const { return out_of_space_; }
  const std::filesystem::path& out_dir() const { return folder_.path(); }

 private:
  // The manifest row of links_.urls[i], with what the source said of it.
  ManifestRow row_of(size_t i, const FetchResult& r) const;
  FetchJob(FetchConfig config, OutputFolder folder)
      : config_(std::move(config)), folder_(std::move(folder)) {}
  void plan_items();

  FetchConfig config_;
  OutputFolder folder_;
  Links links_;
  std::vector<ManifestRow> previous_;
  std::vector<long> previous_of_;  // per URL: its previous row, -1 when none
  std::vector<std::string> stems_;
  std::vector<bool> skip_;
  std::vector<FetchResult> results_;
  Tally tally_;
  std::vector<StageTime> stages_;
  std::uint64_t bytes_fetched_ = 0;
  bool interrupted_ = false;
  std::optional<Error> out_of_space_;
};

}  // namespace thumbfetch
