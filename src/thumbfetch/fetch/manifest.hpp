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
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "thumbfetch/fetch/types.hpp"
#include "thumbfetch/util/fd.hpp"
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

// One line of a manifest, or nullopt when it is not one of our rows (a torn last line).
std::optional<ManifestRow> parse_manifest_row(std::string_view line);

// The latest row per URL, in order of first appearance. A missing file is an empty manifest;
// lines that do not parse (a torn last line) are skipped.
std::vector<ManifestRow> load_manifest(const std::filesystem::path& dir);

// Lines of a file read back by their offsets, through one buffer: offsets read in about
// ascending order cost one read(2) per MiB once under way; one far from the last costs a read
// of a few KiB (a window grown until it holds the line's newline).
class LinesAt {
 public:
  explicit LinesAt(const std::filesystem::path& path);
  bool ok() const { return fd_.valid(); }
  // The line starting at `offset`, without its newline; nullopt past the end or for a last line
  // with no newline (torn). Valid until the next call.
  std::optional<std::string_view> line(std::uint64_t offset);

 private:
  bool read_more();
  void keep_from(std::uint64_t offset);

  UniqueFd fd_;
  std::unique_ptr<char[]> data_;  // not zero-filled: only what was read is looked at
  size_t capacity_ = 0, size_ = 0;
  size_t next_read_ = 0;     // bytes asked of the next read(2): doubled while reads go on
  std::uint64_t start_ = 0;  // the file offset of data_[0]
  bool at_end_ = false;      // data_ reaches the end of the file
};

// Resume without holding the manifest: the latest row per URL found by a hash of the URL and
// the row's offset in DIR/manifest.jsonl (16 bytes a row), the row read back when asked for. A
// manifest of ten million rows costs 160 MB here against gigabytes as rows.
class ManifestIndex {
 public:
  // Reads DIR/manifest.jsonl once (a missing file is an empty index); a last line with no
  // newline is given one first, so the index reads the rows load_manifest() reads.
  explicit ManifestIndex(const std::filesystem::path& dir);
  size_t size() const { return entries_.size(); }
  // Each latest row with its offset, in file order.
  void for_each(const std::function<void(const ManifestRow&, std::uint64_t offset)>& f);
  // The latest row of `url` and its offset; the row is marked as this run's (see untaken()).
  std::optional<std::pair<ManifestRow, std::uint64_t>> take(const std::string& url);
  // The offsets of the latest rows that take() was never asked for, ascending.
  std::vector<std::uint64_t> untaken() const;

 private:
  struct Entry {
    std::uint64_t key;     // key_of(url)
    std::uint64_t offset;  // bit 63: taken
  };
  static constexpr std::uint64_t kTaken = std::uint64_t{1} << 63;
  void keep_latest();

  std::filesystem::path path_;
  std::vector<Entry> entries_;  // sorted by key, then offset
  LinesAt lines_;
};

// Appends rows as items settle; rewrite() replaces the file with the compacted rows.
class ManifestWriter {
 public:
  explicit ManifestWriter(const std::filesystem::path& dir) : file_(dir / kManifestName) {}
  // The row's offset in the file, or -1 when it could not be written.
  std::int64_t append(const ManifestRow& row) { return append_line(row.to_json_line()); }
  std::int64_t append_line(std::string_view line) { return file_.append(line); }
  // The errno of the last append that failed (ENOSPC, EDQUOT: a full disk), 0 when none has.
  int append_errno() const { return file_.append_errno(); }
  using RowSink = std::function<void(const ManifestRow&)>;
  Status rewrite(const std::function<void(const RowSink&)>& produce) {
    return file_.rewrite([&](const JsonlFile::LineSink& line) {
      produce([&](const ManifestRow& row) { line(row.to_json_line()); });
    });
  }
  // The same, with rows as the lines they already are.
  Status rewrite_lines(const std::function<void(const JsonlFile::LineSink&)>& produce) {
    return file_.rewrite(produce);
  }
  // The same; an error from `produce` keeps the file as it was (JsonlFile::rewrite_checked).
  Status rewrite_lines_checked(const std::function<Status(const JsonlFile::LineSink&)>& produce) {
    return file_.rewrite_checked(produce);
  }

 private:
  JsonlFile file_;
};

}  // namespace thumbfetch
