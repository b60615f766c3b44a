// `thumbfetch thumbs` as a user runs it: the real executable, real files, exit codes, one line
// per bad file, identical bytes from every strategy, crashes and kills survived.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/image_fixtures.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"
#include "thumbfetch/util/atomic_file.hpp"
#include "thumbfetch/util/child_process.hpp"
#include "thumbfetch/util/json_bytes.hpp"
#include "thumbfetch/util/sha256.hpp"

using namespace thumbfetch;
using namespace thumbfetch::test;
namespace fs = std::filesystem;

namespace {

// A folder of good images (JPEG and PNG, various sizes) named img_00.jpg ...
void make_good_images(const fs::path& dir, int count) {
  fs::create_directories(dir);
  for (int i = 0; i < count; ++i) {
    const int w = 300 + 37 * i, h = 200 + 23 * (i % 5);
    if (i % 4 == 3) {
      write_quadrant_png(dir / ("img_" + std::to_string(10 + i) + ".png"), w, h);
    } else {
      write_quadrant_jpeg(dir / ("img_" + std::to_string(10 + i) + ".jpg"), w, h,
                          {.progressive = i % 2 == 1, .orientation = 1 + i % 8});
    }
  }
}

std::map<std::string, std::string> files_in(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.front() == '.' || name.ends_with(".jsonl")) continue;  // lock, manifest
    out[name] = read_file(e.path()).value();
  }
  return out;
}

std::vector<std::string> args_for(const fs::path& in, const fs::path& out,
                                  std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"thumbs", in.string(), "-o", out.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

}  // namespace

TEST(CliThumbs, AllGoodExitsZeroWithASummary) {
  TempDir dir;
  make_good_images(dir / "in", 6);
  auto r = run_thumbfetch(args_for(dir / "in", dir / "out"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("6 ok, 0 failed, 0 skipped"), std::string::npos) << r.out;
  EXPECT_EQ(files_in(dir / "out").size(), 6u);
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST(CliThumbs, EachBadFileGetsOneLineAndTheBatchGoesOn) {
  TempDir dir;
  make_good_images(dir / "in", 3);
  write_text(dir / "in" / "empty.jpg", "");
  write_text(dir / "in" / "page.jpg", "<html><body>Service Unavailable</body></html>");
  write_truncated_jpeg(dir / "in" / "cut.jpg", 400, 300, 0.4);
  write_png_header_only(dir / "in" / "bomb.png", 100000, 100000);
  for (const char* strategy : {"serial", "threads", "processes"}) {
    SCOPED_TRACE(strategy);
    const fs::path out = dir / (std::string("out-") + strategy);
    const std::string jobs = std::string(strategy) == "serial" ? "1" : "2";  // no -j warning
    auto r = run_thumbfetch(args_for(dir / "in", out, {"--strategy", strategy, "-j", jobs}));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(count_lines_with(r.err, "empty.jpg: not an image (empty file)"), 1) << r.err;
    EXPECT_EQ(count_lines_with(r.err, "page.jpg: not an image (text/html)"), 1) << r.err;
    EXPECT_EQ(count_lines_with(r.err, "cut.jpg: truncated"), 1) << r.err;
    EXPECT_EQ(count_lines_with(r.err, "bomb.png: too many pixels"), 1) << r.err;
    EXPECT_EQ(count_lines_with(r.err, ": "), 4) << "exactly one line per bad file:\n" << r.err;
    EXPECT_NE(r.out.find("3 ok, 4 failed, 0 skipped"), std::string::npos) << r.out;
    EXPECT_EQ(files_in(out).size(), 3u);
  }
}

TEST(CliThumbs, UsageErrorsExitTwo) {
  TempDir dir;
  EXPECT_EQ(run_thumbfetch({"thumbs", "-o", (dir / "o").string()}).exit_code, 2);  // no input
  EXPECT_EQ(run_thumbfetch({"thumbs", "x.jpg"}).exit_code, 2);                     // no -o
  auto bad_size = run_thumbfetch({"thumbs", "x.jpg", "-o", (dir / "o").string(), "--size", "0x5"});
  EXPECT_EQ(bad_size.exit_code, 2);
  EXPECT_NE(bad_size.err.find("--size"), std::string::npos) << bad_size.err;
  EXPECT_EQ(run_thumbfetch({"thumbs", "x.jpg", "-o", "o", "--strategy", "fibers"}).exit_code, 2);
  EXPECT_EQ(run_thumbfetch({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(run_thumbfetch({"--help"}).exit_code, 0);
}

TEST(CliThumbs, EveryStrategyAndWorkerCountWritesTheSameBytes) {
  TempDir dir;
  make_good_images(dir / "in", 12);
  std::map<std::string, std::string> reference;
  for (auto [strategy, jobs] : {std::pair{"serial", "1"},
                                {"threads", "1"},
                                {"threads", "3"},
                                {"processes", "1"},
                                {"processes", "3"}}) {
    SCOPED_TRACE(std::string(strategy) + " -j " + jobs);
    const fs::path out = dir / (std::string(strategy) + jobs);
    auto r = run_thumbfetch(args_for(dir / "in", out, {"--strategy", strategy, "-j", jobs}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto files = files_in(out);
    EXPECT_EQ(files.size(), 12u);
    if (reference.empty()) reference = files;
    EXPECT_TRUE(files == reference) << "outputs differ from serial";
  }
}

TEST(CliThumbs, AWorkerCrashFailsOnlyItsImage) {
  TempDir dir;
  make_good_images(dir / "in", 8);
  auto r = run_hooked_thumbfetch(
      args_for(dir / "in", dir / "out", {"--strategy", "processes", "-j", "2"}),
      {"THUMBFETCH_TEST_ABORT_ON=img_13"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines_with(r.err, "img_13.png: worker process killed by signal 6"), 1) << r.err;
  EXPECT_EQ(count_lines_with(r.err, ": "), 1) << r.err;
  EXPECT_NE(r.out.find("7 ok, 1 failed"), std::string::npos) << r.out;
  auto files = files_in(dir / "out");
  EXPECT_EQ(files.size(), 7u);
  EXPECT_EQ(files.count("img_13.png") + files.count("img_13.jpg"), 0u);
}

TEST(CliThumbs, AHungWorkerIsReplacedAfterTheTimeout) {
  TempDir dir;
  make_good_images(dir / "in", 5);
  const auto start = std::chrono::steady_clock::now();
  auto r = run_hooked_thumbfetch(
      args_for(dir / "in", dir / "out", {"--strategy", "processes", "-j", "2", "--timeout", "1"}),
      {"THUMBFETCH_TEST_HANG_ON=img_11"});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines_with(r.err, "img_11.jpg: timeout: took longer than 1 s"), 1) << r.err;
  EXPECT_NE(r.out.find("4 ok, 1 failed"), std::string::npos) << r.out;
  EXPECT_LT(seconds, 30) << "the hung worker must not hold the run";
}

// The hooks live only in the test build: the release executable reads no THUMBFETCH_TEST_*.
TEST(CliThumbs, TheReleaseExecutableHasNoTestHooks) {
  TempDir dir;
  make_good_images(dir / "in", 4);
  auto r = run_thumbfetch(args_for(dir / "in", dir / "out", {"--strategy", "processes", "-j", "2"}),
                          {"THUMBFETCH_TEST_ABORT_ON=img_1", "THUMBFETCH_TEST_HANG_ON=img_1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(files_in(dir / "out").size(), 4u) << r.err;
}

// A run killed with SIGKILL takes its workers with it, even one stuck on an image (it never reads
// its stdin again, so only the hang-up of that pipe can tell it).
TEST(CliThumbs, AKilledRunTakesAHungWorkerWithIt) {
  TempDir dir;
  make_good_images(dir / "in", 3);
  const fs::path hanging = dir / "hanging.pid";
  std::vector<std::string> argv = {"/usr/bin/env", "THUMBFETCH_TEST_HANG_ON=img_10",
                                   "THUMBFETCH_TEST_HANGING=" + hanging.string(),
                                   THUMBFETCH_HOOKED_EXE};
  for (const std::string& a :
       args_for(dir / "in", dir / "out", {"--strategy", "processes", "-j", "1", "-q"})) {
    argv.push_back(a);
  }
  auto run = ChildProcess::spawn(argv);
  ASSERT_TRUE(run) << run.error().message;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(hanging) && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // awaiting a file: no event
  }
  ASSERT_TRUE(fs::exists(hanging)) << "the worker never reached the image it hangs on";
  pid_t worker = 0;
  std::ifstream(hanging) >> worker;
  ASSERT_GT(worker, 0);
  run->kill(SIGKILL);
  EXPECT_EQ(run->wait(), "killed by signal 9 (Killed)");
  // Gone, or a zombie waiting for a reaper that is not us.
  auto alive = [&] {
    std::ifstream stat("/proc/" + std::to_string(worker) + "/stat");
    std::string pid, comm, state;
    return stat >> pid >> comm >> state && state != "Z" && state != "X";
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (alive() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_FALSE(alive()) << "worker " << worker << " outlived its run";
  if (alive()) ::kill(worker, SIGKILL);
}

// A FIFO given among good images (opening it would wait for a writer for ever) and a file far
// past the input cap (a sparse one: no disk used) each fail on their own line; the rest of the
// batch is done, under every strategy. Bounded by timeout(1): a hang fails the test.
TEST(CliThumbs, AFifoAndAHugeFileFailAloneWithoutBeingRead) {
  TempDir dir;
  make_good_images(dir / "in", 3);
  const fs::path fifo = dir / "pipe.jpg";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const fs::path huge = dir / "huge.jpg";
  std::ofstream(huge).close();
  fs::resize_file(huge, std::uint64_t{600} << 20);  // over 400 MB, the default cap
  for (const char* strategy : {"serial", "threads", "processes"}) {
    SCOPED_TRACE(strategy);
    const fs::path out = dir / (std::string("out-") + strategy);
    auto args = args_for(dir / "in", out, {"--strategy", strategy, "-j", "2"});
    args.insert(args.begin() + 2, {fifo.string(), huge.string()});
    std::vector<std::string> argv = {"/usr/bin/timeout", "60", thumbfetch_exe()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_command(argv);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(count_lines_with(r.err, "pipe.jpg: unreadable: not a regular file (a FIFO)"), 1)
        << r.err;
    EXPECT_EQ(count_lines_with(
                  r.err, "huge.jpg: too large: 629145600 bytes, more than the 400000000 allowed"),
              1)
        << r.err;
    EXPECT_NE(r.out.find("3 ok, 2 failed"), std::string::npos) << r.out;
    EXPECT_EQ(files_in(out).size(), 3u);
  }
}

TEST(CliThumbs, SkipExistingResumes) {
  TempDir dir;
  make_good_images(dir / "in", 4);
  ASSERT_EQ(run_thumbfetch(args_for(dir / "in", dir / "out")).exit_code, 0);
  fs::remove(dir / "out" / "img_10.jpg");
  auto r = run_thumbfetch(args_for(dir / "in", dir / "out", {"--skip-existing"}));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("1 ok, 0 failed, 3 skipped"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(dir / "out" / "img_10.jpg"));
}

TEST(CliThumbs, NameCollisionsGetStableDistinctNames) {
  TempDir dir;
  fs::create_directories(dir / "a");
  fs::create_directories(dir / "b");
  write_quadrant_jpeg(dir / "a" / "photo.jpg", 300, 200);
  write_quadrant_png(dir / "b" / "photo.png", 300, 200);
  auto args = args_for(dir / "a", dir / "out");
  args.insert(args.begin() + 2, (dir / "b").string());
  ASSERT_EQ(run_thumbfetch(args).exit_code, 0);
  auto first = files_in(dir / "out");
  ASSERT_EQ(first.size(), 2u);
  // The first input keeps the plain name; the clash takes a suffix from its own path's hash.
  EXPECT_EQ(first.count("photo.jpg"), 1u);
  EXPECT_TRUE(std::any_of(first.begin(), first.end(),
                          [](const auto& f) { return f.first.starts_with("photo-"); }));
  fs::remove_all(dir / "out");
  ASSERT_EQ(run_thumbfetch(args).exit_code, 0);
  EXPECT_TRUE(files_in(dir / "out") == first) << "names and bytes are the same on every run";
}

TEST(CliThumbs, AddingAnInputNeverMakesResumeKeepTheWrongThumbnail) {
  TempDir dir;
  fs::create_directories(dir / "in");
  write_quadrant_png(dir / "in" / "photo.png", 300, 200);
  ASSERT_EQ(run_thumbfetch(args_for(dir / "in", dir / "out")).exit_code, 0);
  const std::string png_thumb = read_file(dir / "out" / "photo.jpg").value();
  // A JPEG of the same stem arrives (and sorts first): it must get its own thumbnail, and the
  // PNG's, still right, is kept under its name.
  write_quadrant_jpeg(dir / "in" / "photo.jpg", 200, 300);
  auto r = run_thumbfetch(args_for(dir / "in", dir / "out", {"--skip-existing"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("1 ok, 0 failed, 1 skipped"), std::string::npos) << r.out;
  EXPECT_EQ(read_file(dir / "out" / "photo.jpg").value(), png_thumb);
  EXPECT_EQ(files_in(dir / "out").size(), 2u);
}

TEST(CliThumbs, InputsReachedThroughSymlinksAreNeverOverwritten) {
  TempDir dir;
  fs::create_directories(dir / "real");
  write_quadrant_jpeg(dir / "real" / "a.jpg", 800, 600);
  fs::create_directory_symlink(dir / "real", dir / "link");
  const std::string before = read_file(dir / "real" / "a.jpg").value();
  auto r =
      run_thumbfetch({"thumbs", (dir / "link" / "a.jpg").string(), "-o", (dir / "real").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(dir / "real" / "a.jpg").value(), before);
}

TEST(CliThumbs, OutputNextToTheInputsNeverOverwritesThem) {
  TempDir dir;
  make_good_images(dir / "in", 3);
  auto before = files_in(dir / "in");
  auto r = run_thumbfetch(args_for(dir / "in", dir / "in"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto after = files_in(dir / "in");
  for (const auto& [name, bytes] : before) EXPECT_EQ(after[name], bytes) << name;
  EXPECT_EQ(after.size(), 6u);
}

namespace {

// Many large inputs (symlinks to one big file) so a run is still going when it is stopped.
int make_slow_batch(const TempDir& dir) {
  make_good_images(dir / "in", 4);
  write_quadrant_jpeg(dir / "big.jpg", 2400, 1600, {.progressive = true});
  for (int i = 0; i < 100; ++i) {
    fs::create_symlink(dir / "big.jpg", dir / "in" / ("big_" + std::to_string(i) + ".jpg"));
  }
  return 104;
}

// Waits (bounded) until `dir` holds at least one thumbnail: the run is in its middle.
void wait_for_first_output(const fs::path& dir) {
  for (int i = 0; i < 3000; ++i) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      const std::string name = e.path().filename().string();
      if (name.front() != '.' && !name.ends_with(".jsonl")) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// Every file under a final name decodes completely; returns how many there are and how many
// temp files there are.
std::pair<int, int> check_outputs(const fs::path& out) {
  int finals = 0, temps = 0;
  for (const auto& e : fs::directory_iterator(out)) {
    const std::string name = e.path().filename().string();
    if (is_temp_file_name(name)) {
      ++temps;
      continue;
    }
    if (name.front() == '.' || name.ends_with(".jsonl")) continue;  // the lock, the manifest
    ++finals;
    vips::VImage img = vips::VImage::new_from_file(
        e.path().c_str(), vips::VImage::option()->set("fail_on", VIPS_FAIL_ON_WARNING));
    EXPECT_GT(img.avg(), 0) << name << " must decode completely";
  }
  return {finals, temps};
}

}  // namespace

TEST(CliThumbs, CtrlCFinishesWhatIsInProgressAndExits130) {
  TempDir dir;
  const int total = make_slow_batch(dir);
  for (const char* strategy : {"serial", "threads", "processes"}) {
    SCOPED_TRACE(strategy);
    const fs::path out = dir / (std::string("out-") + strategy);
    pid_t pid = start_thumbfetch(args_for(dir / "in", out, {"--strategy", strategy, "-j", "2"}));
    wait_for_first_output(out);
    kill(pid, SIGINT);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 130);
    auto [finals, temps] = check_outputs(out);
    EXPECT_EQ(temps, 0) << "images in progress were finished, not abandoned";
    EXPECT_LT(finals, total);
    auto r = run_thumbfetch(args_for(dir / "in", out, {"--skip-existing"}));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(std::to_string(finals) + " skipped"), std::string::npos) << r.out;
  }
}

TEST(CliThumbs, JsonReportListsEveryImage) {
  TempDir dir;
  make_good_images(dir / "in", 3);
  write_text(dir / "in" / "bad.jpg", "nope");
  auto r = run_thumbfetch(args_for(dir / "in", dir / "out", {"--json", (dir / "r.json").string()}));
  EXPECT_EQ(r.exit_code, 1);
  std::string json = read_file(dir / "r.json").value();
  EXPECT_NE(json.find("\"ok\": 3"), std::string::npos) << json;
  EXPECT_NE(json.find("\"failed\": 1"), std::string::npos);
  EXPECT_NE(json.find("not an image"), std::string::npos);
  EXPECT_NE(json.find("wall_seconds"), std::string::npos);
}

// A file name that is not UTF-8 (Latin-1 "café"): --json stays valid JSON and gives the exact
// name in input_hex, and a second run resumes it rather than redoing it.
TEST(CliThumbs, NonUtf8FileNamesReportAndResume) {
  TempDir dir;
  make_good_images(dir / "in", 2);
  const std::string latin1 = "caf\xe9.jpg";
  fs::rename(dir / "in" / "img_10.jpg", dir / "in" / latin1);
  for (int run = 0; run < 2; ++run) {
    SCOPED_TRACE(run);
    const fs::path report = dir / ("r" + std::to_string(run) + ".json");
    auto r = run_thumbfetch(
        args_for(dir / "in", dir / "out", {"--skip-existing", "--json", report.string()}));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(run == 0 ? "2 ok, 0 failed, 0 skipped" : "0 ok, 0 failed, 2 skipped"),
              std::string::npos)
        << r.out;
    const std::string json = read_file(report).value();
    const auto parsed = nlohmann::json::parse(json, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << json;
    bool found = false;
    for (const auto& item : parsed["items"]) {
      if (item.contains("input_hex")) {
        found = true;
        EXPECT_EQ(unhex_bytes(item["input_hex"].get<std::string>()),
                  (dir / "in" / latin1).string());
      }
    }
    EXPECT_TRUE(found) << json;
  }
}

TEST(CliThumbs, WorkersGetEveryOptionTheParentGot) {
  TempDir dir;
  make_good_images(dir / "in", 6);
  const std::vector<std::string> options = {"--reducing-gap", "1",     "--size",    "96x64",
                                            "--mode",         "cover", "--quality", "70"};
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.end(), options.begin(), options.end());
    return extra;
  };
  ASSERT_EQ(run_thumbfetch(args_for(dir / "in", dir / "serial", with({"--strategy", "serial"})))
                .exit_code,
            0);
  ASSERT_EQ(run_thumbfetch(args_for(dir / "in", dir / "processes",
                                    with({"--strategy", "processes", "-j", "2"})))
                .exit_code,
            0);
  ASSERT_EQ(run_thumbfetch(args_for(dir / "in", dir / "default", {"--size", "96x64"})).exit_code,
            0);
  EXPECT_TRUE(files_in(dir / "serial") == files_in(dir / "processes"));
  EXPECT_FALSE(files_in(dir / "serial") == files_in(dir / "default")) << "the options took effect";
}

TEST(CliThumbs, WorkersSurviveLibrariesThatPrint) {
  TempDir dir;
  fs::create_directories(dir / "in");
  write_quadrant_webp(dir / "in" / "a.webp", 600, 400);
  write_quadrant_webp(dir / "in" / "b.webp", 400, 600);
  // libvips and GLib chatter on stdout/stderr when asked to; the worker protocol must not care.
  auto r = run_thumbfetch(args_for(dir / "in", dir / "out", {"--strategy", "processes"}),
                          {"VIPS_INFO=1", "G_MESSAGES_DEBUG=all"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(files_in(dir / "out").size(), 2u);
}

// The manifest's input_sha256 is the SHA-256 of the input, under every strategy (the worker
// hashes the bytes it decoded; processes send it back over the pipe), for a bad image as for a
// good one; and a resume of touched inputs (new mtime, same bytes: only the digest can tell)
// skips every image that was done.
TEST(CliThumbs, TheManifestHashesEveryInputUnderEveryStrategy) {
  TempDir dir;
  make_good_images(dir / "in", 6);
  write_text(dir / "in" / "bad.jpg", "\xFF\xD8\xFF\xE0 cut short");
  for (const char* strategy : {"serial", "threads", "processes"}) {
    SCOPED_TRACE(strategy);
    const fs::path out = dir / (std::string("out-") + strategy);
    auto r = run_thumbfetch(args_for(dir / "in", out, {"--strategy", strategy, "-j", "2"}));
    ASSERT_EQ(r.exit_code, 1) << r.err;
    std::ifstream manifest(out / "thumbs.jsonl");
    int rows = 0;
    for (std::string line; std::getline(manifest, line);) {
      const auto row = nlohmann::json::parse(line);
      if (row.value("status", "") == "pending") continue;
      ++rows;
      const std::string input = row.at("input").get<std::string>();
      EXPECT_EQ(row.value("input_sha256", ""), sha256_hex(read_file(input).value())) << input;
    }
    EXPECT_EQ(rows, 7);
    for (const auto& e : fs::directory_iterator(dir / "in")) {
      fs::last_write_time(e.path(), fs::last_write_time(e.path()) + std::chrono::seconds(5));
    }
    r = run_thumbfetch(
        args_for(dir / "in", out, {"--strategy", strategy, "-j", "2", "--skip-existing"}));
    EXPECT_NE(r.out.find("0 ok, 1 failed, 6 skipped"), std::string::npos) << r.out;
  }
}
