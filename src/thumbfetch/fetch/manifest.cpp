#include "thumbfetch/fetch/manifest.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "thumbfetch/util/atomic_file.hpp"
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

std::vector<ManifestRow> load_manifest(const fs::path& dir) {
  std::ifstream in(dir / kManifestName);
  std::vector<ManifestRow> rows;
  std::unordered_map<std::string, size_t> where;
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("url") || !j["url"].is_string()) continue;
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
        row.source = ItemMeta{s.value("id", ""),           s.value("title", ""),
                              s.value("album_id", ""),     s.value("type", ""),
                              json_integer(s, "width", 0), json_integer(s, "height", 0)};
      }
    } catch (const std::exception&) {  // nlohmann's type_error, or ForeignRow
      continue;                        // a field of the wrong type: not one of our rows
    }
    if (auto it = where.find(row.url); it != where.end()) {
      rows[it->second] = std::move(row);
    } else {
      where.emplace(row.url, rows.size());
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

}  // namespace thumbfetch
