#include "thumbfetch/job/thumbs_job.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "thumbfetch/job/names.hpp"
#include "thumbfetch/job/pipeline_job.hpp"
#include "thumbfetch/job/setup_error.hpp"
#include "thumbfetch/thumbnail/pool.hpp"
#include "thumbfetch/util/atomic_file.hpp"
#include "thumbfetch/util/json_bytes.hpp"
#include "thumbfetch/util/jsonl_file.hpp"
#include "thumbfetch/util/sha256.hpp"
#include "thumbfetch/util/stopwatch.hpp"

namespace thumbfetch {

namespace fs = std::filesystem;

namespace {

// An input is its path (absolute, normalised; symlinks are not followed: two links to one file
// are two inputs, each with its own thumbnail, as a user who made them expects).
std::string input_key(const fs::path& p) {
  std::error_code ec;
  const fs::path abs = fs::absolute(p, ec);
  return (ec ? p : abs).lexically_normal().string();
}

// The file a path leads to, for "is this one of our own thumbnails?".
fs::path resolved(const fs::path& p) {
  std::error_code ec;
  fs::path r = fs::weakly_canonical(p, ec);
  return ec ? fs::absolute(p).lexically_normal() : r;
}

std::string wanted_stem(const fs::path& input) {
  std::string stem = input.stem().string();
  return stem.empty() || stem.front() == '.' ? "image" + stem : stem;
}

void check_inputs_exist(const std::vector<fs::path>& inputs) {
  if (inputs.empty()) throw SetupError("no input given");
  for (const fs::path& in : inputs) {
    std::error_code ec;
    if (!fs::exists(in, ec))
      throw SetupError(fmt::format("{}: no such file or folder", in.string()));
  }
}

// The row's thumbnail is whole, in the folder the item writes to (`rel_dir`).
bool output_intact(const ThumbsRow& row, const fs::path& dir, const std::string& rel_dir) {
  return row.status == "ok" && row_file_state(dir, row.file, row.bytes, rel_dir) == RowFile::intact;
}

// The folder an input found under `root` sits in, relative to it ("a/b"; "" at the top).
std::string rel_dir_under(const fs::path& root, const fs::path& input) {
  // The scan builds each path as root / ...: the prefix is the root as given.
  const std::string parent = input.parent_path().generic_string();
  const std::string top = root.generic_string();
  if (!parent.starts_with(top)) return {};
  std::string rel = parent.substr(top.size());
  while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
  return rel;
}

// A root's own name ("photos" for ./photos/ or /x/photos), for several mirrored roots.
std::string root_name(const fs::path& root) {
  std::error_code ec;
  fs::path abs = fs::absolute(root, ec).lexically_normal();
  if (!abs.has_filename()) abs = abs.parent_path();
  return abs.filename().string();
}

std::string joined(const std::string& a, const std::string& b) {
  return a.empty() ? b : b.empty() ? a : a + "/" + b;
}

// Resume: the row says this input, unchanged, was thumbnailed with these options, and the
// thumbnail is still there whole.
bool already_done(const ThumbsRow& row, const ThumbsItem& item, const std::string& fingerprint,
                  const fs::path& dir) {
  const fs::path& input = item.job.input;
  const InputStamp& stamp = item.stamp;
  if (row.options != fingerprint || !output_intact(row, dir, item.rel_dir)) return false;
  if (row.stamp == stamp) return true;
  // Touched or copied, perhaps not changed: the content decides.
  return !row.input_sha256.empty() && file_sha256(input) == row.input_sha256;
}

const char* status_word(ThumbResult::State s) {
  switch (s) {
    case ThumbResult::State::done:
      return "ok";
    case ThumbResult::State::skipped:
      return "skipped";
    case ThumbResult::State::failed:
      break;
  }
  return "failed";
}

}  // namespace

ThumbsJob ThumbsJob::plan(ThumbsConfig config, std::stop_token stop) {
  std::vector<StageTime> stages;
  StageTimer timer(stages, "plan");
  if (config.mirror_tree && config.recursive == Recursive::no) {
    // A tree is what -r reads; without it there is nothing to mirror, and a flat result the
    // user did not ask for is a surprise found only after the work.
    throw SetupError("--mirror-tree keeps the folder tree that -r reads: give -r as well");
  }
  check_inputs_exist(config.inputs);
  if (config.worker_exe.empty()) config.worker_exe = fs::read_symlink("/proc/self/exe");
  // Thumbnails are never inputs: a recursive scan skips any subfolder another thumbs or run
  // wrote into (`thumbs DIR -r -o DIR/thumbs`, then `-o DIR/small`), as well as this run's own.
  auto output_folder = [](const fs::path& dir) {
    std::error_code ec;
    return fs::exists(dir / kThumbsManifestName, ec) || fs::exists(dir / kRunManifestName, ec);
  };
  std::vector<Found> inputs;
  const bool several = config.inputs.size() > 1;
  for (const fs::path& root : config.inputs) {
    std::error_code ec;
    const bool tree = config.mirror_tree && fs::is_directory(root, ec);
    // Several roots: each under its own name, so two trees never mix.
    const std::string prefix = tree && several ? root_name(root) : "";
    for (fs::path& p : collect_inputs({root}, config.recursive, output_folder)) {
      std::string rel = tree ? joined(prefix, rel_dir_under(root, p)) : "";
      inputs.push_back({std::move(p), std::move(rel)});
    }
  }
  if (inputs.empty()) {
    throw NothingToDo(fmt::format("no image files in the inputs given{}",
                                  config.recursive == Recursive::yes
                                      ? ""
                                      : " (folders are read one level deep; -r for sub-folders)"));
  }
  OutputFolder folder = OutputFolder::open(config.out_dir, config.command, config.wait, stop);
  ThumbsJob job(std::move(config), std::move(folder));
  job.plan_items(inputs);
  timer.stop();
  job.stages_ = std::move(stages);
  return job;
}

void ThumbsJob::plan_items(const std::vector<Found>& inputs) {
  const fs::path& dir = folder_.path();
  previous_ = load_thumbs_manifest(dir);
  std::unordered_map<std::string, long> by_key;
  NameTree names(dir);
  std::set<fs::path> our_outputs;  // never taken as inputs
  for (size_t r = 0; r < previous_.size(); ++r) {
    by_key[previous_[r].input] = static_cast<long>(r);
    const ThumbsRow& row = previous_[r];
    // A thumbnail replaced by someone else (another size) is theirs now: not ours to own.
    // (Any folder of the tree: owning a name only keeps other items off it.)
    if (row.status == "ok" &&
        row_file_state(dir, row.file, row.bytes, folder_of(row.file)) != RowFile::foreign) {
      names.own(row.input, row.file);
      our_outputs.insert(resolved(dir / row.file));
    } else if (row.status == "pending" && !row.stem.empty()) {
      names.own(row.input, row.stem + ".pending");  // the stem it was writing under is its own
    }
  }
  for (const Found& found : inputs) {
    if (!found.rel_dir.empty() && plain_relative(found.rel_dir))
      names.reserve_folder(found.rel_dir);
  }
  const std::string fingerprint = options_fingerprint(config_.options);
  std::unordered_set<std::string> seen;
  for (const auto& [in, rel_dir] : inputs) {
    ThumbsItem item;
    item.key = input_key(in);
    // (resolved() is a readlink per path component: only asked when there is something to find)
    if (!seen.insert(item.key).second ||
        (!our_outputs.empty() && our_outputs.contains(resolved(in)))) {
      continue;
    }
    item.stamp = stamp_of(in);
    item.rel_dir = rel_dir;
    if (!rel_dir.empty() && !plain_relative(rel_dir)) {
      // A hidden folder (".cache"): its name is the kind the output folder keeps for its own.
      item.refused = make_error(ErrorKind::refused,
                                fmt::format("the folder {} is hidden (not mirrored)", rel_dir));
    } else {
      item.rel_stem = names.claim(item.key, rel_dir, wanted_stem(in));
    }
    item.job = {in, dir / item.rel_stem, HashInput::yes};
    if (auto it = by_key.find(item.key); it != by_key.end()) item.previous = it->second;
    if (item.previous >= 0) {
      const ThumbsRow& row = previous_[item.previous];
      item.skip = config_.skip_existing && already_done(row, item, fingerprint, dir);
    }
    items_.push_back(std::move(item));
  }
}

int ThumbsJob::workers() const {
  return config_.strategy == ThumbStrategyKind::serial ? 1 : config_.workers;
}

TimeSpent ThumbsJob::run_time() const {
  return stage_time(stages_, "run");
}

ThumbsRow ThumbsJob::pending_row(size_t i) const {
  ThumbsRow row;
  row.input = items_[i].key;
  row.status = "pending";
  row.stem = items_[i].rel_stem;
  row.stamp = items_[i].stamp;
  row.options = options_fingerprint(config_.options);
  return row;
}

ThumbsRow ThumbsJob::row_for(size_t i) const {
  const ThumbsItem& item = items_[i];
  const ThumbResult& r = results_[i];
  if (r.state == ThumbResult::State::skipped && item.previous >= 0) {
    ThumbsRow row = previous_[item.previous];
    row.stamp = item.stamp;  // the same content, perhaps a new mtime
    return row;
  }
  ThumbsRow row;
  row.input = item.key;
  row.stamp = item.stamp;
  // Hashed by the worker from the bytes it decoded ("" when it could not read the file, or
  // crashed first): the digest of exactly what was thumbnailed, and no second read.
  row.input_sha256 = r.input_sha256;
  row.options = options_fingerprint(config_.options);
  row.status = r.state == ThumbResult::State::done ? "ok" : "failed";
  row.seconds = r.seconds;
  if (r.state == ThumbResult::State::done) {
    row.file = item.rel_stem + r.done.output.extension().string();
    row.width = r.done.size.width;
    row.height = r.done.size.height;
    row.bytes = r.done.bytes;
    row.decoder = std::string(to_string(r.done.decoder));
    row.source_width = r.done.source.width;
    row.source_height = r.done.source.height;
  } else {
    row.error_kind = std::string(to_string(r.error.kind));
    row.error = r.error.message;
  }
  return row;
}

// One image settled in the pool (one call at a time): counted, written, reported.
void ThumbsJob::settle(size_t i, ThumbResult r, JsonlFile& manifest, const JobObserver& observer,
                       OutOfSpace& space) {
  std::lock_guard lock(*mutex_);
  if (r.state == ThumbResult::State::failed && space.absorb(r.error)) {
    r.error = make_error(ErrorKind::cancelled, "not done: no space left on device");
  }
  results_[i] = std::move(r);
  const ThumbResult& done = results_[i];
  if (done.state == ThumbResult::State::done) {
    tally_.add_ok();
  } else {
    tally_.add_failure(done.error.kind);
    if (done.error.kind == ErrorKind::cancelled) return;  // never started: no row, no line
  }
  manifest.append(row_for(i).to_json_line());
  observer.settle("thumbnails", items_[i].job.input.string(),
                  done.state == ThumbResult::State::failed ? &done.error : nullptr);
}

// Just before an input is redone, its old thumbnail goes, if it is still ours: a commit never
// replaces a file, and removing it here rather than at plan time keeps every thumbnail of an
// interrupted run that never reached its turn.
void ThumbsJob::remove_old_output(size_t i) const {
  if (items_[i].previous < 0) return;
  const ThumbsRow& row = previous_[items_[i].previous];
  // Only in the folder the item writes to now: never a file a row was edited to point at.
  const std::string& rel_dir = items_[i].rel_dir;
  if (row.status == "pending") return remove_pending_outputs(folder_.path(), row.stem, rel_dir);
  if (row.status == "ok" &&
      row_file_state(folder_.path(), row.file, row.bytes, rel_dir) == RowFile::intact) {
    std::error_code ec;
    fs::remove(folder_ / row.file, ec);
  }
}

// --mirror-tree: the item's folder, made now (mkdir, never through a symlink), or why not.
std::optional<Error> ThumbsJob::prepare(size_t i) const {
  if (items_[i].refused) return items_[i].refused;
  if (auto st = make_subfolders(folder_.path(), items_[i].rel_dir); !st) return st.error();
  return std::nullopt;
}

void ThumbsJob::run(const JobObserver& observer, std::stop_token stop) {
  StageTimer timer(stages_, "run");
  const size_t n = items_.size();
  results_.assign(n, ThumbResult{});
  const auto skipped =
      std::count_if(items_.begin(), items_.end(), [](const auto& it) { return it.skip; });
  observer.start("thumbnails", n, static_cast<std::uint64_t>(skipped));
  OutOfSpace space(stop);
  CancelFlag cancel(space.token());
  const ThumbRunConfig run{config_.options, config_.workers, config_.timeout_seconds,
                           config_.worker_exe, cancel.get()};
  JsonlFile manifest(folder_ / kThumbsManifestName);
  ThumbPool pool(config_.strategy, run, [&](size_t i, const ThumbJob&, ThumbResult r) {
    settle(i, std::move(r), manifest, observer, space);
  });
  for (size_t i = 0; i < n; ++i) {
    if (items_[i].skip) {
      std::lock_guard lock(*mutex_);
      results_[i].state = ThumbResult::State::skipped;
      results_[i].done.output = folder_ / previous_[items_[i].previous].file;
      tally_.add_skipped();
      continue;
    }
    if (!cancel.is_set()) {
      if (auto refused = prepare(i)) {
        ThumbResult failed;
        failed.error = std::move(*refused);
        settle(i, std::move(failed), manifest, observer, space);
        continue;
      }
      remove_old_output(i);
      std::lock_guard lock(*mutex_);
      manifest.append(pending_row(i).to_json_line());
    }
    pool.submit(items_[i].job, i);  // after a stop the pool settles it at once as not started
  }
  pool.wait();
  out_of_space_ = space.first();
  interrupted_ = stop.stop_requested();
}

Status ThumbsJob::commit() {
  StageTimer timer(stages_, "commit");
  // Temp files of a killed run's workers that were still dying when this run began.
  remove_stale_temp_files(folder_.path());
  std::set<std::string> subfolders;
  for (const ThumbsItem& item : items_) {
    if (!item.rel_dir.empty() && !item.refused) subfolders.insert(item.rel_dir);
  }
  for (const std::string& rel : subfolders) {
    // Only real folders: never one a symlink leads to.
    if (real_folder(folder_.path(), rel)) remove_stale_temp_files(folder_ / rel);
  }
  std::unordered_set<std::string_view> in_run;
  for (const ThumbsItem& item : items_) in_run.insert(item.key);
  JsonlFile manifest(folder_ / kThumbsManifestName);
  return manifest.rewrite([&](const JsonlFile::LineSink& sink) {
    for (const ThumbsRow& row : previous_) {
      if (!in_run.contains(row.input)) sink(row.to_json_line());
    }
    for (size_t i = 0; i < items_.size(); ++i) {
      if (results_[i].error.kind == ErrorKind::cancelled) {
        // Never started: what an earlier run knew stays.
        if (items_[i].previous >= 0) sink(previous_[items_[i].previous].to_json_line());
        continue;
      }
      sink(row_for(i).to_json_line());
    }
  });
}

std::string thumbs_json_report(const ThumbsJob& job) {
  nlohmann::ordered_json items = nlohmann::ordered_json::array();
  for (size_t i = 0; i < job.items().size(); ++i) {
    const ThumbResult& r = job.results()[i];
    if (r.error.kind == ErrorKind::cancelled) continue;
    nlohmann::ordered_json j;
    put_bytes(j, "input", job.items()[i].job.input.string());  // + input_hex when not UTF-8
    j["status"] = status_word(r.state);
    j["seconds"] = std::round(r.seconds * 1e4) / 1e4;
    if (r.state == ThumbResult::State::failed) {
      j["error_kind"] = std::string(to_string(r.error.kind));
      j["error"] = r.error.message;
    } else {
      put_bytes(j, "output", r.done.output.string());
    }
    if (r.state == ThumbResult::State::done) {
      j["width"] = r.done.size.width;
      j["height"] = r.done.size.height;
      j["bytes"] = r.done.bytes;
      j["decoder"] = std::string(to_string(r.done.decoder));
      j["source_width"] = r.done.source.width;
      j["source_height"] = r.done.source.height;
    }
    items.push_back(std::move(j));
  }
  nlohmann::ordered_json stages = nlohmann::ordered_json::object();
  for (const StageTime& s : job.stages()) {
    stages[s.name] = {{"wall_seconds", std::round(s.time.wall * 1e4) / 1e4},
                      {"cpu_seconds", std::round(s.time.cpu() * 1e4) / 1e4}};
  }
  const TimeSpent t = job.run_time();
  nlohmann::ordered_json report = {{"command", "thumbs"},
                                   {"strategy", job.strategy_name()},
                                   {"workers", job.workers()},
                                   {"ok", job.tally().ok},
                                   {"failed", job.tally().failed},
                                   {"skipped", job.tally().skipped},
                                   {"wall_seconds", std::round(t.wall * 1e4) / 1e4},
                                   {"user_seconds", std::round(t.user * 1e4) / 1e4},
                                   {"system_seconds", std::round(t.system * 1e4) / 1e4},
                                   {"peak_rss_bytes", peak_rss_bytes()},
                                   {"stages", stages},
                                   {"items", items}};
  return report.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace thumbfetch
