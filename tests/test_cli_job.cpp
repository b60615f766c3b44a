// The cases from "Why" of the job layer, as a user meets them through the real executable: a
// user's file in the output folder is kept, same-named inputs across runs stay apart, a settings
// change is redone on resume, a second run into a busy folder is refused at once while the
// first completes untouched, and set-up problems stop the run before any work.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "support/image_fixtures.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"
#include "thumbfetch/cli/cli.hpp"
#include "thumbfetch/fetch/manifest.hpp"
#include "thumbfetch/job/thumbs_manifest.hpp"
#include "thumbfetch/serve/image_server.hpp"
#include "thumbfetch/util/atomic_file.hpp"

using namespace thumbfetch;
using namespace thumbfetch::test;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  return read_file(p).ok() ? read_file(p).value() : std::string();
}

std::vector<std::string> image_files(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.front() != '.' && !name.ends_with(".jsonl")) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

TEST(CliJob, FetchNeverReplacesAUsersFile) {
  ServeConfig c;
  c.generate = 3;
  c.spec.min_side = 48;
  c.spec.max_side = 64;
  ImageServer s(c);
  s.start_in_thread();
  TempDir tmp;
  fs::create_directories(tmp / "out");
  const std::string name = s.image_names()[0];  // img_0000.jpg
  std::ofstream(tmp / "out" / name) << "the user's own photo";
  std::ofstream(tmp / "urls.txt") << s.base_url() << "/img/" << name << "\n";
  for (int run = 0; run < 2; ++run) {  // and again: the resume keeps both apart
    auto r = run_thumbfetch(
        {"fetch", "--urls", (tmp / "urls.txt").string(), "-o", (tmp / "out").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  EXPECT_EQ(slurp(tmp / "out" / name), "the user's own photo");
  const auto rows = load_manifest(tmp / "out");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_NE(rows[0].file, name);
  EXPECT_TRUE(rows[0].file.starts_with("img_0000-")) << rows[0].file;
  EXPECT_EQ(slurp(tmp / "out" / rows[0].file), s.image_bytes(name));
}

TEST(CliJob, ADownloadTheUserReplacedIsTheirsNow) {
  ServeConfig c;
  c.generate = 2;
  c.spec.min_side = 48;
  c.spec.max_side = 64;
  ImageServer s(c);
  s.start_in_thread();
  TempDir tmp;
  const std::string name = s.image_names()[0];
  std::ofstream(tmp / "urls.txt") << s.base_url() << "/img/" << name << "\n";
  const std::vector<std::string> fetch = {"fetch", "--urls", (tmp / "urls.txt").string(), "-o",
                                          (tmp / "out").string()};
  ASSERT_EQ(run_thumbfetch(fetch).exit_code, 0);
  std::ofstream(tmp / "out" / name) << "edited by the user";  // another size: theirs now
  auto r = run_thumbfetch(fetch);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(slurp(tmp / "out" / name), "edited by the user");
  const auto rows = load_manifest(tmp / "out");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(rows[0].file.starts_with("img_0000-")) << rows[0].file;
  EXPECT_EQ(slurp(tmp / "out" / rows[0].file), s.image_bytes(name));
  // A row edited to point outside the folder is never followed.
  fs::remove(tmp / "out" / rows[0].file);
  std::ofstream(tmp / "victim.jpg") << "keep me";
  {
    std::ofstream m(tmp / "out" / "manifest.jsonl");
    m << R"({"url":")" << s.base_url() << "/img/" << name
      << R"(","file":"../victim.jpg","status":"ok","bytes":7})"
      << "\n";
  }
  ASSERT_EQ(run_thumbfetch(fetch).exit_code, 0);
  EXPECT_EQ(slurp(tmp / "victim.jpg"), "keep me");
}

TEST(CliJob, SameNamedInputsFromTwoRunsStayApart) {
  TempDir tmp;
  fs::create_directories(tmp / "day1");
  fs::create_directories(tmp / "day2");
  write_quadrant_jpeg(tmp / "day1" / "IMG_0001.jpg", 400, 300);
  write_quadrant_jpeg(tmp / "day2" / "IMG_0001.jpg", 300, 400);  // portrait: another thumbnail
  const std::string out = (tmp / "t").string();
  ASSERT_EQ(run_thumbfetch({"thumbs", (tmp / "day1").string(), "-o", out}).exit_code, 0);
  const std::string day1_thumb = slurp(tmp / "t" / "IMG_0001.jpg");
  ASSERT_FALSE(day1_thumb.empty());
  auto r = run_thumbfetch({"thumbs", (tmp / "day2").string(), "-o", out, "--skip-existing"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("1 ok, 0 failed, 0 skipped"), std::string::npos) << r.out;
  // Without the flag too: day1's thumbnail is never overwritten.
  ASSERT_EQ(run_thumbfetch({"thumbs", (tmp / "day2").string(), "-o", out}).exit_code, 0);
  EXPECT_EQ(slurp(tmp / "t" / "IMG_0001.jpg"), day1_thumb);
  const auto files = image_files(tmp / "t");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_TRUE(files[0].starts_with("IMG_0001-")) << files[0];  // '-' sorts before '.'
  EXPECT_EQ(files[1], "IMG_0001.jpg");
  EXPECT_EQ(load_thumbs_manifest(tmp / "t").size(), 2u);
}

TEST(CliJob, ResumeRedoesWhatChanged) {
  TempDir tmp;
  fs::create_directories(tmp / "in");
  write_quadrant_jpeg(tmp / "in" / "a.jpg", 640, 480);
  write_quadrant_jpeg(tmp / "in" / "b.jpg", 640, 480);
  const std::string in = (tmp / "in").string(), out = (tmp / "out").string();
  ASSERT_EQ(run_thumbfetch({"thumbs", in, "-o", out}).exit_code, 0);
  auto same = run_thumbfetch({"thumbs", in, "-o", out, "--skip-existing"});
  EXPECT_NE(same.out.find("0 ok, 0 failed, 2 skipped"), std::string::npos) << same.out;
  // Another size: every thumbnail is redone, at the new size.
  auto resized = run_thumbfetch({"thumbs", in, "-o", out, "--skip-existing", "--size", "64x64"});
  EXPECT_NE(resized.out.find("2 ok, 0 failed, 0 skipped"), std::string::npos) << resized.out;
  for (const auto& row : load_thumbs_manifest(tmp / "out")) EXPECT_EQ(row.width, 64) << row.input;
  // A changed input is redone; a touched but identical one is not.
  write_quadrant_jpeg(tmp / "in" / "a.jpg", 320, 480);
  fs::last_write_time(tmp / "in" / "b.jpg", fs::file_time_type::clock::now());
  auto changed = run_thumbfetch({"thumbs", in, "-o", out, "--skip-existing", "--size", "64x64"});
  EXPECT_NE(changed.out.find("1 ok, 0 failed, 1 skipped"), std::string::npos) << changed.out;
  // A deleted thumbnail is made again.
  fs::remove(tmp / "out" / "b.jpg");
  auto again = run_thumbfetch({"thumbs", in, "-o", out, "--skip-existing", "--size", "64x64"});
  EXPECT_NE(again.out.find("1 ok, 0 failed, 1 skipped"), std::string::npos) << again.out;
  EXPECT_TRUE(fs::exists(tmp / "out" / "b.jpg"));
}

TEST(CliJob, OwnThumbnailsAreNeverTakenAsInputs) {
  TempDir tmp;
  fs::create_directories(tmp / "photos");
  write_quadrant_jpeg(tmp / "photos" / "a.jpg", 640, 480);
  const std::string dir = (tmp / "photos").string();
  ASSERT_EQ(run_thumbfetch({"thumbs", dir, "-o", dir}).exit_code, 0);
  auto second = run_thumbfetch({"thumbs", dir, "-o", dir});
  EXPECT_NE(second.out.find("1 ok, 0 failed"), std::string::npos) << second.out;
  EXPECT_EQ(image_files(tmp / "photos").size(), 2u);  // a.jpg and its thumbnail, no third
  EXPECT_EQ(read_file(tmp / "photos" / "a.jpg").value().size() > 5000, true);  // input intact
}

TEST(CliJob, ASecondRunIntoABusyFolderIsRefusedAtOnce) {
  ServeConfig c;
  c.generate = 6;
  c.spec.min_side = 200;
  c.spec.max_side = 300;
  c.latency_ms = 300;
  ImageServer s(c);
  s.start_in_thread();
  TempDir tmp;
  {
    std::ofstream list(tmp / "urls.txt");
    for (const auto& n : s.image_names()) list << s.base_url() << "/img/" << n << "\n";
  }
  const std::string out = (tmp / "out").string();
  const pid_t first =
      start_thumbfetch({"fetch", "--urls", (tmp / "urls.txt").string(), "-o", out, "-j", "2"});
  // The first run holds the lock once its lock file names it.
  for (int i = 0;
       i < 200 && slurp(tmp / "out" / ".thumbfetch.lock").find("pid") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto start = std::chrono::steady_clock::now();
  auto second = run_thumbfetch({"fetch", "--urls", (tmp / "urls.txt").string(), "-o", out});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(900));
  EXPECT_EQ(second.exit_code, kExitUsage);
  EXPECT_NE(second.err.find("in use by another thumbfetch run (pid " + std::to_string(first)),
            std::string::npos)
      << second.err;
  EXPECT_EQ(wait_exit(first), 0);
  for (const auto& n : s.image_names()) EXPECT_EQ(slurp(tmp / "out" / n), s.image_bytes(n)) << n;
  EXPECT_EQ(load_manifest(tmp / "out").size(), s.image_names().size());
  // Every image was requested once: the refused run asked for nothing.
  for (const auto& n : s.image_names()) EXPECT_EQ(s.stats().get_count("/img/" + n), 1u) << n;
}

TEST(CliJob, SetUpProblemsStopBeforeAnyWork) {
  TempDir tmp;
  fs::create_directories(tmp / "in");
  write_quadrant_jpeg(tmp / "in" / "a.jpg", 64, 64);
  // A report path in a folder that does not exist: nothing is made, not even the output folder.
  auto r = run_thumbfetch({"thumbs", (tmp / "in").string(), "-o", (tmp / "out").string(), "--json",
                           (tmp / "nope" / "r.json").string()});
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_NE(r.err.find("r.json"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp / "out"));
  // A missing input.
  r = run_thumbfetch({"thumbs", (tmp / "missing").string(), "-o", (tmp / "out").string()});
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_NE(r.err.find("no such file or folder"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp / "out"));
  // An output folder that cannot be made.
  std::ofstream(tmp / "file") << "x";
  r = run_thumbfetch({"thumbs", (tmp / "in").string(), "-o", (tmp / "file" / "out").string()});
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_EQ(count_lines_with(r.err, "thumbfetch:"), 1) << r.err;
  // A folder given as a URL list, and an Imgur run without a Client-ID.
  r = run_thumbfetch({"fetch", "--urls", (tmp / "in").string(), "-o", (tmp / "out").string()});
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_NE(r.err.find("is a folder"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp / "out"));
}
