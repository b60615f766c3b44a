#include "thumbfetch/fetch/manifest.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "thumbfetch/util/atomic_file.hpp"
#include "thumbfetch/util/flat_hash.hpp"
#include "thumbfetch/util/json_bytes.hpp"
#include "thumbfetch/util/json_field.hpp"

namespace thumbfetch {

namespace fs = std::filesystem;

namespace {

const char* status_name(const FetchResult& r) {
  if (r.state == FetchResult::State::ok || r.state == FetchResult::State::skipped) return "ok";
  return r.error.kind == ErrorKind::cancelled ? "cancelled" : "failed";
}

}  // namespace

std::string ManifestRow::to_json_line() const {
  nlohmann::ordered_json j;
  put_bytes(j, "url", url);  // a URL that is not UTF-8 keeps its bytes for resume
  put_bytes(j, "file", file);
  j["status"] = status;
  j["http_code"] = http_code;
  j["bytes"] = bytes;
  j["content_type"] = content_type;
  j["sha256"] = sha256;
  j["attempts"] = attempts;
  j["seconds"] = std::round(seconds * 1000) / 1000;
  j["error_kind"] = error_kind;
  j["error"] = error;
  if (!source.empty()) {
    j["source"] = {{"id", source.id},     {"title", source.title}, {"album_id", source.album_id},
                   {"type", source.type}, {"width", source.width}, {"height", source.height}};
  }
  // Invalid UTF-8 (a server's odd Content-Type) is replaced rather than thrown on.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

FetchResult skipped_result(const ManifestRow& row, const fs::path& dir) {
  FetchResult r;
  r.state = FetchResult::State::skipped;
  r.file = dir / row.file;
  r.http_code = row.http_code;
  r.bytes = row.bytes;
  r.content_type = row.content_type;
  r.sha256 = row.sha256;
  r.attempts = row.attempts;
  r.seconds = row.seconds;
  return r;
}

ManifestRow manifest_row(const std::string& url, const FetchResult& r) {
  ManifestRow row;
  row.url = url;
  row.file = r.file.empty() ? "" : r.file.filename().string();
  row.status = status_name(r);
  row.http_code = r.http_code;
  row.bytes = r.bytes;
  row.content_type = r.content_type;
  row.sha256 = r.sha256;
  row.attempts = r.attempts;
  row.seconds = r.seconds;
  if (r.state == FetchResult::State::failed) {
    row.error_kind = std::string(to_string(r.error.kind));
    row.error = r.error.message;
  }
  return row;
}

std::optional<ManifestRow> parse_manifest_row(std::string_view line) {
  auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("url") || !j["url"].is_string()) return std::nullopt;
  ManifestRow row;
  try {
    row.url = get_bytes(j, "url");
    row.file = get_bytes(j, "file");
    row.status = j.value("status", "");
    row.http_code = json_integer(j, "http_code", 0L);
    row.bytes = json_integer(j, "bytes", std::uint64_t{0});
    row.content_type = j.value("content_type", "");
    row.sha256 = j.value("sha256", "");
    row.attempts = json_integer(j, "attempts", 0);
    row.seconds = j.value("seconds", 0.0);
    row.error_kind = j.value("error_kind", "");
    row.error = j.value("error", "");
    if (auto it = j.find("source"); it != j.end() && it->is_object()) {
      const nlohmann::json& s = *it;
      row.source =
          ItemMeta{s.value("id", ""),   s.value("title", ""),        s.value("album_id", ""),
                   s.value("type", ""), json_integer(s, "width", 0), json_integer(s, "height", 0)};
    }
  } catch (const std::exception&) {  // nlohmann's type_error, or ForeignRow
    return std::nullopt;             // a field of the wrong type: not one of our rows
  }
  return row;
}

std::vector<ManifestRow> load_manifest(const fs::path& dir) {
  std::ifstream in(dir / kManifestName);
  std::vector<ManifestRow> rows;
  std::unordered_map<std::string, size_t> where;
  std::string line;
  while (std::getline(in, line)) {
    std::optional<ManifestRow> row = parse_manifest_row(line);
    if (!row) continue;
    if (auto it = where.find(row->url); it != where.end()) {
      rows[it->second] = std::move(*row);
    } else {
      where.emplace(row->url, rows.size());
      rows.push_back(std::move(*row));
    }
  }
  return rows;
}

namespace {
constexpr size_t kBuffer = 1 << 20;
constexpr std::uint64_t kStepBack = 256 << 10;
}  // namespace

LinesAt::LinesAt(const fs::path& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}

std::optional<std::string_view> LinesAt::line(std::uint64_t offset) {
  if (!fd_.valid()) return std::nullopt;
  if (offset < start_ || offset >= start_ + buffer_.size()) {
    // Rows come back nearly in the order they were appended (a window of transfers settles out
    // of order), so the buffer starts a little before the row asked for: a step back is then
    // served from it rather than read again.
    buffer_.clear();
    start_ = offset - std::min<std::uint64_t>(offset, kStepBack);
    at_end_ = false;
  }
  for (;;) {
    if (offset >= start_ && offset < start_ + buffer_.size()) {
      const size_t from = offset - start_;
      const size_t end = buffer_.find('\n', from);
      if (end != std::string::npos) return std::string_view(buffer_).substr(from, end - from);
    }
    if (at_end_) return std::nullopt;   // past the end, or a last line with no newline (torn)
    if (offset - start_ > kStepBack) {  // the buffer slides on: what is far behind goes
      const size_t drop = offset - start_ - kStepBack;
      buffer_.erase(0, drop);
      start_ += drop;
    }
    const size_t had = buffer_.size();  // more of the file after what the buffer has
    buffer_.resize(had + kBuffer);
    const ssize_t n = ::pread(fd_.get(), buffer_.data() + had, kBuffer, start_ + had);
    buffer_.resize(had + static_cast<size_t>(std::max<ssize_t>(n, 0)));
    at_end_ = n < static_cast<ssize_t>(kBuffer);
  }
}

namespace {

// A last line with no newline (a torn row, or an editor's) is ended with one: a whole row there
// is then read like any other, and rows appended after it never glue onto it.
void end_last_line(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC));
  char last = '\n';
  const off_t size = fd.valid() ? ::lseek(fd.get(), 0, SEEK_END) : 0;
  if (size <= 0 || ::pread(fd.get(), &last, 1, size - 1) != 1 || last == '\n') return;
  [[maybe_unused]] const ssize_t n = ::write(fd.get(), "\n", 1);
}

}  // namespace

ManifestIndex::ManifestIndex(const fs::path& dir)
    : path_(dir / kManifestName), lines_(dir / kManifestName) {
  end_last_line(path_);
  std::ifstream in(path_);
  std::uint64_t offset = 0;
  for (std::string line; std::getline(in, line); offset += line.size() + 1) {
    if (in.eof()) break;  // no newline: a torn last line
    std::optional<ManifestRow> row = parse_manifest_row(line);
    if (row) entries_.push_back({key_of(row->url), offset});
  }
  keep_latest();
}

// One entry per URL, its last row: URLs that share a hash are told apart by reading them.
void ManifestIndex::keep_latest() {
  std::stable_sort(entries_.begin(), entries_.end(),
                   [](const Entry& a, const Entry& b) { return a.key < b.key; });
  std::vector<Entry> kept;
  kept.reserve(entries_.size());
  for (size_t i = 0; i < entries_.size();) {
    size_t end = i + 1;
    while (end < entries_.size() && entries_[end].key == entries_[i].key) ++end;
    if (end - i == 1) {
      kept.push_back(entries_[i]);
    } else {  // rows of one URL appended by runs that stopped, or a rare shared hash
      std::vector<std::pair<std::string, Entry>> last;  // per URL, in file order
      for (size_t k = i; k < end; ++k) {
        auto text = lines_.line(entries_[k].offset);
        std::optional<ManifestRow> row = text ? parse_manifest_row(*text) : std::nullopt;
        if (!row) continue;
        auto same = std::find_if(last.begin(), last.end(),
                                 [&](const auto& p) { return p.first == row->url; });
        if (same != last.end())
          same->second = entries_[k];
        else
          last.emplace_back(row->url, entries_[k]);
      }
      for (const auto& p : last) kept.push_back(p.second);
    }
    i = end;
  }
  entries_ = std::move(kept);
}

void ManifestIndex::for_each(const std::function<void(const ManifestRow&, std::uint64_t)>& f) {
  std::vector<std::uint64_t> offsets;
  offsets.reserve(entries_.size());
  for (const Entry& e : entries_) offsets.push_back(e.offset & ~kTaken);
  std::sort(offsets.begin(), offsets.end());
  for (std::uint64_t offset : offsets) {
    auto text = lines_.line(offset);
    if (!text) continue;
    if (std::optional<ManifestRow> row = parse_manifest_row(*text)) f(*row, offset);
  }
}

std::optional<std::pair<ManifestRow, std::uint64_t>> ManifestIndex::take(const std::string& url) {
  const std::uint64_t key = key_of(url);
  auto it = std::lower_bound(entries_.begin(), entries_.end(), key,
                             [](const Entry& e, std::uint64_t k) { return e.key < k; });
  for (; it != entries_.end() && it->key == key; ++it) {
    const std::uint64_t offset = it->offset & ~kTaken;
    auto text = lines_.line(offset);
    std::optional<ManifestRow> row = text ? parse_manifest_row(*text) : std::nullopt;
    if (!row || row->url != url) continue;  // another URL with the same hash
    it->offset |= kTaken;
    return std::pair(std::move(*row), offset);
  }
  return std::nullopt;
}

std::vector<std::uint64_t> ManifestIndex::untaken() const {
  std::vector<std::uint64_t> offsets;
  for (const Entry& e : entries_) {
    if (!(e.offset & kTaken)) offsets.push_back(e.offset);
  }
  std::sort(offsets.begin(), offsets.end());
  return offsets;
}

}  // namespace thumbfetch
