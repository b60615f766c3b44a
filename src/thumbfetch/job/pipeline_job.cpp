#include "thumbfetch/job/pipeline_job.hpp"

#include <cmath>
#include <fstream>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "thumbfetch/fetch/naming.hpp"
#include "thumbfetch/job/names.hpp"
#include "thumbfetch/job/setup_error.hpp"
#include "thumbfetch/job/thumbs_manifest.hpp"
#include "thumbfetch/thumbnail/pool.hpp"
#include "thumbfetch/util/atomic_file.hpp"
#include "thumbfetch/util/json_bytes.hpp"
#include "thumbfetch/util/json_field.hpp"

namespace thumbfetch {

namespace fs = std::filesystem;

namespace {

using Json = nlohmann::ordered_json;

// Landed images waiting for a thumbnail worker. Deep enough that a burst of downloads never
// stalls the transfer loop while workers are busy (the loop blocks only beyond it), small
// enough to bound the disk a slow thumbnail stage lets the staging folder hold.
constexpr std::size_t kPipelineQueue = 256;

double rounded(double seconds) {
  return std::round(seconds * 1000) / 1000;
}

const char* status_word(const PipelineResult& r) {
  if (r.state == PipelineResult::State::ok || r.state == PipelineResult::State::skipped)
    return "ok";
  return r.error.kind == ErrorKind::cancelled ? "cancelled" : "failed";
}

}  // namespace

PipelineJob PipelineJob::plan(PipelineConfig config, const JobObserver& observer,
                              std::stop_token stop) {
  std::vector<StageTime> stages;
  StageTimer timer(stages, "plan");
  if (config.worker_exe.empty()) config.worker_exe = fs::read_symlink("/proc/self/exe");
  LinksInFolder got = collect_links_into(config.source, config.policy, config.out_dir,
                                         config.command, config.wait, observer, stop);
  PipelineJob job(std::move(config), std::move(got.folder));
  job.links_ = std::move(got.links);
  job.plan_items();
  timer.stop();
  job.stages_ = std::move(stages);
  return job;
}

void PipelineJob::plan_items() {
  const fs::path& dir = folder_.path();
  std::ifstream in(dir / kRunManifestName);
  std::unordered_map<std::string, long> by_url;
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("url") || !j["url"].is_string()) continue;
    PreviousRow row;
    try {
      row = {get_bytes(j, "url"),
             j.value("status", ""),
             get_bytes(j, "file"),
             j.value("options", ""),
             get_bytes(j, "stem"),
             line,
             json_integer(j, "thumb_bytes", std::uint64_t{0})};
    } catch (const std::exception&) {  // nlohmann's type_error, or ForeignRow
      continue;                        // a field of the wrong type: not one of our rows
    }
    if (auto it = by_url.find(row.url); it != by_url.end()) {
      previous_[it->second] = std::move(row);
    } else {
      by_url.emplace(row.url, static_cast<long>(previous_.size()));
      previous_.push_back(std::move(row));
    }
  }
  NameBook names(dir);
  std::vector<RowFile> state(previous_.size(), RowFile::foreign);
  for (size_t r = 0; r < previous_.size(); ++r) {
    if (previous_[r].status == "pending" && !previous_[r].stem.empty()) {
      names.own(previous_[r].url, previous_[r].stem + ".pending");  // its stem stays its own
    }
    if (previous_[r].status != "ok") continue;
    state[r] = row_file_state(dir, previous_[r].file, previous_[r].thumb_bytes);
    if (state[r] != RowFile::foreign) names.own(previous_[r].url, previous_[r].file);
  }
  const size_t n = links_.urls.size();
  const std::string fingerprint = options_fingerprint(config_.options);
  previous_of_.assign(n, -1);
  skip_.assign(n, false);
  for (size_t i = 0; i < n; ++i) {
    const std::string& url = links_.urls[i];
    stems_.push_back(names.claim(url, safe_stem_from_url(url)));
    if (auto it = by_url.find(url); it != by_url.end()) {
      previous_of_[i] = it->second;
      // Done only with the same thumbnail options: another --size redoes it.
      skip_[i] =
          state[it->second] == RowFile::intact && previous_[it->second].options == fingerprint;
    }
  }
}

fs::path PipelineJob::originals_dir() const {
  return folder_ / (config_.keep_originals ? "originals" : ".thumbfetch-staging");
}

TimeSpent PipelineJob::run_time() const {
  return stage_time(stages_, "run");
}

std::string PipelineJob::row_for(size_t i) const {
  const PipelineResult& r = results_[i];
  if (r.state == PipelineResult::State::skipped) return previous_[previous_of_[i]].line;
  Json j;
  put_bytes(j, "url", links_.urls[i]);  // a URL that is not UTF-8 keeps its bytes for resume
  j["status"] = status_word(r);
  put_bytes(j, "file", r.state == PipelineResult::State::ok ? r.thumbnail.filename().string() : "");
  j["original"] = config_.keep_originals && r.download.ok()
                      ? ("originals/" + r.download.file.filename().string())
                      : "";
  j["stage"] = r.state == PipelineResult::State::failed ? r.stage : "";
  j["options"] = options_fingerprint(config_.options);
  j["http_code"] = r.download.http_code;
  j["bytes"] = r.download.bytes;
  j["content_type"] = r.download.content_type;
  j["sha256"] = r.download.sha256;
  if (r.state == PipelineResult::State::ok) {  // a failed row claims no thumbnail or size
    j["width"] = r.thumb.done.size.width;
    j["height"] = r.thumb.done.size.height;
    j["thumb_bytes"] = r.thumb.done.bytes;
    j["source_width"] = r.thumb.done.source.width;
    j["source_height"] = r.thumb.done.source.height;
  }
  j["attempts"] = r.download.attempts;
  j["seconds"] = rounded(r.download.seconds + r.thumb.seconds);
  j["error_kind"] =
      r.state == PipelineResult::State::failed ? std::string(to_string(r.error.kind)) : "";
  j["error"] = r.state == PipelineResult::State::failed ? r.error.message : "";
  if (i < links_.meta.size() && !links_.meta[i].empty()) {  // what the Imgur API said of it
    const ItemMeta& m = links_.meta[i];
    j["source"] = {{"id", m.id},     {"title", m.title}, {"album_id", m.album_id},
                   {"type", m.type}, {"width", m.width}, {"height", m.height}};
  }
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Just before a URL's thumbnail is redone (other options), its old one goes if still ours.
void PipelineJob::remove_old_thumbnail(size_t i) const {
  if (previous_of_[i] < 0) return;
  const PreviousRow& row = previous_[previous_of_[i]];
  if (row.status == "pending") return remove_pending_outputs(folder_.path(), row.stem);
  if (row.status == "ok" &&
      row_file_state(folder_.path(), row.file, row.thumb_bytes) == RowFile::intact) {
    std::error_code ec;
    fs::remove(folder_ / row.file, ec);
  }
}

// One URL settled (download failed, or thumbnail done or failed): counted, written, reported.
void PipelineJob::settle(size_t i, Shared& shared) {
  PipelineResult& r = results_[i];
  if (r.state == PipelineResult::State::failed && shared.space.absorb(r.error)) {
    r.error = make_error(ErrorKind::cancelled, "not done: no space left on device");
  }
  if (r.state == PipelineResult::State::ok) {
    tally_.add_ok();
  } else {
    tally_.add_failure(r.error.kind);
    if (r.error.kind == ErrorKind::cancelled) return;
  }
  shared.manifest.append(row_for(i));
  const Error line = r.stage == "download" ? after_attempts(r.error, r.download.attempts) : r.error;
  shared.observer.settle("run", links_.urls[i],
                         r.state == PipelineResult::State::failed ? &line : nullptr);
}

void PipelineJob::run(const JobObserver& observer, std::stop_token stop) {
  StageTimer timer(stages_, "run");
  const size_t n = links_.urls.size();
  results_.assign(n, PipelineResult{});
  std::vector<std::string> todo;
  std::vector<size_t> todo_index;
  for (size_t i = 0; i < n; ++i) {
    if (skip_[i]) {
      results_[i].state = PipelineResult::State::skipped;
      results_[i].thumbnail = folder_ / previous_[previous_of_[i]].file;
      tally_.add_skipped();
    } else {
      todo.push_back(links_.urls[i]);
      todo_index.push_back(i);
    }
  }
  observer.start("run", n + links_.invalid.size(), n - todo.size());
  for (const InvalidUrlLine& bad : links_.invalid) {
    const Error e =
        make_error(ErrorKind::refused, fmt::format("{} (line {})", bad.reason, bad.line));
    observer.settle("run", bad.text, &e);
    tally_.add_failure(ErrorKind::refused);
  }
  if (todo.empty()) return;

  OutOfSpace space(stop);
  CancelFlag cancel(space.token());
  Shared shared{{}, JsonlFile(folder_ / kRunManifestName), observer, space};
  const ThumbRunConfig thumbs{config_.options, config_.workers, config_.timeout_seconds,
                              config_.worker_exe, cancel.get()};
  ThumbPool pool(
      config_.thumb_strategy, thumbs,
      [&](size_t i, const ThumbJob& job, ThumbResult t) {
        thumbnail_settled(shared, i, job, std::move(t));
      },
      kPipelineQueue);
  FetchConfig fetch;
  fetch.source.given = std::move(todo);
  fetch.out_dir = originals_dir();
  fetch.policy = config_.policy;
  fetch.strategy = config_.fetch_strategy;
  fetch.concurrency = config_.concurrency;
  fetch.command = config_.command;
  JobObserver notes_only;
  notes_only.note = observer.note;
  FetchJob downloads = FetchJob::plan(std::move(fetch), notes_only, space.token());
  downloads.run(notes_only, space.token(), [&](size_t k, const FetchResult& d) {
    download_landed(shared, pool, todo_index[k], d);
  });
  pool.wait();
  std::lock_guard lock(shared.mutex);
  for (size_t i : todo_index) {
    // Stopped before or while downloading: never reached the landed callback.
    const PipelineResult& r = results_[i];
    if (!r.started && r.stage.empty()) tally_.add_failure(ErrorKind::cancelled);
  }
  if (downloads.out_of_space()) space.absorb(*downloads.out_of_space());
  if (auto st = downloads.commit(); !st && !space.first())
    observer.say("cannot write the download manifest: " + st.error().message);
  out_of_space_ = space.first();
  interrupted_ = stop.stop_requested();
}

// A thumbnail settled in the pool (done, failed, or never started after a stop).
void PipelineJob::thumbnail_settled(Shared& shared, size_t i, const ThumbJob& job, ThumbResult t) {
  std::lock_guard lock(shared.mutex);
  PipelineResult& r = results_[i];
  r.started = t.error.kind != ErrorKind::cancelled;
  r.state = t.state == ThumbResult::State::done ? PipelineResult::State::ok
                                                : PipelineResult::State::failed;
  r.stage = "thumbnail";
  r.error = t.error;
  r.thumbnail = t.done.output;
  r.thumb = std::move(t);
  // A staged original has served its purpose once its thumbnail is settled; one whose turn never
  // came stays for the next run.
  std::error_code ec;
  if (!config_.keep_originals && r.started) fs::remove(job.input, ec);
  settle(i, shared);
}

// A download settled (from the fetch loop): to the thumbnail pool when its file is there, else
// settled as a download failure. Never throws into the fetch loop.
void PipelineJob::download_landed(Shared& shared, ThumbPool& pool, size_t i, const FetchResult& d) {
  if (d.state == FetchResult::State::failed) {
    std::lock_guard lock(shared.mutex);
    PipelineResult& r = results_[i];
    r.started = true;
    r.download = d;
    r.stage = "download";
    r.error = d.error;
    settle(i, shared);
    return;
  }
  // Resumed after the run was stopped (FetchJob reports those too): its thumbnail is the next
  // run's, and an older one stays until then.
  if (d.state == FetchResult::State::skipped && shared.space.token().stop_requested()) return;
  remove_old_thumbnail(i);
  {
    std::lock_guard lock(shared.mutex);
    results_[i].download = d;
    // Known as ours before a worker writes it: a kill -9 then leaves no stranger's file.
    Json pending;
    put_bytes(pending, "url", links_.urls[i]);
    pending["status"] = "pending";
    put_bytes(pending, "stem", stems_[i]);
    shared.manifest.append(pending.dump(-1, ' ', false, Json::error_handler_t::replace));
  }
  try {
    // Blocks while the thumbnail queue is full: back-pressure on the downloads.
    pool.submit(ThumbJob{d.file, folder_ / stems_[i]}, i);
  } catch (const std::exception& e) {
    // The pool has failed (no worker can start): its wait() rethrows that for the run.
    std::lock_guard lock(shared.mutex);
    results_[i].error = make_error(ErrorKind::internal, e.what());
    results_[i].stage = "thumbnail";
    results_[i].started = true;
    settle(i, shared);
  }
}

Status PipelineJob::commit() {
  StageTimer timer(stages_, "commit");
  remove_stale_temp_files(folder_.path());  // a killed run's workers' leftovers, now gone
  if (!config_.keep_originals && !interrupted_) {
    std::error_code ec;
    fs::remove_all(originals_dir(), ec);  // the staging folder, its lock and manifest
  }
  const std::unordered_set<std::string_view> wanted(links_.urls.begin(), links_.urls.end());
  JsonlFile manifest(folder_ / kRunManifestName);
  return manifest.rewrite([&](const JsonlFile::LineSink& sink) {
    for (const PreviousRow& row : previous_) {
      if (!wanted.contains(row.url)) sink(row.line);
    }
    for (size_t i = 0; i < links_.urls.size(); ++i) {
      const PipelineResult& r = results_[i];
      const bool never_started =
          r.state == PipelineResult::State::failed && r.error.kind == ErrorKind::cancelled;
      if (never_started || (!r.started && r.state == PipelineResult::State::failed)) {
        if (previous_of_[i] >= 0) sink(previous_[previous_of_[i]].line);
        continue;
      }
      sink(row_for(i));
    }
  });
}

}  // namespace thumbfetch
