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

// The thumbnail's stem with dots made underscores, and "_N" added when an earlier sample took it
// ("a.b" and "a_b" would both be "a_b"): webdataset groups entries by key, so two samples must
// not share one. Manifest order decides which keeps the plain key, the same on every run.
std::string unique_key(const std::string& file, std::set<std::string>& used) {
  std::string key = fs::path(file).stem().string();
  std::replace(key.begin(), key.end(), '.', '_');
  std::string candidate = key;
  for (int n = 1; used.contains(candidate); ++n) candidate = fmt::format("{}_{}", key, n);
  used.insert(candidate);
  return candidate;
}

std::vector<Sample> ok_samples(const fs::path& dir, bool keep_originals) {
  std::vector<Sample> out;
  std::set<std::string> used;
  std::ifstream in(dir / kRunManifestName);
  for (std::string line; std::getline(in, line);) {
    const Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || json_field<std::string>(j, "status", "") != "ok") continue;
    const std::string file = get_bytes(j, "file");
    if (file.empty()) continue;
    Sample s;
    s.key = unique_key(file, used);
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

// A plain file name in DIR (tars.json is read back, so a hand-edited "../x" is not trusted).
bool plain_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
}

std::set<std::string> tars_we_wrote(const fs::path& dir) {
  std::set<std::string> names;
  auto text = read_file(dir / kTarIndex);
  if (!text) return names;
  const Json j = Json::parse(*text, nullptr, false);
  if (j.is_object() && j.contains("tars") && j["tars"].is_array()) {
    for (const auto& n : j["tars"]) {
      if (n.is_string() && plain_name(n.get<std::string>())) names.insert(n.get<std::string>());
    }
  }
  return names;
}

Status write_index(const fs::path& dir, const std::set<std::string>& names, size_t per) {
  const std::string text = Json{{"tars", names}, {"items_per_tar", per}}.dump(2) + "\n";
  return write_file_atomically(dir / kTarIndex,
                               {reinterpret_cast<const unsigned char*>(text.data()), text.size()});
}

}  // namespace

Result<TarSummary> write_dataset_tars(const fs::path& dir, const TarOptions& options) {
  const std::vector<Sample> samples = ok_samples(dir, options.keep_originals);
  const size_t per = std::max<size_t>(1, options.items_per_tar);
  // Every tar is claimed in the index before it is renamed in: a stop between the two leaves the
  // index naming a tar that is not there (harmless: the next run rewrites it), never one of our
  // tars that looks foreign and is refused forever.
  std::set<std::string> claimed = tars_we_wrote(dir);
  std::set<std::string> written;
  TarSummary summary;
  for (size_t from = 0; from < samples.size(); from += per) {
    const std::string name = fmt::format("{:05d}.tar", from / per);
    std::error_code ec;
    if (fs::exists(dir / name, ec) && !claimed.contains(name)) {
      return make_error(ErrorKind::write,
                        fmt::format("{} is not one of this run's tars: left alone, packing stopped",
                                    (dir / name).string()));
    }
    if (claimed.insert(name).second) {
      if (auto st = write_index(dir, claimed, per); !st) return st.error();
    }
    const size_t to = std::min(samples.size(), from + per);
    if (auto st = write_tar(dir / name, samples, from, to); !st) return st.error();
    written.insert(name);
    ++summary.tars;
    summary.items += static_cast<long>(to - from);
  }
  // Our tars past the new count (an earlier run packed more) go before the index forgets them.
  for (const std::string& name : claimed) {
    std::error_code ec;
    if (!written.contains(name) && !fs::remove(dir / name, ec) && ec) {
      return make_error(ErrorKind::write,
                        fmt::format("cannot remove {}, a tar of an earlier run: {}",
                                    (dir / name).string(), ec.message()));
    }
  }
  if (auto st = write_index(dir, written, per); !st) return st.error();
  return summary;
}

}  // namespace thumbfetch
