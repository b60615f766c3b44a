#include "thumbfetch/job/tar_output.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "thumbfetch/job/pipeline_job.hpp"
#include "thumbfetch/util/atomic_file.hpp"
#include "thumbfetch/util/json_bytes.hpp"
#include "thumbfetch/util/json_field.hpp"

namespace thumbfetch {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

struct ArchiveFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;
using EntryPtr = std::unique_ptr<archive_entry, EntryFree>;

struct Sample {
  std::string key;
  fs::path thumbnail, original;
  Json meta;
};

std::vector<Sample> ok_samples(const fs::path& dir, bool keep_originals) {
  std::vector<Sample> out;
  std::ifstream in(dir / kRunManifestName);
  for (std::string line; std::getline(in, line);) {
    const Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || json_field<std::string>(j, "status", "") != "ok") continue;
    const std::string file = get_bytes(j, "file");
    if (file.empty()) continue;
    Sample s;
    s.key = fs::path(file).stem().string();
    std::replace(s.key.begin(), s.key.end(), '.', '_');
    s.thumbnail = dir / file;
    const std::string original = json_field<std::string>(j, "original", "");
    if (keep_originals && !original.empty()) s.original = dir / original;
    s.meta = Json{{"url", json_field<std::string>(j, "url", "")},
                  {"key", s.key},
                  {"size", json_field<std::uint64_t>(j, "bytes", 0)},
                  {"sha256", json_field<std::string>(j, "sha256", "")},
                  {"content_type", json_field<std::string>(j, "content_type", "")},
                  {"http_code", json_field<long>(j, "http_code", 0)},
                  {"width", json_field<int>(j, "width", 0)},
                  {"height", json_field<int>(j, "height", 0)},
                  {"thumb_bytes", json_field<std::uint64_t>(j, "thumb_bytes", 0)}};
    out.push_back(std::move(s));
  }
  return out;
}

Status add_entry(archive* a, const std::string& name, const std::string& bytes) {
  EntryPtr e(archive_entry_new());
  archive_entry_set_pathname(e.get(), name.c_str());
  archive_entry_set_size(e.get(), static_cast<la_int64_t>(bytes.size()));
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_entry_set_perm(e.get(), 0644);
  archive_entry_set_mtime(e.get(), 0, 0);  // the same bytes on every run
  if (archive_write_header(a, e.get()) != ARCHIVE_OK ||
      archive_write_data(a, bytes.data(), bytes.size()) != static_cast<la_ssize_t>(bytes.size())) {
    return make_error(ErrorKind::write, archive_error_string(a) ? archive_error_string(a) : name);
  }
  return Ok{};
}

Status add_sample(archive* a, const Sample& s) {
  auto thumb = read_file(s.thumbnail);
  if (!thumb)
    return make_error(ErrorKind::io,
                      fmt::format("{}: {}", s.thumbnail.string(), thumb.error().message));
  if (auto st = add_entry(a, s.key + s.thumbnail.extension().string(), *thumb); !st) return st;
  // A URL that is not UTF-8 is kept readable (U+FFFD) rather than failing the whole tar.
  const std::string meta = s.meta.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (auto st = add_entry(a, s.key + ".json", meta + "\n"); !st) return st;
  if (s.original.empty()) return Ok{};
  auto orig = read_file(s.original);
  if (!orig)
    return make_error(ErrorKind::io,
                      fmt::format("{}: {}", s.original.string(), orig.error().message));
  return add_entry(a, s.key + ".orig" + s.original.extension().string(), *orig);
}

Status write_tar(const fs::path& path, const std::vector<Sample>& samples, size_t from, size_t to) {
  AtomicFile file(path);
  if (!file.ok()) return file.error();
  ArchivePtr a(archive_write_new());
  archive_write_set_format_pax_restricted(a.get());
  if (archive_write_open_fd(a.get(), file.fd()) != ARCHIVE_OK) {
    return make_error(ErrorKind::write,
                      fmt::format("{}: {}", path.string(), archive_error_string(a.get())));
  }
  for (size_t i = from; i < to; ++i) {
    if (auto st = add_sample(a.get(), samples[i]); !st) return st;
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    return make_error(ErrorKind::write,
                      fmt::format("{}: {}", path.string(), archive_error_string(a.get())));
  }
  return file.commit(Overwrite::yes);
}

std::set<std::string> tars_we_wrote(const fs::path& dir) {
  std::set<std::string> names;
  auto text = read_file(dir / kTarIndex);
  if (!text) return names;
  const Json j = Json::parse(*text, nullptr, false);
  if (j.is_object() && j.contains("tars") && j["tars"].is_array()) {
    for (const auto& n : j["tars"]) {
      if (n.is_string()) names.insert(n.get<std::string>());
    }
  }
  return names;
}

}  // namespace

Result<TarSummary> write_dataset_tars(const fs::path& dir, const TarOptions& options) {
  const std::vector<Sample> samples = ok_samples(dir, options.keep_originals);
  const size_t per = std::max<size_t>(1, options.items_per_tar);
  const std::set<std::string> ours = tars_we_wrote(dir);
  TarSummary summary;
  Json names = Json::array();
  for (size_t from = 0; from < samples.size(); from += per) {
    const std::string name = fmt::format("{:05d}.tar", from / per);
    std::error_code ec;
    if (fs::exists(dir / name, ec) && !ours.contains(name)) {
      return make_error(ErrorKind::write,
                        fmt::format("{} is not one of this run's tars: left alone, packing stopped",
                                    (dir / name).string()));
    }
    const size_t to = std::min(samples.size(), from + per);
    if (auto st = write_tar(dir / name, samples, from, to); !st) return st.error();
    names.push_back(name);
    ++summary.tars;
    summary.items += static_cast<long>(to - from);
    // The index grows with each tar renamed in, so a stop between tars loses no ownership.
    const std::string text = Json{{"tars", names}, {"items_per_tar", per}}.dump(2) + "\n";
    if (auto st = write_file_atomically(
            dir / kTarIndex, {reinterpret_cast<const unsigned char*>(text.data()), text.size()});
        !st) {
      return st.error();
    }
  }
  return summary;
}

}  // namespace thumbfetch
