#include "thumbfetch/job/shard.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <sstream>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "thumbfetch/job/setup_error.hpp"
#include "thumbfetch/util/atomic_file.hpp"
#include "thumbfetch/util/fd.hpp"
#include "thumbfetch/util/flat_hash.hpp"
#include "thumbfetch/util/json_field.hpp"
#include "thumbfetch/util/jsonl_file.hpp"
#include "thumbfetch/util/sha256.hpp"

namespace thumbfetch {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

constexpr std::uint64_t kSample = 64 * 1024;
constexpr std::size_t kChunk = 64 * 1024;

std::optional<long> parse_number(std::string_view text) {
  long v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || p != end || text.empty()) return std::nullopt;
  return v;
}

// Reads up to `n` bytes at `offset`; short only at the end of the file.
Result<std::string> read_at(int fd, std::uint64_t offset, std::size_t n) {
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd, out.data() + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return make_error(ErrorKind::io, std::strerror(errno));
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  out.resize(got);
  return out;
}

// The first line start at or after `offset` (a cut point): 0 stays 0, else the byte after the
// first newline at offset-1 or later (so a cut just after a newline stays where it is).
Result<std::uint64_t> line_start_at(int fd, std::uint64_t size, std::uint64_t offset) {
  if (offset == 0 || offset >= size) return std::min(offset, size);
  for (std::uint64_t at = offset - 1; at < size; at += kChunk) {
    auto chunk = read_at(fd, at, kChunk);
    if (!chunk) return chunk.error();
    if (const auto nl = chunk->find('\n'); nl != std::string::npos) return at + nl + 1;
    if (chunk->size() < kChunk) break;
  }
  return size;
}

void write_json(const fs::path& path, const Json& j, Overwrite overwrite) {
  const std::string text = j.dump(2) + "\n";
  auto st = write_file_atomically(
      path, {reinterpret_cast<const unsigned char*>(text.data()), text.size()}, overwrite);
  if (!st && overwrite == Overwrite::yes) {
    throw SetupError(fmt::format("cannot write {}: {}", path.string(), st.error().message));
  }
}

// Another N in the same folder: from DIR/shards.json, or from the parts/ folders when it is gone.
void refuse_other_count(const fs::path& root, ShardSpec spec) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root / "parts", ec)) {
    const auto other = parse_shard_name(e.path().filename().string());
    if (other && other->count != spec.count) {
      throw SetupError(fmt::format(
          "{} holds shards of another split ({}, N={}); this task is {} (N={}): resume with "
          "--shard K/{} or use another output folder",
          root.string(), e.path().filename().string(), other->count, shard_name(spec), spec.count,
          other->count));
    }
  }
}

void refuse_other_list(const fs::path& root, const fs::path& list, const ListFingerprint& fp,
                       ShardSpec spec) {
  const Json j = read_json_file(root / kShardsFile);
  if (!j.is_object()) return;
  const auto count = json_field<int>(j, "count", 0);
  if (count != spec.count) {
    throw SetupError(fmt::format(
        "{} was split into N={} shards; this task says N={} ({}): resume with --shard K/{}",
        root.string(), count, spec.count, shard_name(spec), count));
  }
  if (json_field<std::uint64_t>(j, "size", 0) != fp.size ||
      json_field<std::string>(j, "sample_sha256", "") != fp.sample_sha256) {
    throw SetupError(fmt::format(
        "{} holds shards of another URL list ({}, {} bytes); {} is not the same list ({} bytes): "
        "use another output folder",
        root.string(), json_field<std::string>(j, "list", "?"),
        json_field<std::uint64_t>(j, "size", 0), list.string(), fp.size));
  }
}

}  // namespace

Result<ShardSpec> parse_shard_spec(std::string_view text) {
  const auto slash = text.find('/');
  const auto k =
      slash == std::string_view::npos ? std::nullopt : parse_number(text.substr(0, slash));
  const auto n =
      slash == std::string_view::npos ? std::nullopt : parse_number(text.substr(slash + 1));
  if (!k || !n)
    return make_error(ErrorKind::refused, fmt::format("--shard {}: expected K/N, e.g. 3/64", text));
  if (*n < 1 || *n > 10'000'000 || *k < 0 || *k >= *n) {
    return make_error(ErrorKind::refused,
                      fmt::format("--shard {}: K must be in 0..N-1 and N at least 1", text));
  }
  return ShardSpec{static_cast<int>(*k), static_cast<int>(*n)};
}

Result<ShardSpec> shard_from_env(const EnvLookup& env, int count_hint) {
  auto get = [&](const char* name) -> std::optional<long> {
    const char* v = env(name);
    return v ? parse_number(v) : std::nullopt;
  };
  auto make = [&](std::optional<long> k, std::optional<long> n,
                  const char* from) -> Result<ShardSpec> {
    if (count_hint > 0) n = count_hint;
    if (!n) {
      return make_error(ErrorKind::refused,
                        fmt::format("--shard-from-env: {} is set but the number of tasks is not; "
                                    "give --shard-count N",
                                    from));
    }
    auto spec = parse_shard_spec(fmt::format("{}/{}", k.value_or(-1), *n));
    if (!spec)
      return make_error(ErrorKind::refused,
                        fmt::format("--shard-from-env ({}): {}", from, spec.error().message));
    return spec;
  };
  if (auto k = get("SLURM_ARRAY_TASK_ID"))
    return make(k, get("SLURM_ARRAY_TASK_COUNT"), "SLURM_ARRAY_TASK_ID");
  if (auto k = get("JOB_COMPLETION_INDEX")) return make(k, std::nullopt, "JOB_COMPLETION_INDEX");
  if (auto k = get("SGE_TASK_ID")) return make(*k - 1, get("SGE_TASK_LAST"), "SGE_TASK_ID");
  return make_error(ErrorKind::refused,
                    "--shard-from-env: none of SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, "
                    "SGE_TASK_ID is set (is this an array job?)");
}

std::string shard_name(ShardSpec spec) {
  return fmt::format("{}-of-{}", spec.index, spec.count);
}

std::optional<ShardSpec> parse_shard_name(std::string_view name) {
  const auto of = name.find("-of-");
  if (of == std::string_view::npos) return std::nullopt;
  const auto k = parse_number(name.substr(0, of));
  const auto n = parse_number(name.substr(of + 4));
  if (!k || !n || *n < 1 || *k < 0 || *k >= *n) return std::nullopt;
  return ShardSpec{static_cast<int>(*k), static_cast<int>(*n)};
}

fs::path shard_dir(const fs::path& root, ShardSpec spec) {
  return root / "parts" / shard_name(spec);
}

Result<ByteRange> shard_byte_range(int fd, std::uint64_t size, ShardSpec spec) {
  // floor(size * k / N) without overflow: (size % N) * k stays below N^2 <= 10^14.
  const auto cut = [&](int k) {
    const auto n = static_cast<std::uint64_t>(spec.count), kk = static_cast<std::uint64_t>(k);
    return size / n * kk + size % n * kk / n;
  };
  auto begin = line_start_at(fd, size, cut(spec.index));
  if (!begin) return begin.error();
  auto end = line_start_at(fd, size, cut(spec.index + 1));
  if (!end) return end.error();
  return ByteRange{*begin, *end};
}

Result<ListFingerprint> list_fingerprint(int fd, std::uint64_t size) {
  Sha256 sha;
  auto head = read_at(fd, 0, static_cast<std::size_t>(std::min(size, kSample)));
  if (!head) return head.error();
  sha.update(*head);
  if (size > kSample) {
    const std::uint64_t tail_at = size - std::min(size - kSample, kSample);
    auto tail = read_at(fd, tail_at, static_cast<std::size_t>(size - tail_at));
    if (!tail) return tail.error();
    sha.update(*tail);
  }
  return ListFingerprint{size, sha.hex_digest()};
}

namespace {

// The shard's bytes of the list, with the list's fingerprint.
struct RangeRead {
  ListFingerprint fingerprint;
  ByteRange range;
  std::string sha256;  // of the range's bytes, read a chunk at a time (never held whole)
};

Result<std::string> range_sha256(int fd, ByteRange range) {
  Sha256 sha;
  for (std::uint64_t at = range.begin; at < range.end; at += kChunk) {
    auto chunk = read_at(fd, at, static_cast<std::size_t>(std::min(kChunk, range.end - at)));
    if (!chunk) return chunk.error();
    if (chunk->empty()) break;
    sha.update(*chunk);
  }
  return sha.hex_digest();
}
RangeRead read_shard_range(const fs::path& list, ShardSpec spec) {
  if (list.empty() || list == "-") {
    throw SetupError("--shard needs --urls FILE: every task reads its own part of the same file");
  }
  UniqueFd fd(::open(list.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0) {
    throw SetupError(fmt::format("--urls {}: {}", list.string(), std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    throw SetupError(fmt::format("--urls {}: --shard needs a regular file", list.string()));
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  auto fp = list_fingerprint(fd.get(), size);
  auto range = fp ? shard_byte_range(fd.get(), size, spec) : Result<ByteRange>(fp.error());
  if (!range) throw SetupError(fmt::format("--urls {}: {}", list.string(), range.error().message));
  auto sha = range_sha256(fd.get(), *range);
  if (!sha) throw SetupError(fmt::format("--urls {}: {}", list.string(), sha.error().message));
  return {*fp, *range, std::move(*sha)};
}

// A resumed shard must see the bytes it started with.
void refuse_changed_range(const fs::path& dir, const fs::path& list, ShardSpec spec,
                          const ByteRange& range, const std::string& sha256) {
  const Json mine = read_json_file(dir / kShardFile);
  if (!mine.is_object()) return;
  if (json_field<std::uint64_t>(mine, "begin", 0) != range.begin ||
      json_field<std::uint64_t>(mine, "end", 0) != range.end ||
      json_field<std::string>(mine, "range_sha256", "") != sha256) {
    throw SetupError(fmt::format(
        "{}: the lines of shard {} are not the ones it started with (bytes {}-{} of {}); the "
        "list changed: use another output folder",
        dir.string(), shard_name(spec), range.begin, range.end, list.string()));
  }
}

}  // namespace

ShardTask ShardTask::begin(const fs::path& list, const fs::path& root, ShardSpec spec) {
  RangeRead read = read_shard_range(list, spec);
  ShardTask task;
  task.spec_ = spec;
  task.list_ = list;
  task.root_ = root;
  task.dir_ = shard_dir(root, spec);
  task.range_ = read.range;
  task.fingerprint_ = read.fingerprint;
  task.range_sha256_ = std::move(read.sha256);
  refuse_other_count(root, spec);
  refuse_other_list(root, list, read.fingerprint, spec);
  refuse_changed_range(task.dir_, list, spec, read.range, task.range_sha256_);
  task.count_lines();
  return task;
}

// The range's URLs (duplicates once, told apart by 64-bit hashes: 16-32 bytes each, for this
// pass only) and refused lines are counted; the job reads them again as it goes.
void ShardTask::count_lines() {
  FileRangeStream in(list_.string(), range_.begin, range_.end);
  UrlListReader reader(in);
  FlatHashMap64 seen;
  try {
    while (std::optional<UrlListReader::Entry> e = reader.next()) {
      if (e->url.empty()) {
        ++refused_;
      } else if (const std::uint64_t key = key_of(e->url); !seen.contains(key)) {
        seen.put(key, 1);
        ++urls_;
      }
    }
  } catch (const std::system_error& e) {  // a read error is not the end of the range
    throw SetupError(e.what());
  }
}

LinkSource ShardTask::source() const {
  LinkSource s;
  s.urls_file = list_.string();
  s.range_begin = range_.begin;
  s.range_end = range_.end;
  s.refused_suffix = " in shard " + shard_name(spec_);
  return s;
}

bool ShardTask::done() const {
  std::error_code ec;
  return fs::exists(dir_ / kShardDone, ec);
}

void ShardTask::record() const {
  Json top{{"list", fs::absolute(list_).string()},
           {"size", fingerprint_.size},
           {"sample_sha256", fingerprint_.sample_sha256},
           {"count", spec_.count}};
  // The first task writes it; a task that loses the race checks what the winner wrote.
  write_json(root_ / kShardsFile, top, Overwrite::no);
  refuse_other_list(root_, list_, fingerprint_, spec_);
  Json mine{{"index", spec_.index},  {"count", spec_.count}, {"list", fs::absolute(list_).string()},
            {"begin", range_.begin}, {"end", range_.end},    {"range_sha256", range_sha256_},
            {"urls", urls_},         {"refused", refused_}};
  write_json(dir_ / kShardFile, mine, Overwrite::yes);
}

void ShardTask::finish(const Attempt& a) const {
  JsonlFile attempts(dir_ / kShardAttempts);
  const Json row{{"started", a.started}, {"finished", a.finished}, {"wall", a.finished - a.started},
                 {"ok", a.ok},           {"failed", a.failed},     {"all_settled", a.all_settled}};
  attempts.append(row.dump());
  if (!a.all_settled || done()) return;
  const Json done_row{{"shard", shard_name(spec_)},
                      {"ok", a.ok},
                      {"failed", a.failed},
                      {"refused", refused_},
                      {"finished", a.finished}};
  write_json(dir_ / kShardDone, done_row, Overwrite::yes);
}

double unix_seconds_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace thumbfetch
