// Disk full: `fetch`, `thumbs` (every strategy) and `run` writing to a 2 MB tmpfs say "no space
// left on device" once, not once per item, stop (exit 1; 2 when nothing could start), leave no
// temp file and no partial file under a final name, keep a manifest that agrees with the folder,
// and finish the job when run again once there is room. Mounting needs root: skipped otherwise.
#include <gtest/gtest.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cctype>
#include <fstream>

#include "support/output_state.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"
#include "support/tmpfs_mount.hpp"
#include "thumbfetch/fetch/manifest.hpp"
#include "thumbfetch/job/pipeline_job.hpp"
#include "thumbfetch/job/thumbs_manifest.hpp"
#include "thumbfetch/serve/image_server.hpp"
#include "thumbfetch/util/jsonl_file.hpp"

using namespace thumbfetch;
using namespace thumbfetch::test;
namespace fs = std::filesystem;

namespace {

constexpr int kImages = 24;

int lines_saying_no_space(std::string err) {
  std::transform(err.begin(), err.end(), err.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return count_lines_with(err, "no space left on device");
}

// Web-sized images (together far more than 2 MB), served on 127.0.0.1 and written to `in/`.
class DiskFull : public ::testing::Test {
 protected:
  void SetUp() override {
    disk_ = std::make_unique<TmpfsMount>(tmp_ / "disk", "2m");
    if (!disk_->mounted()) GTEST_SKIP() << "disk-full tests skipped: " << disk_->skip_reason();
    ServeConfig c;
    c.generate = kImages;
    c.spec.min_side = 900;
    c.spec.max_side = 1200;
    server_ = std::make_unique<ImageServer>(c);
    server_->start_in_thread();
    std::ofstream list(tmp_ / "urls.txt");
    fs::create_directories(tmp_ / "in");
    for (const auto& n : server_->image_names()) {
      list << server_->base_url() << "/img/" << n << "\n";
      std::ofstream(tmp_ / "in" / n, std::ios::binary) << server_->image_bytes(n);
    }
  }

  // Runs `args_for(out)` undisturbed on the ordinary disk, then into the 2 MB tmpfs: the one
  // message, exit 1, only whole files, a manifest that agrees; then again with room to spare.
  template <typename Args>
  void fill_the_disk_then_resume(const Args& args_for, const std::string& manifest_name,
                                 const std::string& key, const std::string& bytes_field) {
    if (!fs::exists(tmp_ / "whole")) {  // the same outputs whatever the strategy: made once
      const CommandResult whole_run = run_thumbfetch(args_for(tmp_ / "whole"));
      ASSERT_EQ(whole_run.exit_code, 0) << whole_run.err;
    }
    const FolderState whole = folder_state(tmp_ / "whole");
    ASSERT_EQ(whole.files.size(), static_cast<size_t>(kImages));

    const fs::path out = disk_->path() / "out";
    const CommandResult r = run_thumbfetch(args_for(out));
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(lines_saying_no_space(r.err), 1) << "said once, not per item:\n" << r.err;
    const FolderState full = folder_state(out);
    EXPECT_TRUE(full.temp_files.empty()) << full.temp_files.front();
    EXPECT_LT(full.files.size(), static_cast<size_t>(kImages)) << "the disk never filled up";
    for (const auto& [name, bytes] : full.files) {
      ASSERT_TRUE(whole.files.contains(name)) << name;
      EXPECT_TRUE(whole.files.at(name) == bytes) << name << " is partial under its final name";
    }
    EXPECT_EQ(ok_rows(out / manifest_name, key, bytes_field), sizes(full)) << "manifest vs folder";

    ASSERT_TRUE(disk_->resize("256m"));
    const CommandResult again = run_thumbfetch(args_for(out));
    EXPECT_EQ(again.exit_code, 0) << again.err;
    const FolderState end = folder_state(out);
    EXPECT_TRUE(end.files == whole.files) << "not the undisturbed run's names and bytes";
    EXPECT_TRUE(end.temp_files.empty());
    EXPECT_EQ(ok_rows(out / manifest_name, key, bytes_field), sizes(end));
    fs::remove_all(out);
    ASSERT_TRUE(disk_->resize("2m"));
  }

  TempDir tmp_;
  std::unique_ptr<TmpfsMount> disk_;
  std::unique_ptr<ImageServer> server_;
};

}  // namespace

TEST_F(DiskFull, FetchStopsOnceAndResumes) {
  for (const char* strategy : {"async", "threads", "serial"}) {
    SCOPED_TRACE(strategy);
    fill_the_disk_then_resume(
        [&](const fs::path& out) {
          return std::vector<std::string>{"fetch",  "--urls",     (tmp_ / "urls.txt").string(),
                                          "-o",     out.string(), "--strategy",
                                          strategy, "-j",         "4"};
        },
        kManifestName, "url", "bytes");
  }
}

// The disk fills up just as a download lands, before its manifest row is appended: for each
// amount of room around one image's size, every final file the run leaves has its ok row (held
// and written by the final rewrite), and the run stops as for a download's full disk. A file
// with no row would be a stranger's to the next run.
TEST_F(DiskFull, AFileThatLandsAsTheDiskFillsKeepsItsManifestRow) {
  const std::string name = server_->image_names()[0];
  std::ofstream(tmp_ / "one.txt") << server_->base_url() << "/img/" << name << "\n";
  constexpr std::uint64_t kPage = 4096;
  const std::uint64_t pages = (server_->image_bytes(name).size() + kPage - 1) / kPage;
  const fs::path out = disk_->path() / "out", filler = disk_->path() / "filler";
  int landed_as_it_filled = 0;
  for (std::uint64_t room = pages; room <= pages + 5; ++room) {
    SCOPED_TRACE(room);
    fs::remove_all(out);
    fs::remove(filler);
    struct statvfs st {};
    ASSERT_EQ(::statvfs(disk_->path().c_str(), &st), 0);
    ASSERT_GT(st.f_bavail, room);
    {
      std::ofstream fill(filler, std::ios::binary);
      const std::string page(kPage, 'x');
      for (std::uint64_t i = 0; i < st.f_bavail - room; ++i) fill.write(page.data(), kPage);
    }
    const CommandResult r = run_thumbfetch({"fetch", "--urls", (tmp_ / "one.txt").string(), "-o",
                                            out.string(), "--strategy", "serial"});
    const FolderState state = folder_state(out);
    EXPECT_TRUE(state.temp_files.empty());
    EXPECT_EQ(ok_rows(out / kManifestName, "url", "bytes"), sizes(state)) << r.err;
    if (!state.files.empty() && r.exit_code == 1) ++landed_as_it_filled;
  }
  EXPECT_GT(landed_as_it_filled, 0) << "the disk never filled up just after a download";
}

TEST_F(DiskFull, ThumbsStopsOnceAndResumesEveryStrategy) {
  for (const char* strategy : {"serial", "threads", "processes"}) {
    SCOPED_TRACE(strategy);
    fill_the_disk_then_resume(
        [&](const fs::path& out) {
          return std::vector<std::string>{"thumbs",
                                          (tmp_ / "in").string(),
                                          "-o",
                                          out.string(),
                                          "--strategy",
                                          strategy,
                                          "-j",
                                          "2",
                                          "--size",
                                          "600x600",
                                          "--format",
                                          "png",
                                          "--skip-existing"};
        },
        kThumbsManifestName, "input", "bytes");
  }
}

TEST_F(DiskFull, RunStopsOnceAndResumes) {
  for (const char* strategy : {"threads", "processes"}) {
    SCOPED_TRACE(strategy);
    fill_the_disk_then_resume(
        [&](const fs::path& out) {
          return std::vector<std::string>{"run",
                                          "--urls",
                                          (tmp_ / "urls.txt").string(),
                                          "-o",
                                          out.string(),
                                          "-j",
                                          "4",
                                          "--thumb-strategy",
                                          strategy,
                                          "-w",
                                          "2",
                                          "--size",
                                          "600x600",
                                          "--format",
                                          "png"};
        },
        kRunManifestName, "url", "thumb_bytes");
  }
}

TEST_F(DiskFull, NothingCanStartExitsTwoWithOneMessage) {
  {
    // Fill every block: not even the folder's lock or probe file fits.
    std::ofstream filler(disk_->path() / "filler", std::ios::binary);
    const std::string block(1 << 16, 'x');
    while (filler.write(block.data(), block.size())) {
    }
  }
  const std::vector<std::vector<std::string>> commands = {
      {"fetch", "--urls", (tmp_ / "urls.txt").string()},
      {"thumbs", (tmp_ / "in").string()},
      {"run", "--urls", (tmp_ / "urls.txt").string()}};
  for (auto args : commands) {
    SCOPED_TRACE(args[0]);
    args.insert(args.end(), {"-o", (disk_->path() / ("out-" + args[0])).string()});
    const CommandResult r = run_thumbfetch(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(lines_saying_no_space(r.err), 1) << r.err;
    EXPECT_EQ(server_->stats().total_requests, 0u) << "nothing requested";
  }
}

TEST(DiskFullJournal, ARowTornByAFullDiskIsCutOffAndTheNextOneSurvives) {
  TempDir tmp;
  TmpfsMount disk(tmp / "disk", "1m");
  if (!disk.mounted()) GTEST_SKIP() << "disk-full tests skipped: " << disk.skip_reason();
  {
    std::ofstream filler(disk.path() / "filler", std::ios::binary);
    const std::string block(4096, 'x');
    for (int i = 0; i < 240; ++i) filler.write(block.data(), block.size());  // ~64 KiB left
  }
  JsonlFile journal(disk.path() / "rows.jsonl");
  journal.append(R"({"url":"a","status":"ok"})");
  // Larger than what is left: the write stops part-way.
  journal.append(R"({"url":"b","status":"ok","pad":")" + std::string(200 * 1024, 'p') + "\"}");
  fs::remove(disk.path() / "filler");  // room again (another item's temp file went)
  journal.append(R"({"url":"c","status":"ok"})");
  EXPECT_EQ(manifest_lines(disk.path() / "rows.jsonl"), 2) << "a and c, whole";
  EXPECT_EQ(rows_with_status(disk.path() / "rows.jsonl", "ok"), 2);
}
