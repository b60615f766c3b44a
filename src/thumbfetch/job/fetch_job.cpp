#include "thumbfetch/job/fetch_job.hpp"

#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "thumbfetch/fetch/naming.hpp"
#include "thumbfetch/job/names.hpp"
#include "thumbfetch/job/out_of_space.hpp"
#include "thumbfetch/job/setup_error.hpp"

namespace thumbfetch {

namespace fs = std::filesystem;

FetchJob FetchJob::plan(FetchConfig config, const JobObserver& observer, std::stop_token stop) {
  std::vector<StageTime> stages;
  StageTimer timer(stages, "plan");
  LinksInFolder got = collect_links_into(config.source, config.policy, config.out_dir,
                                         config.command, config.wait, observer, stop);
  FetchJob job(std::move(config), std::move(got.folder));
  job.links_ = std::move(got.links);
  job.plan_items();
  timer.stop();
  job.stages_ = std::move(stages);
  return job;
}

void FetchJob::plan_items() {
  const fs::path& dir = folder_.path();
  previous_ = load_manifest(dir);
  NameBook names(dir);
  std::unordered_map<std::string_view, long> by_url;
  std::vector<RowFile> state(previous_.size(), RowFile::foreign);
  for (size_t r = 0; r < previous_.size(); ++r) {
    const ManifestRow& row = previous_[r];
    by_url[row.url] = static_cast<long>(r);
    if (row.status != "ok") continue;
    state[r] = row_file_state(dir, row.file, row.bytes);
    if (state[r] != RowFile::foreign) names.own(row.url, row.file);
  }
  const size_t n = links_.urls.size();
  previous_of_.assign(n, -1);
  skip_.assign(n, false);
  stems_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string& url = links_.urls[i];
    // A file of ours that is gone is fetched again under its name; one that is no longer ours
    // (another size: someone replaced it) is left alone and the URL takes another name.
    stems_.push_back(names.claim(url, safe_stem_from_url(url)));
    if (auto it = by_url.find(url); it != by_url.end()) {
      previous_of_[i] = it->second;
      skip_[i] = state[it->second] == RowFile::intact;
    }
  }
}

int FetchJob::concurrency() const {
  return config_.strategy == FetchStrategyKind::serial ? 1 : config_.concurrency;
}

TimeSpent FetchJob::run_time() const {
  return stage_time(stages_, "run");
}

void FetchJob::run(const JobObserver& observer, std::stop_token stop, const Landed& landed) {
  StageTimer timer(stages_, "run");
  const size_t n = links_.urls.size();
  results_.assign(n, FetchResult{});
  std::vector<FetchItem> todo;
  std::vector<size_t> todo_index;
  for (size_t i = 0; i < n; ++i) {
    if (skip_[i]) {
      results_[i] = skipped_result(previous_[previous_of_[i]], folder_.path());
      tally_.add_skipped();
      if (landed) landed(i, results_[i]);  // its file is there: the pipeline still needs it
      continue;
    }
    todo.push_back({links_.urls[i], stems_[i]});
    todo_index.push_back(i);
  }
  observer.start("download", n + links_.invalid.size(), n - todo.size());
  for (const InvalidUrlLine& bad : links_.invalid) {
    const Error e =
        make_error(ErrorKind::refused, fmt::format("{} (line {})", bad.reason, bad.line));
    observer.settle("download", bad.text, &e);
    tally_.add_failure(ErrorKind::refused);
  }

  OutOfSpace space(stop);
  CancelFlag cancel(space.token());
  FetchRunConfig run;
  run.out_dir = folder_.path();
  run.policy = config_.policy;
  run.concurrency = concurrency();
  run.cancel = cancel.get();
  auto strategy = make_fetch_strategy(config_.strategy, run);
  ManifestWriter manifest(folder_.path());
  auto on_settled = [&](size_t k, const FetchResult& r) {
    const bool failed = r.state == FetchResult::State::failed;
    if (failed && (r.error.kind == ErrorKind::cancelled || space.absorb(r.error))) return;
    manifest.append(row_of(todo_index[k], r));
    const Error line = after_attempts(r.error, r.attempts);
    observer.settle("download", todo[k].url, failed ? &line : nullptr);
    if (landed) landed(todo_index[k], r);
  };
  std::vector<FetchResult> done = strategy->run(todo, on_settled);
  for (size_t k = 0; k < done.size(); ++k) {
    FetchResult& r = done[k];
    // Stopped by a full disk: as if never started (its temp file is gone, the next run does it).
    if (!r.ok() && r.error.kind == ErrorKind::no_space) r = FetchResult{};
    if (r.not_started()) {
      tally_.add_failure(ErrorKind::cancelled);
    } else if (r.ok()) {
      tally_.add_ok();
      bytes_fetched_ += r.bytes;
    } else {
      tally_.add_failure(r.error.kind);
    }
    results_[todo_index[k]] = std::move(r);
  }
  out_of_space_ = space.first();
  interrupted_ = stop.stop_requested();
}

ManifestRow FetchJob::row_of(size_t i, const FetchResult& r) const {
  ManifestRow row = manifest_row(links_.urls[i], r);
  if (i < links_.meta.size()) row.source = links_.meta[i];
  return row;
}

Status FetchJob::commit() {
  StageTimer timer(stages_, "commit");
  const std::unordered_set<std::string_view> wanted(links_.urls.begin(), links_.urls.end());
  ManifestWriter manifest(folder_.path());
  // Rows for URLs outside this run first, then this run's in list order.
  return manifest.rewrite([&](const ManifestWriter::RowSink& sink) {
    for (const ManifestRow& row : previous_) {
      if (!wanted.contains(row.url)) sink(row);
    }
    for (size_t i = 0; i < links_.urls.size(); ++i) {
      if (results_[i].not_started()) {
        // Interrupted before its turn: keep what an earlier run knew, else nothing.
        if (previous_of_[i] >= 0) sink(previous_[previous_of_[i]]);
        continue;
      }
      sink(row_of(i, results_[i]));
    }
  });
}

}  // namespace thumbfetch
