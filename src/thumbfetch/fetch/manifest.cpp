#include "thumbfetch/fetch/manifest.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
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
constexpr size_t kFirstRead = 4 << 10;    // a row or a dozen
constexpr size_t kLongestRead = 1 << 20;  // reads of a forward sweep grow up to this
constexpr std::uint64_t kStepBack = 256 << 10;
constexpr std::uint64_t kNear = 64 << 10;  // a little past the buffer: still a forward sweep
}  // namespace

LinesAt::LinesAt(const fs::path& path)
    : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)), next_read_(kFirstRead) {}

std::optional<std::string_view> LinesAt::line(std::uint64_t offset) {
  if (!fd_.valid()) return std::nullopt;
  // Rows come back nearly in the order they were appended (a window of transfers settles out of
  // order): the buffer slides on with the offsets asked for, keeping a little behind them so
  // that a step back is served from it. Anything else starts a small window at the offset.
  if (offset < start_ || offset > start_ + size_ + kNear) {
    size_ = 0;
    start_ = offset;
    next_read_ = kFirstRead;
    at_end_ = false;
  }
  if (offset >= start_ + size_) at_end_ = false;  // past what was read: the file may have grown
  for (;;) {
    if (offset >= start_ && offset < start_ + size_) {
      const size_t from = offset - start_;
      const char* begin = data_.get() + from;
      if (const void* nl = std::memchr(begin, '\n', size_ - from)) {
        return std::string_view(begin, static_cast<size_t>(static_cast<const char*>(nl) - begin));
      }
    }
    if (at_end_) return std::nullopt;  // past the end, or a last line with no newline (torn)
    keep_from(offset);
    if (!read_more()) return std::nullopt;
  }
}

// What is far behind `offset` goes (the buffer slides on).
void LinesAt::keep_from(std::uint64_t offset) {
  if (offset - start_ <= kStepBack) return;
  const size_t drop =
      static_cast<size_t>(std::min<std::uint64_t>(offset - start_ - kStepBack, size_));
  std::memmove(data_.get(), data_.get() + drop, size_ - drop);
  size_ -= drop;
  start_ += drop;
}

// The next bytes of the file after the buffer; false on a read error.
bool LinesAt::read_more() {
  if (size_ + next_read_ > capacity_) {
    const size_t capacity = std::max(size_ + next_read_, capacity_ * 2);
    auto bigger = std::make_unique_for_overwrite<char[]>(capacity);
    if (size_ > 0) std::memcpy(bigger.get(), data_.get(), size_);
    data_ = std::move(bigger);
    capacity_ = capacity;
  }
  ssize_t n = -1;
  do {
    n = ::pread(fd_.get(), data_.get() + size_, next_read_, static_cast<off_t>(start_ + size_));
  } while (n < 0 && errno == EINTR);
  if (n < 0) return false;
  at_end_ = static_cast<size_t>(n) < next_read_;
  size_ += static_cast<size_t>(n);
  next_read_ = std::min(next_read_ * 2, kLongestRead);
  return true;
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

// One entry per URL, its last row: URLs that share a hash are told apart by reading them. Sorted
// by key then offset (file order within a key) and compacted in place: no second array.
void ManifestIndex::keep_latest() {
  std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    return a.key != b.key ? a.key < b.key : a.offset < b.offset;
  });
  size_t out = 0;
  for (size_t i = 0; i < entries_.size();) {
    size_t end = i + 1;
    while (end < entries_.size() && entries_[end].key == entries_[i].key) ++end;
    if (end - i == 1) {
      entries_[out++] = entries_[i];
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
      for (const auto& p : last) entries_[out++] = p.second;  // out <= i: nothing unread
    }
    i = end;
  }
  entries_.resize(out);
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
