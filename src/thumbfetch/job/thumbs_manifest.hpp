#pragma once
// DIR/thumbs.jsonl: what each thumbnail in an output folder was made from and how. One JSON
// object per input: input (its absolute path: the key), file (the thumbnail's name in DIR; with
// --mirror-tree its path relative to DIR, "a/b/c.jpg"), status (ok | failed), input_bytes,
// input_mtime_ns and input_sha256 (which version of the input it was made from), options (the
// fingerprint of every setting that changes the output bytes), width, height, bytes, decoder,
// seconds, error_kind, error. Resume skips an input only when its row is ok, its thumbnail is there
// with its size, the options are the same and the input is the same (size and mtime, or failing
// those its content hash). A "pending" row is appended as an input is handed to a worker, so a
// thumbnail written just before a kill -9 is known as ours.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "thumbfetch/thumbnail/options.hpp"

namespace thumbfetch {

inline constexpr const char* kThumbsManifestName = "thumbs.jsonl";

struct InputStamp {
  std::uint64_t bytes = 0;
  std::int64_t mtime_ns = 0;
  bool operator==(const InputStamp&) const = default;
};

struct ThumbsRow {
  std::string input;   // absolute, normalised path: the key
  std::string file;    // thumbnail name in the folder, "a/b/c.jpg" in a mirrored tree ("": none)
  std::string status;  // "ok", "failed", or "pending": handed to a worker, not settled yet
  std::string stem;    // pending: the name planned for it (a killed run may have written it)
  InputStamp stamp;
  std::string input_sha256;
  std::string options;  // options_fingerprint()
  int width = 0, height = 0;
  std::uint64_t bytes = 0;
  std::string decoder;
  double seconds = 0;
  std::string error_kind, error;
  int source_width = 0, source_height = 0;  // the input's upright size (ok rows)

  std::string to_json_line() const;
};

// Every setting that changes the output bytes, in words: "128x128 fit jpeg q85 #ffffff gap2 ...".
std::string options_fingerprint(const ThumbOptions& options);

// The latest row per input, in order of first appearance; torn or foreign lines are skipped.
std::vector<ThumbsRow> load_thumbs_manifest(const std::filesystem::path& dir);

// Size and modification time of a file (zeros when it cannot be read).
InputStamp stamp_of(const std::filesystem::path& path);

}  // namespace thumbfetch
