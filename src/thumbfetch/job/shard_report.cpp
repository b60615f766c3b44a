#include "thumbfetch/job/shard_report.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "thumbfetch/fetch/manifest.hpp"
#include "thumbfetch/job/folder.hpp"
#include "thumbfetch/job/pipeline_job.hpp"
#include "thumbfetch/job/setup_error.hpp"
#include "thumbfetch/util/atomic_file.hpp"
#include "thumbfetch/util/fd.hpp"
#include "thumbfetch/util/json_bytes.hpp"
#include "thumbfetch/util/json_field.hpp"
#include "thumbfetch/util/jsonl_file.hpp"
#include "thumbfetch/util/strings.hpp"

namespace thumbfetch {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

Json parse_line(const std::string& line) {
  return Json::parse(line, nullptr, /*allow_exceptions=*/false);
}

// The shard's manifest: the pipeline's run.jsonl, else the download manifest.
fs::path manifest_of(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir / kRunManifestName, ec)) return dir / kRunManifestName;
  return dir / kManifestName;
}

// Another process holds the shard folder's lock. A shared lock taken for an instant (a task
// starting in that instant is refused, and its scheduler's requeue starts it again).
bool lock_held(const fs::path& dir) {
  UniqueFd fd(::open((dir / kLockName).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return false;
  if (::flock(fd.get(), LOCK_SH | LOCK_NB) != 0) return errno == EWOULDBLOCK;
  ::flock(fd.get(), LOCK_UN);
  return false;
}

// A shard's rows, the best per URL (row_rank, the later on a tie), in first-seen order.
struct BestRow {
  Json row;
  int rank = 0;
};
std::vector<BestRow> best_rows(const fs::path& manifest) {
  std::vector<BestRow> rows;
  std::unordered_map<std::string, size_t> by_url;
  std::ifstream in(manifest);
  for (std::string line; std::getline(in, line);) {
    Json j = parse_line(line);
    if (!j.is_object()) continue;  // a torn last line
    const std::string url = get_bytes(j, "url");
    if (url.empty()) continue;
    const int rank = row_rank(
        json_field<std::string>(j, "status", ""), json_field<std::string>(j, "error_kind", ""),
        json_field<long>(j, "http_code", 0), json_field<std::string>(j, "error", ""));
    auto [it, fresh] = by_url.emplace(url, rows.size());
    if (fresh) {
      rows.push_back({std::move(j), rank});
    } else if (rank >= rows[it->second].rank) {
      rows[it->second] = {std::move(j), rank};
    }
  }
  return rows;
}

void add_attempts(ShardStatus& s, const fs::path& dir) {
  std::ifstream in(dir / kShardAttempts);
  for (std::string line; std::getline(in, line);) {
    const Json j = parse_line(line);
    if (!j.is_object()) continue;
    ++s.attempts;
    s.wall += json_field<double>(j, "wall", 0.0);
    const double started = json_field<double>(j, "started", 0.0);
    if (started > 0 && (s.first_start == 0 || started < s.first_start)) s.first_start = started;
    s.last_finish = std::max(s.last_finish, json_field<double>(j, "finished", 0.0));
  }
}

ShardStatus shard_status(const fs::path& root, ShardSpec spec) {
  ShardStatus s;
  s.spec = spec;
  const fs::path dir = shard_dir(root, spec);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return s;
  add_attempts(s, dir);
  const Json done = read_json_file(dir / kShardDone);
  if (done.is_object()) {
    s.state = ShardState::done;
    s.ok = json_field<long>(done, "ok", 0);
    s.failed = json_field<long>(done, "failed", 0);
    return s;
  }
  s.state = lock_held(dir) ? ShardState::running : ShardState::failed;
  for (const BestRow& r : best_rows(manifest_of(dir))) {
    if (r.rank == 3) ++s.ok;
    if (r.rank == 1 || r.rank == 2) ++s.failed;
  }
  return s;
}

int shard_count(const fs::path& root) {
  const Json j = read_json_file(root / kShardsFile);
  if (j.is_object() && json_field<int>(j, "count", 0) > 0) return json_field<int>(j, "count", 0);
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root / "parts", ec)) {
    if (auto spec = parse_shard_name(e.path().filename().string())) return spec->count;
  }
  throw SetupError(fmt::format(
      "{} holds no sharded run (no {} and no parts/K-of-N/): start one with --shard K/N",
      root.string(), kShardsFile));
}

// A failure another attempt may cure. A certificate the server shows is the same next time
// (transfer.cpp says "certificate not trusted" and does not retry it): permanent.
bool is_temporary(ErrorKind kind, long http_code, const std::string& error) {
  switch (kind) {
    case ErrorKind::network:
      return !error.starts_with("certificate not trusted");
    case ErrorKind::http_status:
      return http_code >= 500 || http_code == 429 || http_code == 408;
    case ErrorKind::timeout:
    case ErrorKind::no_space:
    case ErrorKind::worker_crashed:
    case ErrorKind::cancelled:
      return true;
    default:
      return false;
  }
}

// A row of shard `name` as the top of DIR sees it: its files' paths from DIR, and its shard.
Json relocated(Json row, const std::string& name) {
  for (const std::string key : {"file", "original"}) {
    const std::string bytes = get_bytes(row, key);  // the exact bytes: `_hex` when there
    if (bytes.empty()) continue;
    row.erase(key + "_hex");
    put_bytes(row, key, "parts/" + name + "/" + bytes);
  }
  row["shard"] = name;
  return row;
}

void count_row(MergeResult& m, const BestRow& r) {
  if (r.rank == 0) {
    ++m.unsettled;
    return;
  }
  ++m.urls;
  if (r.rank == 3) {
    ++m.ok;
    m.bytes += json_field<std::uint64_t>(r.row, "bytes", 0);
    m.thumb_bytes += json_field<std::uint64_t>(r.row, "thumb_bytes", 0);
    return;
  }
  ++(r.rank == 2 ? m.failed_permanent : m.failed_temporary);
  ++m.by_error_kind[json_field<std::string>(r.row, "error_kind", "unknown")];
}

Json summary_json(const MergeResult& m) {
  const ShardsOverview& o = m.overview;
  Json per_shard = Json::array();
  for (const ShardStatus& s : o.shards) {
    per_shard.push_back({{"shard", shard_name(s.spec)},
                         {"state", std::string(to_string(s.state))},
                         {"ok", s.ok},
                         {"failed", s.failed},
                         {"attempts", s.attempts},
                         {"wall_seconds", s.wall}});
  }
  Json kinds = Json::object();
  for (const auto& [kind, n] : m.by_error_kind) kinds[kind] = n;
  return Json{{"shards", o.count},
              {"shards_done", o.in_state(ShardState::done).size()},
              {"shards_not_done", array_spec(o.not_done())},
              {"urls", m.urls},
              {"ok", m.ok},
              {"failed_permanent", m.failed_permanent},
              {"failed_temporary", m.failed_temporary},
              {"unsettled", m.unsettled},
              {"failed_by_kind", kinds},
              {"bytes", m.bytes},
              {"thumb_bytes", m.thumb_bytes},
              {"span_seconds", m.span_seconds},
              {"images_per_second", m.span_seconds > 0 ? m.ok / m.span_seconds : 0.0},
              {"per_shard", per_shard}};
}

}  // namespace

std::string_view to_string(ShardState state) {
  switch (state) {
    case ShardState::done:
      return "done";
    case ShardState::running:
      return "running";
    case ShardState::failed:
      return "failed";
    case ShardState::missing:
      return "missing";
  }
  return "unknown";
}

std::vector<int> ShardsOverview::in_state(ShardState state) const {
  std::vector<int> out;
  for (const ShardStatus& s : shards) {
    if (s.state == state) out.push_back(s.spec.index);
  }
  return out;
}

std::vector<int> ShardsOverview::not_done() const {
  std::vector<int> out;
  for (const ShardStatus& s : shards) {
    if (s.state != ShardState::done) out.push_back(s.spec.index);
  }
  return out;
}

ShardsOverview shard_overview(const fs::path& root) {
  ShardsOverview o;
  o.root = root;
  o.count = shard_count(root);
  o.shards.reserve(static_cast<size_t>(o.count));
  for (int k = 0; k < o.count; ++k) {
    ShardStatus s = shard_status(root, {k, o.count});
    o.ok += s.ok;
    o.failed += s.failed;
    ++o.by_state[s.state];
    o.shards.push_back(s);
  }
  return o;
}

std::string array_spec(const std::vector<int>& indices) {
  std::vector<int> v = indices;
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  std::string out;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += j == i ? fmt::format("{}", v[i]) : fmt::format("{}-{}", v[i], v[j]);
    i = j + 1;
  }
  return out;
}

int row_rank(const std::string& status, const std::string& error_kind, long http_code,
             const std::string& error) {
  if (status == "ok" || status == "skipped") return 3;
  if (status != "failed") return 0;  // pending, cancelled
  const std::optional<ErrorKind> kind = error_kind_from_string(error_kind);
  if (!kind) return 2;  // a kind this build does not know: an outcome, not one to redo
  if (*kind == ErrorKind::cancelled) return 0;
  return is_temporary(*kind, http_code, error) ? 1 : 2;
}

MergeResult merge_shards(const fs::path& root, const MergeOptions& options) {
  MergeResult m;
  m.overview = shard_overview(root);
  const ShardsOverview& o = m.overview;
  if (!o.all_done() && !options.partial) {
    throw ShardsNotDone(
        fmt::format("{} of {} shards are not done ({}): finish them, or give --partial",
                    o.not_done().size(), o.count, array_spec(o.not_done())),
        o);
  }
  m.manifest = root / kMergedManifest;
  m.summary = root / kMergedSummary;
  double first = 0, last = 0;
  JsonlFile out(m.manifest);
  const Status st = out.rewrite([&](const JsonlFile::LineSink& sink) {
    for (const ShardStatus& s : o.shards) {
      if (s.state == ShardState::missing) continue;
      if (s.first_start > 0 && (first == 0 || s.first_start < first)) first = s.first_start;
      last = std::max(last, s.last_finish);
      const std::string name = shard_name(s.spec);
      for (const BestRow& r : best_rows(manifest_of(shard_dir(root, s.spec)))) {
        count_row(m, r);
        if (r.rank > 0)
          sink(relocated(r.row, name).dump(-1, ' ', false, Json::error_handler_t::replace));
      }
    }
  });
  if (!st)
    throw SetupError(fmt::format("cannot write {}: {}", m.manifest.string(), st.error().message));
  m.span_seconds = last > first ? last - first : 0;
  const std::string text = summary_json(m).dump(2) + "\n";
  if (auto w = write_file_atomically(
          m.summary, {reinterpret_cast<const unsigned char*>(text.data()), text.size()});
      !w) {
    throw SetupError(fmt::format("cannot write {}: {}", m.summary.string(), w.error().message));
  }
  return m;
}

}  // namespace thumbfetch
