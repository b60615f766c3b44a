#pragma once
// `--output-format tar`: a finished run's thumbnails packed as webdataset-style shards,
// DIR/00000.tar, DIR/00001.tar ... of `items_per_tar` samples each, in manifest (list) order.
// A sample is KEY.jpg (or .png, .webp: the thumbnail), KEY.json (url, size, sha256, width,
// height, content_type, http_code, thumb_bytes) and, with keep_originals, KEY.orig.EXT (the
// download). KEY is the thumbnail's stem with dots made underscores (webdataset splits a name at
// its first dot), with "_N" added when an earlier sample has that key already. Written through
// libarchive (pax restricted: plain ustar unless a name needs more), each tar to a temp file
// renamed in when complete. The loose thumbnails stay: they are the record a resumed run skips by.
// DIR/tars.json lists the tars written, each claimed there before it is renamed in; a NNNNN.tar
// that is not in it (someone else's) is never replaced, and ours past the new count (an earlier run
// packed more) are removed.

#include <cstddef>
#include <filesystem>

#include "thumbfetch/util/error.hpp"

namespace thumbfetch {

struct TarOptions {
  std::size_t items_per_tar = 1000;
  bool keep_originals = false;
};

struct TarSummary {
  int tars = 0;
  long items = 0;
};

inline constexpr const char* kTarIndex = "tars.json";

// Packs the ok rows of DIR/run.jsonl. An unreadable thumbnail or a tar that cannot be written is
// an error (ErrorKind::io or write) naming the file; tars already renamed in stay.
Result<TarSummary> write_dataset_tars(const std::filesystem::path& dir, const TarOptions& options);

}  // namespace thumbfetch
