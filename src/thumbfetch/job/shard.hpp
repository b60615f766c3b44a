#pragma once
// Static shards of one URL list, for job arrays (Slurm, Kubernetes indexed jobs, SGE): task K of
// N reads only its own newline-aligned byte range of the list (pread, never the whole file) and
// writes into DIR/parts/K-of-N/ with its own lock, manifest and files.
//   DIR/shards.json            the list's fingerprint and N, written by the first task; every
//                              later task (and status, merge) checks against it
//   DIR/parts/K-of-N/shard.json  the shard's byte range and the SHA-256 of its bytes
//   DIR/parts/K-of-N/attempts.jsonl  one row per attempt (start, end, wall, counts)
//   DIR/parts/K-of-N/DONE      renamed in once every item of the shard has settled
// A line belongs to the shard its first byte falls in, after the cut points K*size/N are moved
// forward to the next line start: every line is in exactly one shard, whatever N.
//
// Fingerprint: size + SHA-256 of the first and last 64 KiB of the list (what every task can read
// cheaply and identically), plus, per shard, the SHA-256 of its own range (read anyway). A full
// hash of a 10^9-line list (~100 GB) in every task would cost more than the task; mtime is left
// out so a copy of the same list to another file system (cp, rsync without -t) still resumes.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "thumbfetch/job/links.hpp"
#include "thumbfetch/util/error.hpp"

namespace thumbfetch {

struct ShardSpec {
  int index = 0;  // K, 0-based
  int count = 1;  // N
  bool operator==(const ShardSpec&) const = default;
};

// "K/N" with 0 <= K < N (ErrorKind::refused otherwise, with a message for the user).
Result<ShardSpec> parse_shard_spec(std::string_view text);

// The task's shard from a scheduler's environment: SLURM_ARRAY_TASK_ID with
// SLURM_ARRAY_TASK_COUNT, JOB_COMPLETION_INDEX with `count_hint` (Kubernetes does not export the
// completions), SGE_TASK_ID (1-based) with SGE_TASK_LAST. `count_hint` > 0 overrides the count.
using EnvLookup = std::function<const char*(const char*)>;
Result<ShardSpec> shard_from_env(const EnvLookup& env, int count_hint = 0);

// "K-of-N", the shard's folder name under DIR/parts/.
std::string shard_name(ShardSpec spec);
std::optional<ShardSpec> parse_shard_name(std::string_view name);
std::filesystem::path shard_dir(const std::filesystem::path& root, ShardSpec spec);

struct ByteRange {
  std::uint64_t begin = 0, end = 0;  // [begin, end)
  bool operator==(const ByteRange&) const = default;
};

// The byte range of shard `spec` in the open file `fd` of `size` bytes: the cut points moved to
// line starts by reading a little past each (pread). ErrorKind::io when the file cannot be read.
Result<ByteRange> shard_byte_range(int fd, std::uint64_t size, ShardSpec spec);

struct ListFingerprint {
  std::uint64_t size = 0;
  std::string sample_sha256;  // of the first and last 64 KiB
  bool operator==(const ListFingerprint&) const = default;
};
Result<ListFingerprint> list_fingerprint(int fd, std::uint64_t size);

// One task's share of the list, checked against what earlier tasks recorded.
class ShardTask {
 public:
  // Reads the shard's range of `list` and checks DIR/shards.json and the shard's shard.json:
  // another list, another N, or a shard range whose bytes changed is a SetupError (exit 2)
  // before any work. The list must be a file (not standard input).
  static ShardTask begin(const std::filesystem::path& list, const std::filesystem::path& root,
                         ShardSpec spec);

  ShardSpec spec() const { return spec_; }
  const std::filesystem::path& dir() const { return dir_; }
  const ByteRange& range() const { return range_; }
  // The links of the range, for the job: the list file and the range's bytes, read as the job
  // goes (a shard of ten million lines is never held).
  LinkSource source() const;
  bool empty() const { return urls_ == 0; }
  size_t refused() const { return refused_; }
  bool done() const;  // DONE is there already

  // Once the job holds the shard folder's lock: shard.json and DIR/shards.json written.
  void record() const;
  // The end of an attempt: a row in attempts.jsonl, and DONE renamed in when `all_settled`.
  struct Attempt {
    double started = 0, finished = 0;  // Unix seconds
    int ok = 0, failed = 0;            // this shard's items, skipped ones counted as ok
    bool all_settled = false;
  };
  void finish(const Attempt& attempt) const;

 private:
  ShardSpec spec_;
  std::filesystem::path list_, root_, dir_;
  ByteRange range_;
  ListFingerprint fingerprint_;
  std::string range_sha256_;
  void count_lines();
  size_t urls_ = 0, refused_ = 0;  // in the range, duplicates once
};

inline constexpr const char* kShardsFile = "shards.json";
inline constexpr const char* kShardFile = "shard.json";
inline constexpr const char* kShardDone = "DONE";
inline constexpr const char* kShardAttempts = "attempts.jsonl";

// Unix time now, in seconds, for attempts.
double unix_seconds_now();

}  // namespace thumbfetch

namespace thumbfetch {

class PipelineJob;
class FetchJob;

// Whether every item of a job settled (ok, skipped, or failed after trying; none cancelled or
// left unstarted by a stop): the condition for DONE.
bool all_settled(const PipelineJob& job);
bool all_settled(const FetchJob& job);

// A shard with no line at all: its folder made and locked, recorded and marked done at once.
void finish_empty_shard(const ShardTask& task, const std::string& command);

}  // namespace thumbfetch
