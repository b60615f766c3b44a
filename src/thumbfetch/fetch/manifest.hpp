#pragma once
// manifest.jsonl in the output folder: one JSON object per line and per URL, with the columns
// url, file, status (ok|failed|cancelled), http_code, bytes, content_type, sha256, attempts,
// seconds, error_kind, error. During a run each settled item is appended at once (so a run
// killed with -9 keeps what it finished); at the end the file is rewritten, atomically, with one
// row per URL (the latest), this run's rows in list order after older rows for other URLs.
// Reading takes the latest row per URL and ignores a torn last line.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "thumbfetch/fetch/types.hpp"
#include "thumbfetch/util/jsonl_file.hpp"

namespace thumbfetch {

inline constexpr const char* kManifestName = "manifest.jsonl";

struct ManifestRow {
  std::string url;
  std::string file;    // name inside the output folder ("" when none)
  std::string status;  // "ok", "failed", "cancelled"
  long http_code = 0;
  std::uint64_t bytes = 0;
  std::string content_type;
  std::string sha256;
  int attempts = 0;
  double seconds = 0;
  std::string error_kind;  // "" when ok
  std::string error;
  ItemMeta source;  // what the source said of the item (Imgur's id, title...), when it said

  std::string to_json_line() const;  // without the newline
};

ManifestRow manifest_row(const std::string& url, const FetchResult& result);

// The other way round, for a URL a re-run skips: its completed row as a `skipped` result.
FetchResult skipped_result(const ManifestRow& row, const std::filesystem::path& dir);

// The latest row per URL, in order of first appearance. A missing file is an empty manifest;
// lines that do not parse (a torn last line) are skipped.
std::vector<ManifestRow> load_manifest(const std::filesystem::path& dir);

// Appends rows as items settle; rewrite() replaces the file with the compacted rows.
class ManifestWriter {
 public:
  explicit ManifestWriter(const std::filesystem::path& dir) : file_(dir / kManifestName) {}
  void append(const ManifestRow& row) { file_.append(row.to_json_line()); }
  using RowSink = std::function<void(const ManifestRow&)>;
  Status rewrite(const std::function<void(const RowSink&)>& produce) {
    return file_.rewrite([&](const JsonlFile::LineSink& line) {
      produce([&](const ManifestRow& row) { line(row.to_json_line()); });
    });
  }

 private:
  JsonlFile file_;
};

}  // namespace thumbfetch
