#pragma once
// What a sharded output folder holds (`thumbfetch status`) and its shards put together
// (`thumbfetch merge`). Both read only DIR/shards.json and each DIR/parts/K-of-N/ folder; manifest
// rows are read tolerantly (url, status, error_kind, http_code, bytes, thumb_bytes, file,
// original; unknown fields kept, missing ones taken as empty), so run.jsonl and manifest.jsonl
// shards both work. Memory: one shard's rows at a time, never the whole list's.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "thumbfetch/job/shard.hpp"

namespace thumbfetch {

enum class ShardState { done, running, failed, missing };
std::string_view to_string(ShardState state);

struct ShardStatus {
  ShardSpec spec;
  ShardState state = ShardState::missing;
  long ok = 0, failed = 0;  // items: from DONE, else counted in the shard's manifest
  int attempts = 0;
  double wall = 0;                          // seconds, summed over attempts
  double first_start = 0, last_finish = 0;  // Unix seconds (0: no attempt recorded)
};

struct ShardsOverview {
  std::filesystem::path root;
  int count = 0;
  std::vector<ShardStatus> shards;  // one per K, in order
  long ok = 0, failed = 0;
  std::map<ShardState, int> by_state;
  bool all_done() const {
    return by_state.count(ShardState::done) && by_state.at(ShardState::done) == count;
  }
  std::vector<int> in_state(ShardState state) const;
  std::vector<int> not_done() const;  // failed, missing and running, in order
};

// Throws SetupError when `root` holds no sharded run (no shards.json and no parts/K-of-N).
// A shard is running while another process holds its folder's lock (flock probe).
ShardsOverview shard_overview(const std::filesystem::path& root);

// "3,17,204-210": shard numbers (sorted, unique) as a Slurm --array spec; "" for none.
std::string array_spec(const std::vector<int>& indices);

// One row's rank for "one row per URL": ok (3) beats a permanent failure (2) beats a temporary
// one (1: network but for an untrusted certificate, timeout, HTTP 5xx/408/429, a full disk, a
// crashed worker); a pending or cancelled row (0) is no outcome. `error_kind` is parsed with
// error_kind_from_string; `error` (the row's message) tells a certificate failure apart.
int row_rank(const std::string& status, const std::string& error_kind, long http_code,
             const std::string& error = "");

struct MergeOptions {
  bool partial = false;  // merge what is there even when shards are not done
};

struct MergeResult {
  ShardsOverview overview;
  long urls = 0, ok = 0, failed_permanent = 0, failed_temporary = 0, unsettled = 0;
  std::map<std::string, long> by_error_kind;
  std::uint64_t bytes = 0, thumb_bytes = 0;
  double span_seconds = 0;  // first start to last finish over all shards
  std::filesystem::path manifest, summary;
};

inline constexpr const char* kMergedManifest = "merged.jsonl";
inline constexpr const char* kMergedSummary = "summary.json";

// Writes DIR/merged.jsonl (one row per URL, shards in order, each shard's rows in its manifest's
// order, file paths made relative to DIR) and DIR/summary.json, both renamed in when complete.
// Throws ShardsNotDone (naming them) when shards are not done and !partial; SetupError when the
// files cannot be written.
MergeResult merge_shards(const std::filesystem::path& root, const MergeOptions& options);

class ShardsNotDone : public std::runtime_error {
 public:
  ShardsNotDone(std::string message, ShardsOverview shards)
      : std::runtime_error(std::move(message)), overview(std::move(shards)) {}
  ShardsOverview overview;
};

}  // namespace thumbfetch
