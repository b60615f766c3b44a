// The manifest readers (fetch/manifest: manifest.jsonl of fetch and run; job/thumbs_manifest:
// thumbs.jsonl): any bytes as the file an earlier run, a kill -9 or a user's editor left. Rows
// are read or skipped, never thrown on; one row per key; and what is read survives the way back
// (written as the run writes it, read again: the same rows); the index a streamed fetch resumes
// through (ManifestIndex) finds the same latest row per URL.

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unordered_set>

#include "fuzz_check.hpp"
#include "thumbfetch/fetch/manifest.hpp"
#include "thumbfetch/job/thumbs_manifest.hpp"

using namespace thumbfetch;
namespace fs = std::filesystem;

namespace {

fs::path g_dir;  // this process's scratch folder

void write_file(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

template <typename Row>
void write_rows(const fs::path& path, const std::vector<Row>& rows) {
  std::string text;
  for (const Row& row : rows) text += row.to_json_line() + "\n";
  write_file(path, text);
}

bool same(const ManifestRow& a, const ManifestRow& b) {
  return a.to_json_line() == b.to_json_line();
}
bool same(const ThumbsRow& a, const ThumbsRow& b) {
  return a.to_json_line() == b.to_json_line();
}

template <typename Row, typename Load, typename Key>
void check_reader(const char* file_name, std::string_view bytes, Load load, Key key) {
  write_file(g_dir / file_name, bytes);
  const std::vector<Row> rows = load(g_dir);
  std::unordered_set<std::string> keys;
  for (const Row& row : rows) FUZZ_CHECK(keys.insert(key(row)).second, "one row per key");
  write_rows(g_dir / file_name, rows);
  const std::vector<Row> again = load(g_dir);
  FUZZ_CHECK(again.size() == rows.size(), "every row read back");
  for (size_t i = 0; i < rows.size(); ++i) FUZZ_CHECK(same(rows[i], again[i]), "rows read back");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // In memory when the machine has /dev/shm: each input is written and read four times.
  const fs::path base =
      fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
  std::string tmpl = (base / "fuzz-manifest-XXXXXX").string();
  FUZZ_CHECK(::mkdtemp(tmpl.data()) != nullptr, "a scratch folder");
  g_dir = tmpl;
  std::atexit([] { fs::remove_all(g_dir); });
  return 0;
}

namespace {

// The index a streamed run resumes through finds, for each URL, the row load_manifest() keeps.
void check_index(std::string_view bytes) {
  write_file(g_dir / kManifestName, bytes);
  const std::vector<ManifestRow> rows = load_manifest(g_dir);
  ManifestIndex index(g_dir);
  FUZZ_CHECK(index.size() == rows.size(), "the index has one entry per URL");
  for (const ManifestRow& row : rows) {
    auto found = index.take(row.url);
    FUZZ_CHECK(found.has_value(), "every URL is found");
    FUZZ_CHECK(same(found->first, row), "the index finds the latest row");
  }
  FUZZ_CHECK(index.untaken().empty(), "every row was taken");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, size_t size) {
  const std::string_view bytes = fuzz::as_text(data, size);
  check_index(bytes);
  check_reader<ManifestRow>(kManifestName, bytes, load_manifest,
                            [](const ManifestRow& r) { return r.url; });
  check_reader<ThumbsRow>(kThumbsManifestName, bytes, load_thumbs_manifest,
                          [](const ThumbsRow& r) { return r.input; });
  return 0;
}
