// --output-format tar: webdataset-style tars read back with libarchive (and by tar(1)), a sample
// per ok URL with its thumbnail, its metadata and, with --keep-originals, the download; a
// NNNNN.tar that is not the run's own is never replaced.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "support/run_command.hpp"
#include "support/temp_dir.hpp"
#include "thumbfetch/job/tar_output.hpp"
#include "thumbfetch/serve/image_server.hpp"
#include "thumbfetch/util/atomic_file.hpp"
#include "thumbfetch/util/sha256.hpp"

using namespace thumbfetch;
using namespace thumbfetch::test;
namespace fs = std::filesystem;

namespace {

// Every entry of a tar: name -> bytes, in order, through libarchive's reader.
std::vector<std::pair<std::string, std::string>> read_tar(const fs::path& path) {
  std::vector<std::pair<std::string, std::string>> out;
  archive* a = archive_read_new();
  archive_read_support_format_all(a);
  EXPECT_EQ(archive_read_open_filename(a, path.c_str(), 65536), ARCHIVE_OK) << path;
  archive_entry* e = nullptr;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    std::string bytes(static_cast<size_t>(archive_entry_size(e)), '\0');
    EXPECT_EQ(archive_read_data(a, bytes.data(), bytes.size()),
              static_cast<la_ssize_t>(bytes.size()));
    out.emplace_back(archive_entry_pathname(e), std::move(bytes));
  }
  archive_read_free(a);
  return out;
}

}  // namespace

TEST(JobShardTar, TarsHoldOneSamplePerOkUrl) {
  ServeConfig c;
  c.generate = 7;
  c.spec.min_side = 48;
  c.spec.max_side = 96;
  ImageServer s(c);
  s.start_in_thread();
  TempDir tmp;
  {
    std::ofstream list(tmp / "urls.txt");
    for (const auto& n : s.image_names()) list << s.base_url() << "/img/" << n << "\n";
    list << s.base_url() << "/img/missing.jpg\n";  // a 404: no sample
  }
  auto r =
      run_thumbfetch({"run", "--urls", (tmp / "urls.txt").string(), "-o", (tmp / "out").string(),
                      "--output-format", "tar", "--tar-size", "3", "--keep-originals", "-q"});
  EXPECT_EQ(r.exit_code, 1) << r.err;  // the 404
  std::map<std::string, std::string> all;
  for (const char* name : {"00000.tar", "00001.tar", "00002.tar"}) {
    const auto entries = read_tar(tmp / "out" / name);
    EXPECT_EQ(entries.size(), std::string(name) == "00002.tar" ? 3u : 9u) << name;
    // A sample's files are together: KEY.jpg, KEY.json, KEY.orig.EXT.
    for (size_t i = 0; i + 2 < entries.size(); i += 3) {
      const std::string key = entries[i].first.substr(0, entries[i].first.find('.'));
      EXPECT_EQ(entries[i + 1].first, key + ".json");
      EXPECT_TRUE(entries[i + 2].first.starts_with(key + ".orig.")) << entries[i + 2].first;
    }
    for (auto& [n, bytes] : entries) all[n] = bytes;
  }
  EXPECT_FALSE(fs::exists(tmp / "out" / "00003.tar"));
  int samples = 0;
  for (const auto& n : s.image_names()) {
    const std::string key = fs::path(n).stem().string();
    ASSERT_TRUE(all.contains(key + ".json")) << key;
    const auto meta = nlohmann::json::parse(all[key + ".json"]);
    EXPECT_EQ(meta["url"], s.base_url() + "/img/" + n);
    EXPECT_EQ(meta["size"], s.image_bytes(n).size());
    EXPECT_EQ(meta["sha256"], sha256_hex(s.image_bytes(n)));
    EXPECT_EQ(all[key + ".orig.jpg"], s.image_bytes(n));
    EXPECT_EQ(all[key + ".jpg"], read_file(tmp / "out" / (key + ".jpg")).value());
    ++samples;
  }
  EXPECT_EQ(samples, 7);
  // tar(1) reads it too.
  auto listed = run_command({"/usr/bin/tar", "-tf", (tmp / "out" / "00000.tar").string()});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(count_lines_with(listed.out, ".json"), 3);
}

TEST(JobShardTar, ATarTheRunDoesNotOwnIsLeftAlone) {
  ServeConfig c;
  c.generate = 2;
  ImageServer s(c);
  s.start_in_thread();
  TempDir tmp;
  {
    std::ofstream list(tmp / "urls.txt");
    for (const auto& n : s.image_names()) list << s.base_url() << "/img/" << n << "\n";
  }
  fs::create_directories(tmp / "out");
  std::ofstream(tmp / "out" / "00000.tar") << "the user's archive";
  auto r = run_thumbfetch({"run", "--urls", (tmp / "urls.txt").string(), "-o",
                           (tmp / "out").string(), "--output-format", "tar", "-q"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not one of this run's tars"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(tmp / "out" / "00000.tar").value(), "the user's archive");
}

namespace {

// DIR/run.jsonl with an ok row per file (the file holding its own name), as a finished run leaves
// it; write_dataset_tars is then called on it directly.
void finished_run(const fs::path& dir, const std::vector<std::string>& files) {
  fs::create_directories(dir);
  std::ofstream manifest(dir / "run.jsonl");
  for (const std::string& f : files) {
    std::ofstream(dir / f) << "thumbnail " << f;
    manifest << nlohmann::json{{"url", "http://h/" + f}, {"status", "ok"}, {"file", f}}.dump()
             << "\n";
  }
}

std::vector<std::string> index_names(const fs::path& dir) {
  return nlohmann::json::parse(read_file(dir / kTarIndex).value())["tars"]
      .get<std::vector<std::string>>();
}

}  // namespace

TEST(JobShardTar, TwoStemsWithTheSameKeyStayTwoSamples) {
  TempDir tmp;
  finished_run(tmp / "out", {"a.b.jpg", "a_b.jpg", "c.jpg"});
  auto r = write_dataset_tars(tmp / "out", {.items_per_tar = 10});
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::map<std::string, std::string> all;
  for (auto& [n, bytes] : read_tar(tmp / "out" / "00000.tar")) {
    EXPECT_FALSE(all.contains(n)) << n;
    all[n] = bytes;
  }
  EXPECT_EQ(all.size(), 6u);
  EXPECT_EQ(all["a_b.jpg"], "thumbnail a.b.jpg");  // manifest order: the first keeps the key
  EXPECT_EQ(all["a_b_1.jpg"], "thumbnail a_b.jpg");
  EXPECT_EQ(nlohmann::json::parse(all["a_b_1.json"])["key"], "a_b_1");
  EXPECT_EQ(nlohmann::json::parse(all["a_b_1.json"])["url"], "http://h/a_b.jpg");
}

TEST(JobShardTar, ARerunThatPacksFewerTarsLeavesNoStaleTar) {
  TempDir tmp;
  const fs::path out = tmp / "out";
  finished_run(out, {"a.jpg", "b.jpg", "c.jpg"});
  ASSERT_TRUE(write_dataset_tars(out, {.items_per_tar = 1}).ok());
  EXPECT_EQ(index_names(out), (std::vector<std::string>{"00000.tar", "00001.tar", "00002.tar"}));
  auto r = write_dataset_tars(out, {.items_per_tar = 3});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->tars, 1);
  EXPECT_EQ(read_tar(out / "00000.tar").size(), 6u);
  EXPECT_FALSE(fs::exists(out / "00001.tar"));
  EXPECT_FALSE(fs::exists(out / "00002.tar"));
  EXPECT_EQ(index_names(out), std::vector<std::string>{"00000.tar"});
}

TEST(JobShardTar, ATarIsClaimedBeforeItIsRenamedIn) {
  TempDir tmp;
  const fs::path out = tmp / "out";
  finished_run(out, {"a.jpg", "b.jpg"});
  // The index cannot be written (a folder in its place): no tar may appear unclaimed, or every
  // later run would take it for someone else's and refuse it.
  fs::create_directories(out / kTarIndex / "x");
  EXPECT_FALSE(write_dataset_tars(out, {.items_per_tar = 1}).ok());
  EXPECT_FALSE(fs::exists(out / "00000.tar"));
  fs::remove_all(out / kTarIndex);
  // A stop after the claim and before the rename: the index names a tar that is not there.
  std::ofstream(out / kTarIndex) << R"({"tars":["00000.tar","00001.tar"]})";
  auto r = write_dataset_tars(out, {.items_per_tar = 1});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->tars, 2);
  EXPECT_EQ(index_names(out), (std::vector<std::string>{"00000.tar", "00001.tar"}));
}
