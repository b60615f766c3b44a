// Kill-and-resume: `fetch` (serial, threads, async), `thumbs` (serial, threads, processes) and
// `run` (thumbnails on threads and processes) are killed with SIGKILL at seeded moments (after
// the k-th item has landed, as its manifest shows), then run again; the end state must equal an
// undisturbed run's: the same names with the same bytes, no temp file, no partial file under a
// final name at any time, one manifest row per item and the manifest agreeing with the folder,
// and the items that had landed before the kill not done again.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <regex>

#include "support/image_fixtures.hpp"
#include "support/output_state.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"
#include "thumbfetch/fetch/manifest.hpp"
#include "thumbfetch/job/pipeline_job.hpp"
#include "thumbfetch/job/thumbs_manifest.hpp"
#include "thumbfetch/serve/image_server.hpp"

using namespace thumbfetch;
using namespace thumbfetch::test;
namespace fs = std::filesystem;

namespace {

// The fixed seeds the kill moments come from: the same moments on every run of the test.
constexpr unsigned kSeeds[] = {7, 1234};

// The k-th item to wait for, from a seed: 1 .. n/2 (the run must still be going).
int moment_from(unsigned seed, int n) {
  std::mt19937 rng(seed);
  return 1 + static_cast<int>(rng() % static_cast<unsigned>(n / 2));
}

// Which manifest a command keeps and how its rows name their file's size.
struct ManifestSpec {
  std::string name, key, bytes_field;
};
const ManifestSpec kFetchManifest{kManifestName, "url", "bytes"};
const ManifestSpec kThumbsManifest{kThumbsManifestName, "input", "bytes"};
const ManifestSpec kRunManifest{kRunManifestName, "url", "thumb_bytes"};

int skipped_in(const std::string& summary) {
  std::smatch m;
  return std::regex_search(summary, m, std::regex(R"((\d+) skipped)")) ? std::stoi(m[1]) : -1;
}

// Runs `args` (writing to `out`) undisturbed and returns what it left.
FolderState undisturbed(const std::vector<std::string>& args, const fs::path& out) {
  const CommandResult r = run_thumbfetch(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return folder_state(out);
}

// Kills `args` after the k-th item has landed, checks what the kill left, resumes and checks
// the end state against `whole`.
void kill_at_and_resume(const std::vector<std::string>& args, const fs::path& out,
                        const ManifestSpec& m, int k, int n, const FolderState& whole) {
  SCOPED_TRACE("killed after item " + std::to_string(k));
  fs::remove_all(out);
  const pid_t pid = start_thumbfetch(args);
  const fs::path manifest = out / m.name;
  const bool reached = wait_while_running(
      pid, [&] { return rows_with_status(manifest, "ok") >= k; }, 60000);
  ASSERT_TRUE(kill_and_reap(pid)) << "the run ended before it could be killed";
  ASSERT_TRUE(reached);
  // What a kill leaves: no file under a final name that is not whole (each is byte for byte
  // the undisturbed run's), and at least the k items that landed.
  const FolderState killed = folder_state(out);
  EXPECT_GE(static_cast<int>(killed.files.size()), k);
  EXPECT_LT(static_cast<int>(killed.files.size()), n) << "killed mid-run";
  for (const auto& [name, bytes] : killed.files) {
    ASSERT_TRUE(whole.files.contains(name)) << name << " is no output of this run";
    EXPECT_TRUE(whole.files.at(name) == bytes) << name << " is partial under its final name";
  }

  const CommandResult again = run_thumbfetch(args);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_GE(skipped_in(again.out), k) << "what had landed is not done again\n" << again.out;
  const FolderState end = folder_state(out);
  EXPECT_TRUE(end.files == whole.files) << "not the undisturbed run's names and bytes";
  EXPECT_TRUE(end.temp_files.empty()) << end.temp_files.front();
  EXPECT_EQ(manifest_lines(manifest), n) << "one row per item";
  EXPECT_EQ(ok_rows(manifest, m.key, m.bytes_field), sizes(end)) << "manifest vs folder";
}

ServeConfig slow_server(int n) {
  ServeConfig c;
  c.generate = n;
  c.spec.min_side = 200;
  c.spec.max_side = 400;
  c.latency_ms = 60;
  return c;
}

fs::path url_list(const fs::path& path, const ImageServer& s) {
  std::ofstream list(path);
  for (const auto& n : s.image_names()) list << s.base_url() << "/img/" << n << "\n";
  return path;
}

}  // namespace

TEST(FaultsKillResume, FetchEveryStrategy) {
  constexpr int kImages = 16;
  ImageServer s(slow_server(kImages));
  s.start_in_thread();
  TempDir tmp;
  const std::string list = url_list(tmp / "urls.txt", s).string();
  const FolderState whole =
      undisturbed({"fetch", "--urls", list, "-o", (tmp / "whole").string()}, tmp / "whole");
  ASSERT_EQ(whole.files.size(), static_cast<size_t>(kImages));
  for (const char* strategy : {"serial", "threads", "async"}) {
    SCOPED_TRACE(strategy);
    for (unsigned seed : kSeeds) {
      const fs::path out = tmp / "out";
      kill_at_and_resume(
          {"fetch", "--urls", list, "-o", out.string(), "--strategy", strategy, "-j", "2"}, out,
          kFetchManifest, moment_from(seed, kImages), kImages, whole);
    }
  }
}

TEST(FaultsKillResume, ThumbsEveryStrategy) {
  TempDir tmp;
  // Large progressive JPEGs (symlinks to one) so that a run lasts long enough to be killed.
  fs::create_directories(tmp / "in");
  write_quadrant_jpeg(tmp / "big.jpg", 2400, 1600, {.progressive = true});
  constexpr int kImages = 24;
  for (int i = 0; i < kImages; ++i) {
    fs::create_symlink(tmp / "big.jpg", tmp / "in" / ("big_" + std::to_string(i) + ".jpg"));
  }
  const auto args = [&](const fs::path& out, const char* strategy) {
    return std::vector<std::string>{
        "thumbs", (tmp / "in").string(), "-o", out.string(), "--strategy", strategy, "-j",
        "2",      "--skip-existing"};
  };
  const FolderState whole = undisturbed(args(tmp / "whole", "serial"), tmp / "whole");
  ASSERT_EQ(whole.files.size(), static_cast<size_t>(kImages));
  for (const char* strategy : {"serial", "threads", "processes"}) {
    SCOPED_TRACE(strategy);
    for (unsigned seed : kSeeds) {
      kill_at_and_resume(args(tmp / "out", strategy), tmp / "out", kThumbsManifest,
                         moment_from(seed, kImages), kImages, whole);
    }
  }
}

TEST(FaultsKillResume, RunWithThreadsAndProcesses) {
  constexpr int kImages = 16;
  ImageServer s(slow_server(kImages));
  s.start_in_thread();
  TempDir tmp;
  const std::string list = url_list(tmp / "urls.txt", s).string();
  const auto args = [&](const fs::path& out, const char* strategy) {
    return std::vector<std::string>{"run",   "--urls", list, "-o", out.string(),
                                    "-j",    "2",      "-w", "2",  "--thumb-strategy",
                                    strategy};
  };
  const FolderState whole = undisturbed(args(tmp / "whole", "serial"), tmp / "whole");
  ASSERT_EQ(whole.files.size(), static_cast<size_t>(kImages));
  for (const char* strategy : {"threads", "processes"}) {
    SCOPED_TRACE(strategy);
    for (unsigned seed : kSeeds) {
      kill_at_and_resume(args(tmp / "out", strategy), tmp / "out", kRunManifest,
                         moment_from(seed, kImages), kImages, whole);
      EXPECT_FALSE(fs::exists(tmp / "out" / ".thumbfetch-staging"));
    }
  }
}
