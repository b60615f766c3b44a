#include "thumbfetch/job/thumbs_manifest.hpp"

#include <sys/stat.h>

#include <cmath>
#include <fstream>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "thumbfetch/util/json_bytes.hpp"
#include "thumbfetch/util/json_field.hpp"

namespace thumbfetch {

std::string ThumbsRow::to_json_line() const {
  nlohmann::ordered_json j;
  put_bytes(j, "input", input);  // a file name that is not UTF-8 keeps its bytes for resume
  put_bytes(j, "file", file);
  j["status"] = status;
  if (!stem.empty()) put_bytes(j, "stem", stem);
  j["input_bytes"] = stamp.bytes;
  j["input_mtime_ns"] = stamp.mtime_ns;
  j["input_sha256"] = input_sha256;
  j["options"] = options;
  if (status == "ok") {  // a failed or pending row claims no thumbnail, decoder or size
    j["width"] = width;
    j["height"] = height;
    j["bytes"] = bytes;
    j["decoder"] = decoder;
    j["source_width"] = source_width;
    j["source_height"] = source_height;
  }
  j["seconds"] = std::round(seconds * 1000) / 1000;
  j["error_kind"] = error_kind;
  j["error"] = error;
  // A file name that is not UTF-8 is written with replacement characters rather than thrown on.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string options_fingerprint(const ThumbOptions& o) {
  return fmt::format("{}x{} {} {} q{} {} gap{:g} max{} {}", o.box.width, o.box.height,
                     to_string(o.mode), to_string(o.format), o.quality, to_string(o.background),
                     o.reducing_gap, o.max_pixels, o.allow_truncated ? "truncated-ok" : "strict");
}

std::vector<ThumbsRow> load_thumbs_manifest(const std::filesystem::path& dir) {
  std::ifstream in(dir / kThumbsManifestName);
  std::vector<ThumbsRow> rows;
  std::unordered_map<std::string, size_t> where;
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("input") || !j["input"].is_string()) continue;
    ThumbsRow row;
    try {
      row.input = get_bytes(j, "input");
      row.file = get_bytes(j, "file");
      row.status = j.value("status", "");
      row.stem = get_bytes(j, "stem");
      row.stamp.bytes = json_integer(j, "input_bytes", std::uint64_t{0});
      row.stamp.mtime_ns = json_integer(j, "input_mtime_ns", std::int64_t{0});
      row.input_sha256 = j.value("input_sha256", "");
      row.options = j.value("options", "");
      row.width = json_integer(j, "width", 0);
      row.height = json_integer(j, "height", 0);
      row.bytes = json_integer(j, "bytes", std::uint64_t{0});
      row.decoder = j.value("decoder", "");
      row.source_width = json_integer(j, "source_width", 0);
      row.source_height = json_integer(j, "source_height", 0);
      row.seconds = j.value("seconds", 0.0);
      row.error_kind = j.value("error_kind", "");
      row.error = j.value("error", "");
    } catch (const std::exception&) {  // nlohmann's type_error, or ForeignRow
      continue;                        // a field of the wrong type: not one of our rows
    }
    if (auto it = where.find(row.input); it != where.end()) {
      rows[it->second] = std::move(row);
    } else {
      where.emplace(row.input, rows.size());
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

InputStamp stamp_of(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {static_cast<std::uint64_t>(st.st_size),
          static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

}  // namespace thumbfetch
