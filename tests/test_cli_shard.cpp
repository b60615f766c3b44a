// Sharded runs through the real executable against a real server: shards killed and resumed,
// `status` naming what is left, `merge` giving one ok row per URL, and the same thumbnails as a
// single-machine run, byte for byte.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "support/run_command.hpp"
#include "support/temp_dir.hpp"
#include "thumbfetch/cli/cli.hpp"
#include "thumbfetch/serve/image_server.hpp"
#include "thumbfetch/util/atomic_file.hpp"

using namespace thumbfetch;
using namespace thumbfetch::test;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  auto r = read_file(p);
  return r ? *r : std::string();
}

std::vector<nlohmann::json> rows(const fs::path& p) {
  std::vector<nlohmann::json> out;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct Served {
  ImageServer server;
  TempDir tmp;
  explicit Served(ServeConfig c) : server(std::move(c)) {
    server.start_in_thread();
    std::ofstream list(tmp / "urls.txt");
    for (const auto& n : server.image_names()) list << server.base_url() << "/img/" << n << "\n";
  }
  std::string list() const { return (tmp / "urls.txt").string(); }
};

ServeConfig small_images(int n) {
  ServeConfig c;
  c.generate = n;
  c.spec.min_side = 48;
  c.spec.max_side = 96;
  return c;
}

}  // namespace

TEST(CliShard, ShardsKilledAndResumedMergeToTheSingleRun) {
  ServeConfig c = small_images(24);
  c.latency_ms = 300;
  Served s(c);
  const std::string out = (s.tmp / "out").string();
  // Shard 1 is killed while its downloads wait on the server.
  const pid_t victim =
      start_thumbfetch({"run", "--urls", s.list(), "-o", out, "--shard", "1/3", "-j", "1"});
  const fs::path lock = s.tmp / "out" / "parts" / "1-of-3" / ".thumbfetch.lock";
  for (int i = 0; i < 500 && slurp(lock).find("pid") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto st = run_thumbfetch({"status", out});
  EXPECT_EQ(st.exit_code, kExitSomeFailed);
  EXPECT_NE(st.out.find("running: 1"), std::string::npos) << st.out;
  EXPECT_NE(st.out.find("resubmit: --array=0,2"), std::string::npos) << st.out;
  ::kill(victim, SIGKILL);
  wait_exit(victim);
  EXPECT_FALSE(fs::exists(s.tmp / "out" / "parts" / "1-of-3" / "DONE"));
  for (const char* k : {"0/3", "2/3"}) {
    auto r = run_thumbfetch({"run", "--urls", s.list(), "-o", out, "--shard", k, "-q"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  st = run_thumbfetch({"status", out});
  EXPECT_EQ(st.exit_code, kExitSomeFailed);
  EXPECT_NE(st.out.find("failed: 1\n"), std::string::npos) << st.out;
  EXPECT_NE(st.out.find("resubmit: --array=1\n"), std::string::npos) << st.out;
  auto m = run_thumbfetch({"merge", out});
  EXPECT_EQ(m.exit_code, kExitSomeFailed);
  EXPECT_NE(m.err.find("(1)"), std::string::npos) << m.err;
  // The resubmitted task, as a scheduler starts it.
  auto r = run_thumbfetch(
      {"run", "--urls", s.list(), "-o", out, "--shard-from-env", "--shard-count", "3", "-q"},
      {"SLURM_ARRAY_TASK_ID=1", "SLURM_ARRAY_TASK_COUNT=1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  st = run_thumbfetch({"status", out});
  EXPECT_EQ(st.exit_code, 0) << st.out;
  m = run_thumbfetch({"merge", out});
  ASSERT_EQ(m.exit_code, 0) << m.err;

  const std::string single = (s.tmp / "single").string();
  ASSERT_EQ(run_thumbfetch({"run", "--urls", s.list(), "-o", single, "-q"}).exit_code, 0);
  std::set<std::string> urls;
  for (const auto& row : rows(s.tmp / "out" / "merged.jsonl")) {
    EXPECT_EQ(row["status"], "ok") << row.dump();
    EXPECT_TRUE(urls.insert(row["url"].get<std::string>()).second) << row["url"];
    const std::string file = row["file"];
    const std::string name = fs::path(file).filename().string();
    EXPECT_FALSE(slurp(s.tmp / "out" / file).empty()) << file;
    EXPECT_EQ(slurp(s.tmp / "out" / file), slurp(s.tmp / "single" / name)) << file;
  }
  EXPECT_EQ(urls.size(), s.server.image_names().size());
  const auto summary = nlohmann::json::parse(slurp(s.tmp / "out" / "summary.json"));
  EXPECT_EQ(summary["ok"], 24);
  EXPECT_EQ(summary["per_shard"][1]["attempts"], 1);  // the killed attempt left no row
}

TEST(CliShard, ARequeuedDoneShardAndAnEmptyShardDoNothing) {
  Served s(small_images(2));
  const std::string out = (s.tmp / "out").string();
  for (int k = 0; k < 5; ++k) {  // N > lines: three shards hold no line
    auto r = run_thumbfetch(
        {"run", "--urls", s.list(), "-o", out, "--shard", fmt::format("{}/5", k), "-q"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  EXPECT_EQ(run_thumbfetch({"status", out}).exit_code, 0);
  auto again = run_thumbfetch({"run", "--urls", s.list(), "-o", out, "--shard", "4/5"});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_NE(again.out.find("done already"), std::string::npos) << again.out;
  for (const auto& n : s.server.image_names()) {
    EXPECT_EQ(s.server.stats().get_count("/img/" + n), 1u) << n;
  }
  // Another N into the same folder: refused before any work.
  auto other = run_thumbfetch({"run", "--urls", s.list(), "-o", out, "--shard", "0/4"});
  EXPECT_EQ(other.exit_code, kExitUsage);
  EXPECT_NE(other.err.find("N=5"), std::string::npos) << other.err;
  EXPECT_FALSE(fs::exists(s.tmp / "out" / "parts" / "0-of-4"));
}

// A list shorter in bytes than N: the shards whose range is empty at the start of the list once
// read the whole list (an empty range [0, 0) was taken for "to the end"): 3 of 64 fetched it.
TEST(CliShard, MoreShardsThanBytesFetchTheOneUrlOnce) {
  Served s(small_images(1));
  const std::string out = (s.tmp / "out").string();
  for (int k = 0; k < 64; ++k) {
    auto r = run_thumbfetch(
        {"fetch", "--urls", s.list(), "-o", out, "--shard", fmt::format("{}/64", k), "-q"});
    ASSERT_EQ(r.exit_code, 0) << k << ": " << r.err;
  }
  EXPECT_EQ(s.server.stats().get_count("/img/" + s.server.image_names()[0]), 1u);
  EXPECT_EQ(run_thumbfetch({"status", out}).exit_code, 0);
}

TEST(CliShard, FetchShardsMergeWithTheirFilesFromTheTop) {
  Served s(small_images(6));
  const std::string out = (s.tmp / "out").string();
  for (const char* k : {"0/2", "1/2"}) {
    auto r = run_thumbfetch({"fetch", "--urls", s.list(), "-o", out, "--shard", k, "-q"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  EXPECT_TRUE(fs::exists(s.tmp / "out" / "parts" / "0-of-2" / "manifest.jsonl"));
  auto m = run_thumbfetch({"merge", out});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  const auto merged = rows(s.tmp / "out" / "merged.jsonl");
  ASSERT_EQ(merged.size(), 6u);
  for (const auto& row : merged) {
    const std::string file = row["file"];
    EXPECT_TRUE(file.starts_with("parts/")) << file;
    EXPECT_EQ(slurp(s.tmp / "out" / file),
              s.server.image_bytes(fs::path(file).filename().string()));
  }
}

TEST(CliShard, CountIsRefusedWithAShardAndQuietMeansQuiet) {
  Served s(small_images(1));
  const std::string out = (s.tmp / "out").string();
  for (const char* command : {"run", "fetch"}) {
    auto r = run_thumbfetch({command, "--urls", s.list(), "-o", out, "--shard", "0/2", "-n", "1"});
    EXPECT_EQ(r.exit_code, kExitUsage) << command << r.err;
    EXPECT_EQ(count_lines_with(r.err, "-n/--count"), 1) << r.err;  // one message
    EXPECT_FALSE(fs::exists(s.tmp / "out" / "parts")) << command;
  }
  // One line, two shards: 1/2 holds none, and then it is done already; -q prints neither.
  for (int i = 0; i < 2; ++i) {
    auto r = run_thumbfetch({"run", "--urls", s.list(), "-o", out, "--shard", "1/2", "-q"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "") << i;
  }
}

TEST(CliShard, AManifestThatCannotBeWrittenIsAFailureAndNoShardIsDone) {
  Served s(small_images(2));
  const fs::path part = s.tmp / "out" / "parts" / "0-of-1";
  // A folder where the manifest goes: the commit's rename onto it fails.
  fs::create_directories(part / "manifest.jsonl" / "x");
  auto r = run_thumbfetch(
      {"fetch", "--urls", s.list(), "-o", (s.tmp / "out").string(), "--shard", "0/1"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("cannot write the manifest"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(part / "DONE"));
  // The progress line names the shard's folder, not the root.
  EXPECT_NE(r.out.find("into " + part.string()), std::string::npos) << r.out;
}
