#include "thumbfetch/job/fetch_job.hpp"

#include <mutex>
#include <unordered_map>

#include <fmt/format.h>

#include "thumbfetch/fetch/naming.hpp"
#include "thumbfetch/job/out_of_space.hpp"
#include "thumbfetch/job/setup_error.hpp"

namespace thumbfetch {

namespace fs = std::filesystem;

FetchJob FetchJob::plan(FetchConfig config, const JobObserver& observer, std::stop_token stop) {
  std::vector<StageTime> stages;
  StageTimer timer(stages, "plan");
  LinkStreamInFolder got = open_links_into(config.source, config.policy, config.out_dir,
                                           config.command, config.wait, observer, stop);
  FetchJob job(std::move(config), std::move(got.folder), std::move(got.links));
  job.plan_items();
  timer.stop();
  job.stages_ = std::move(stages);
  return job;
}

void FetchJob::plan_items() {
  const fs::path& dir = folder_.path();
  spool_ = PlanSpool(dir);
  ManifestIndex previous(dir);
  NameBook names(dir);
  previous.for_each([&](const ManifestRow& row, std::uint64_t) {
    if (row.status == "ok" && row_file_state(dir, row.file, row.bytes) != RowFile::foreign) {
      names.note_owner(row.url, row.file);
    }
  });
  while (std::optional<LinkStream::Entry> entry = links_.next()) {
    plan_item(std::move(*entry), previous, names);
  }
  others_ = previous.untaken();
  spool_.rewind();
}

void FetchJob::plan_item(LinkStream::Entry entry, ManifestIndex& previous, NameBook& names) {
  PlannedItem item;
  if (entry.url.empty()) {
    item.refused = true;
    item.invalid = std::move(entry.invalid);
    ++refused_;
    spool_.write(item);
    return;
  }
  // --count: at most that many URLs (the rest of a list is still read for its refused lines).
  const int count = config_.source.count;
  if (count > 0 && urls_ >= static_cast<size_t>(count)) return;
  const fs::path& dir = folder_.path();
  auto earlier = previous.take(entry.url);
  RowFile state = RowFile::foreign;
  std::string wanted;
  if (earlier && earlier->first.status == "ok") {
    // A file of ours that is gone is fetched again under its name; one that is no longer ours
    // (another size: someone replaced it) is left alone and the URL takes another name.
    state = row_file_state(dir, earlier->first.file, earlier->first.bytes);
    if (state != RowFile::foreign) wanted = fs::path(earlier->first.file).stem().string();
  }
  if (wanted.empty()) wanted = safe_stem_from_url(entry.url);
  NameBook::Claim claim = names.claim_once(entry.url, wanted);
  if (claim.again) return;  // listed twice: fetched once
  item.index = rows_.size();
  item.source_index = entry.source_index;
  item.previous = earlier ? earlier->second : kNoRow;
  item.skip = state == RowFile::intact;
  item.url = std::move(entry.url);
  item.stem = std::move(claim.stem);
  rows_.push_back(item.previous);
  ++urls_;
  if (item.skip) ++skipped_;
  spool_.write(item);
}

int FetchJob::concurrency() const {
  return config_.strategy == FetchStrategyKind::serial ? 1 : config_.concurrency;
}

TimeSpent FetchJob::run_time() const {
  return stage_time(stages_, "run");
}

namespace {

void report_refused(const JobObserver& observer, Tally& tally, const InvalidUrlLine& bad) {
  const Error e = make_error(ErrorKind::refused, fmt::format("{} (line {})", bad.reason, bad.line));
  observer.settle("download", bad.text, &e);
  tally.add_failure(ErrorKind::refused);
}

}  // namespace

// The plan handed to the strategy: refused lines are reported and resumed URLs settled as they
// come up, in list order; the rest are given out and remembered only until they settle.
class FetchJob::Feed final : public FetchFeed {
 public:
  Feed(FetchJob& job, const JobObserver& observer, const Landed& landed, std::mutex& mutex)
      : job_(job),
        observer_(observer),
        landed_(landed),
        mutex_(mutex),
        rows_(job.folder_ / kManifestName) {}

  std::optional<FetchItem> next() override {
    std::lock_guard lock(mutex_);
    while (std::optional<PlannedItem> item = job_.spool_.read()) {
      if (item->refused) {
        report_refused(observer_, job_.tally_, item->invalid);
      } else if (item->skip) {
        resume(*item);
      } else {
        FetchItem given{item->url, item->stem};
        taken_.emplace(taken_count_++, std::move(*item));
        return given;
      }
    }
    return std::nullopt;
  }

  // The items the plan fetches: what is left when the strategy starts, the time it asks.
  std::optional<size_t> size_hint() const override { return job_.to_fetch(); }

  // The planned item the strategy numbered `k`, forgotten. Under the mutex.
  PlannedItem settle(size_t k) { return std::move(taken_.extract(k).mapped()); }
  // Taken by the strategy but never settled (the run was stopped).
  size_t unsettled() const { return taken_.size(); }

 private:
  // Done by an earlier run: its file is there whole; the pipeline still needs it.
  void resume(const PlannedItem& item) {
    job_.tally_.add_skipped();
    if (!landed_) return;
    auto line = rows_.line(item.previous);
    std::optional<ManifestRow> row = line ? parse_manifest_row(*line) : std::nullopt;
    if (row) landed_(item.index, skipped_result(*row, job_.folder_.path()));
  }

  FetchJob& job_;
  const JobObserver& observer_;
  const Landed& landed_;
  std::mutex& mutex_;
  LinesAt rows_;
  std::unordered_map<size_t, PlannedItem> taken_;
  size_t taken_count_ = 0;
};

void FetchJob::run(const JobObserver& observer, std::stop_token stop, const Landed& landed) {
  StageTimer timer(stages_, "run");
  observer.start("download", urls_ + refused_, skipped_);

  OutOfSpace space(stop);
  CancelFlag cancel(space.token());
  FetchRunConfig run;
  run.out_dir = folder_.path();
  run.policy = config_.policy;
  run.concurrency = concurrency();
  run.cancel = cancel.get();
  auto strategy = make_fetch_strategy(config_.strategy, run);
  ManifestWriter manifest(folder_.path());
  std::mutex mutex;  // the feed and the settling: the tally, the manifest, the observer
  Feed feed(*this, observer, landed, mutex);
  auto on_settled = [&](size_t k, const FetchResult& r) {
    std::lock_guard lock(mutex);
    const PlannedItem item = feed.settle(k);
    const bool failed = r.state == FetchResult::State::failed;
    // Stopped, or by a full disk: as if never started (its temp file is gone, the next run
    // does it), and the manifest keeps what an earlier run knew.
    if (failed && (r.error.kind == ErrorKind::cancelled || space.absorb(r.error))) {
      tally_.add_failure(ErrorKind::cancelled);
      return;
    }
    if (r.ok()) {
      tally_.add_ok();
      bytes_fetched_ += r.bytes;
    } else {
      tally_.add_failure(r.error.kind);
    }
    if (const std::int64_t at = manifest.append(row_of(item, r)); at >= 0) rows_[item.index] = at;
    const Error line = after_attempts(r.error, r.attempts);
    observer.settle("download", item.url, failed ? &line : nullptr);
    if (landed) landed(item.index, r);
  };
  strategy->run(feed, on_settled);
  for (size_t k = 0; k < feed.unsettled(); ++k) tally_.add_failure(ErrorKind::cancelled);
  settle_rest(observer);
  out_of_space_ = space.first();
  interrupted_ = stop.stop_requested();
}

// After a stop: what the strategy never took is counted (refused lines still reported).
void FetchJob::settle_rest(const JobObserver& observer) {
  while (std::optional<PlannedItem> item = spool_.read()) {
    if (item->refused) {
      report_refused(observer, tally_, item->invalid);
    } else if (item->skip) {
      tally_.add_skipped();
    } else {
      tally_.add_failure(ErrorKind::cancelled);
    }
  }
}

ManifestRow FetchJob::row_of(const PlannedItem& item, const FetchResult& r) const {
  ManifestRow row = manifest_row(item.url, r);
  if (item.source_index < links_.meta().size()) row.source = links_.meta()[item.source_index];
  return row;
}

Status FetchJob::commit() {
  StageTimer timer(stages_, "commit");
  LinesAt rows(folder_ / kManifestName);  // the file as this run left it, before the rewrite
  ManifestWriter manifest(folder_.path());
  // Rows for URLs outside this run first, then this run's in list order (a URL this run did
  // not reach keeps what an earlier run knew, else it has no row).
  return manifest.rewrite_lines([&](const JsonlFile::LineSink& sink) {
    for (std::uint64_t at : others_) {
      if (auto line = rows.line(at)) sink(*line);
    }
    for (std::uint64_t at : rows_) {
      if (at == kNoRow) continue;
      if (auto line = rows.line(at)) sink(*line);
    }
  });
}

}  // namespace thumbfetch
