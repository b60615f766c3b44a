#include "thumbfetch/job/fetch_job.hpp"

#include <cerrno>
#include <cstring>
#include <exception>
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
  job.plan_items(stop);
  timer.stop();
  job.stages_ = std::move(stages);
  return job;
}

void FetchJob::plan_items(const std::stop_token& stop) {
  const fs::path& dir = folder_.path();
  spool_ = PlanSpool(dir);
  ManifestIndex previous(dir);
  NameBook names(dir);
  previous.for_each([&](const ManifestRow& row, std::uint64_t) {
    if (row.status == "ok" && row_file_state(dir, row.file, row.bytes) != RowFile::foreign) {
      names.note_owner(row.url, row.file);
    }
  });
  // A list of millions takes a while to plan: Ctrl-C answers within a few thousand lines.
  constexpr size_t kStopCheck = 4096;
  for (size_t n = 1; std::optional<LinkStream::Entry> entry = links_.next(); ++n) {
    if (n % kStopCheck == 0 && stop.stop_requested()) {
      throw StoppedBeforeWork(
          fmt::format("interrupted while planning the run into {}", dir.string()));
    }
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
    while (std::optional<PlannedItem> item = read()) {
      if (settled_as_reached(*item)) continue;
      FetchItem given{item->url, item->stem};
      taken_.emplace(taken_count_++, std::move(*item));
      return given;
    }
    return std::nullopt;
  }

  // After the strategy: what it never took (the run was stopped) is counted, refused lines and
  // resumed items reported as if reached (a resumed item's file is there whatever the stop).
  void settle_rest() {
    std::lock_guard lock(mutex_);
    for (size_t k = 0; k < taken_.size(); ++k) job_.tally_.add_failure(ErrorKind::cancelled);
    while (std::optional<PlannedItem> item = read()) {
      if (!settled_as_reached(*item)) job_.tally_.add_failure(ErrorKind::cancelled);
    }
  }

  // A refused line is reported and a resumed item settled when the feed reaches it (true); an
  // item to fetch is left to the caller (false).
  bool settled_as_reached(const PlannedItem& item) {
    if (item.refused) {
      report_refused(observer_, job_.tally_, item.invalid);
      return true;
    }
    if (item.skip) {
      resume(item);
      return true;
    }
    return false;
  }

  // A plan file that could not be read back ends the feed (the strategy may call from any of
  // its threads, so nothing is thrown there); run() rethrows it.
  std::exception_ptr error() const { return error_; }

  // The items the plan fetches: what is left when the strategy starts, the time it asks.
  std::optional<size_t> size_hint() const override { return job_.to_fetch(); }

  // The planned item the strategy numbered `k`, forgotten. Under the mutex.
  PlannedItem settle(size_t k) { return std::move(taken_.extract(k).mapped()); }

 private:
  std::optional<PlannedItem> read() {
    if (error_) return std::nullopt;
    try {
      return job_.spool_.read();
    } catch (const std::exception&) {
      error_ = std::current_exception();
      return std::nullopt;
    }
  }

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
  std::exception_ptr error_;
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
    record_row(manifest, space, item, r);
    const Error line = after_attempts(r.error, r.attempts);
    observer.settle("download", item.url, failed ? &line : nullptr);
    if (landed) landed(item.index, r);
  };
  strategy->run(feed, on_settled);
  feed.settle_rest();
  spool_ = PlanSpool();  // read to its end: its room on the disk is the commit's
  out_of_space_ = space.first();
  interrupted_ = stop.stop_requested();
  if (feed.error()) std::rethrow_exception(feed.error());
}

// The row of a settled item, appended; when the append fails it is held for commit() (which
// rewrites the manifest anyway), so the file it names stays ours, and a full disk stops the run
// as a download's would.
void FetchJob::record_row(ManifestWriter& manifest, OutOfSpace& space, const PlannedItem& item,
                          const FetchResult& r) {
  std::string line = row_of(item, r).to_json_line();
  if (const std::int64_t at = manifest.append_line(line); at >= 0) {
    rows_[item.index] = at;
    return;
  }
  rows_[item.index] = kHeldRow;
  held_rows_.emplace(item.index, std::move(line));
  const int err = manifest.append_errno();
  space.absorb(make_error(write_error_kind(err),
                          fmt::format("cannot append to {}: {}", (folder_ / kManifestName).string(),
                                      std::strerror(err))));
}

ManifestRow FetchJob::row_of(const PlannedItem& item, const FetchResult& r) const {
  ManifestRow row = manifest_row(item.url, r);
  if (item.source_index < links_.meta().size()) row.source = links_.meta()[item.source_index];
  return row;
}

Status FetchJob::commit() {
  StageTimer timer(stages_, "commit");
  const fs::path path = folder_ / kManifestName;
  LinesAt rows(path);  // the file as this run left it, before the rewrite
  ManifestWriter manifest(folder_.path());
  size_t expected = 0, copied = 0;
  auto copy = [&](const JsonlFile::LineSink& sink, std::uint64_t at) {
    ++expected;
    if (auto line = rows.line(at)) {
      sink(*line);
      ++copied;
    }
  };
  // Rows for URLs outside this run first, then this run's in list order (a URL this run did
  // not reach keeps what an earlier run knew, else it has no row). A row that cannot be read
  // back keeps the file as appended (valid rows that a resume reads) rather than lose it.
  Status written = manifest.rewrite_lines_checked([&](const JsonlFile::LineSink& sink) -> Status {
    for (std::uint64_t at : others_) copy(sink, at);
    for (size_t i = 0; i < rows_.size(); ++i) {
      if (rows_[i] == kHeldRow) {
        sink(held_rows_.at(i));
      } else if (rows_[i] != kNoRow) {
        copy(sink, rows_[i]);
      }
    }
    if (copied == expected) return Ok{};
    return make_error(ErrorKind::io,
                      fmt::format("{} of its {} rows could not be read back from {}; it is left "
                                  "as the run appended it",
                                  expected - copied, expected, path.string()));
  });
  if (!written) keep_held_rows();
  return written;
}

// The manifest was not rewritten: the rows that could not be appended during the run are
// appended now (there may be room again: the plan file is gone); a file whose row still cannot
// be written is removed, as the run owns it and a file with no row would be a stranger's to the
// next run.
void FetchJob::keep_held_rows() {
  ManifestWriter manifest(folder_.path());
  for (const auto& [index, line] : held_rows_) {
    if (manifest.append_line(line) >= 0) continue;
    const std::optional<ManifestRow> row = parse_manifest_row(line);
    if (row && row->status == "ok" && !row->file.empty()) {
      std::error_code ec;
      fs::remove(folder_ / row->file, ec);
    }
  }
  held_rows_.clear();
}

}  // namespace thumbfetch
