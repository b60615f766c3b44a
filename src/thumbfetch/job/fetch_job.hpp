#pragma once
// A download run into an output folder, in the three steps every caller goes through:
//   plan   preflight (the source is usable, the folder is ours: made, writable, locked), the
//          links read one at a time, a name per URL from the URL alone (names.hpp), resume
//          decided from DIR/manifest.jsonl (a URL whose file is there whole is skipped), each
//          decision written to a plan file (plan_spool.hpp), not held;
//   run    the plan fed to the chosen strategy as it has room, each settled item reported to
//          the observer, appended to the manifest and handed to `landed` (the streamed
//          pipeline thumbnails it there), then dropped; stoppable;
//   commit the manifest rewritten compacted, its rows copied from where they were appended (left
//          as appended, with an error, when one cannot be read back).
// Memory is flat in the length of the list but for 8 bytes per URL (where its row is) and the
// names taken (16-32 bytes each, names.hpp): about 40 bytes per URL, 400 MB for ten million.
// Throws SetupError from plan() (StoppedBeforeWork when stopped while planning); run() throws
// only when its plan file cannot be read back; per-item failures are results.

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "thumbfetch/fetch/manifest.hpp"
#include "thumbfetch/fetch/strategy.hpp"
#include "thumbfetch/job/folder.hpp"
#include "thumbfetch/job/links.hpp"
#include "thumbfetch/job/names.hpp"
#include "thumbfetch/job/observer.hpp"
#include "thumbfetch/job/out_of_space.hpp"
#include "thumbfetch/job/plan_spool.hpp"
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
// or a fetched or failed one as it settles, one call at a time, from the strategy's thread.
// `item` is the URL's place among the run's URLs (the list's order). Never for an item the
// stop left unstarted or cancelled; always for a resumed one, even after a stop. What a caller
// keeps of the results is its own choice.
using Landed = std::function<void(size_t item, const FetchResult& result)>;

class FetchJob {
 public:
  static FetchJob plan(FetchConfig config, const JobObserver& observer, std::stop_token stop = {});

  void run(const JobObserver& observer, std::stop_token stop, const Landed& landed = {});
  Status commit();

  const FetchConfig& config() const { return config_; }
  // The run's URLs (duplicates counted once), and how many of them are fetched (not resumed).
  size_t url_count() const { return urls_; }
  size_t to_fetch() const { return urls_ - skipped_; }
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
  class Feed;
  FetchJob(FetchConfig config, OutputFolder folder, LinkStream links)
      : config_(std::move(config)), folder_(std::move(folder)), links_(std::move(links)) {}
  void plan_items(const std::stop_token& stop);
  void plan_item(LinkStream::Entry entry, ManifestIndex& previous, NameBook& names);
  ManifestRow row_of(const PlannedItem& item, const FetchResult& r) const;
  void record_row(ManifestWriter& manifest, OutOfSpace& space, const PlannedItem& item,
                  const FetchResult& r);
  void keep_held_rows();

  FetchConfig config_;
  OutputFolder folder_;
  LinkStream links_;  // read by plan(); then only its metadata
  PlanSpool spool_;
  // Per URL: the offset in the manifest of the row commit() writes for it (kNoRow: none): the
  // row this run appended, else the earlier run's; kHeldRow: in held_rows_.
  std::vector<std::uint64_t> rows_;
  static constexpr std::uint64_t kHeldRow = kNoRow - 1;
  // Rows whose append failed (a full disk stops the run at the first), by URL, for commit().
  std::map<size_t, std::string> held_rows_;
  std::vector<std::uint64_t> others_;            // earlier rows of URLs not in this run, by offset
  size_t urls_ = 0, skipped_ = 0, refused_ = 0;  // refused: lines of the list
  Tally tally_;
  std::vector<StageTime> stages_;
  std::uint64_t bytes_fetched_ = 0;
  bool interrupted_ = false;
  std::optional<Error> out_of_space_;
};

}  // namespace thumbfetch
