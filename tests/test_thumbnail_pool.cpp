// The streaming thumbnail pool: jobs submitted while it runs, back-pressure, Ctrl-C mid-stream,
// bad images before good ones, misbehaving and unstartable worker processes; and the batch
// strategies on top of it.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "support/image_fixtures.hpp"
#include "support/temp_dir.hpp"
#include "thumbfetch/thumbnail/pool.hpp"
#include "thumbfetch/util/atomic_file.hpp"

using namespace thumbfetch;
using namespace thumbfetch::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// How long a test waits for something that should happen at once before it fails (a bound
// against hangs, never a way to synchronise).
constexpr auto kBound = 60s;

ThumbRunConfig config_for(ThumbStrategyKind kind, int workers = 2) {
  ThumbRunConfig config;
  config.workers = workers;
  config.timeout_seconds = kind == ThumbStrategyKind::processes ? 60 : 0;
  config.worker_exe = THUMBFETCH_EXE;
  return config;
}

// A good image (JPEG or PNG), different for each i.
fs::path make_image(const fs::path& dir, int i) {
  fs::create_directories(dir);
  const int w = 200 + 29 * i, h = 150 + 17 * (i % 4);
  if (i % 3 == 2) {
    const fs::path path = dir / ("img_" + std::to_string(i) + ".png");
    write_quadrant_png(path, w, h);
    return path;
  }
  const fs::path path = dir / ("img_" + std::to_string(i) + ".jpg");
  write_quadrant_jpeg(path, w, h, {.progressive = i % 2 == 1});
  return path;
}

ThumbJob job_for(const fs::path& input, const fs::path& out_dir) {
  fs::create_directories(out_dir);
  return ThumbJob{input, out_dir / input.stem()};
}

std::vector<ThumbJob> make_jobs(const TempDir& dir, int count, const std::string& out = "out") {
  std::vector<ThumbJob> jobs;
  for (int i = 0; i < count; ++i) jobs.push_back(job_for(make_image(dir / "in", i), dir / out));
  return jobs;
}

bool is_not_started(const ThumbResult& r) {
  return r.state == ThumbResult::State::failed && r.error.kind == ErrorKind::cancelled;
}

// Collects what on_result reports, thread-safely; counts every call per tag.
class Results {
 public:
  PoolResult callback() {
    return [this](std::size_t tag, const ThumbJob&, ThumbResult result) {
      std::lock_guard lock(mutex_);
      ++calls_[tag];
      results_[tag] = std::move(result);
      changed_.notify_all();
    };
  }
  // Waits (bounded) until `tag` has been settled.
  bool wait_for(std::size_t tag) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kBound, [&] { return results_.count(tag) > 0; });
  }
  bool has(std::size_t tag) {
    std::lock_guard lock(mutex_);
    return results_.count(tag) > 0;
  }
  std::map<std::size_t, ThumbResult> results() {
    std::lock_guard lock(mutex_);
    return results_;
  }
  std::map<std::size_t, int> calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::size_t, ThumbResult> results_;
  std::map<std::size_t, int> calls_;
};

// Ends the test binary with a message when a test is still running after a generous bound, so a
// pool that hangs fails its test instead of stalling the suite. The first object in each test:
// it outlives the pool, whose destructor waits too.
class Watchdog {
 public:
  Watchdog()
      : thread_([this] {
          std::unique_lock lock(mutex_);
          if (!done_cv_.wait_for(lock, 2 * kBound, [&] { return done_; })) {
            std::cerr << "FAILED: "
                      << ::testing::UnitTest::GetInstance()->current_test_info()->name()
                      << " still running after " << (2 * kBound).count() << " s: the pool hangs\n";
            std::abort();
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    done_cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace

namespace thumbfetch {
// Test names and failure messages say "threads", not "4-byte object".
void PrintTo(ThumbStrategyKind kind, std::ostream* out) {
  *out << to_string(kind);
}
}  // namespace thumbfetch

namespace {

class ThumbPoolKind : public ::testing::TestWithParam<ThumbStrategyKind> {};

std::string kind_name(const ::testing::TestParamInfo<ThumbStrategyKind>& info) {
  return std::string(to_string(info.param));
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(ThumbPool, ThumbPoolKind,
                         ::testing::Values(ThumbStrategyKind::serial, ThumbStrategyKind::threads,
                                           ThumbStrategyKind::processes),
                         kind_name);

TEST_P(ThumbPoolKind, RunsJobsSubmittedFromAnotherThreadWhileItRuns) {
  Watchdog watchdog;
  TempDir dir;
  Results results;
  ThumbPool pool(GetParam(), config_for(GetParam()), results.callback());
  EXPECT_EQ(pool.name(), to_string(GetParam()));
  EXPECT_EQ(pool.workers(), GetParam() == ThumbStrategyKind::serial ? 1 : 2);
  // Each image is made only once the previous one has been thumbnailed: the pool must work
  // while it is open, not when it is closed.
  constexpr int kImages = 6;
  std::thread producer([&] {
    for (int i = 0; i < kImages; ++i) {
      pool.submit(job_for(make_image(dir / "in", i), dir / "out"), i);
      if (!results.wait_for(i)) return;
    }
  });
  producer.join();
  ASSERT_TRUE(results.has(kImages - 1)) << "a submitted job was not run before close()";
  pool.wait();
  const auto got = results.results();
  ASSERT_EQ(got.size(), static_cast<size_t>(kImages));
  for (const auto& [tag, r] : got) {
    EXPECT_EQ(r.state, ThumbResult::State::done) << tag << ": " << r.error.message;
    EXPECT_TRUE(fs::exists(r.done.output)) << tag;
  }
  for (const auto& [tag, calls] : results.calls()) EXPECT_EQ(calls, 1) << tag;
}

TEST_P(ThumbPoolKind, SubmitBlocksWhileTheQueueIsFull) {
  Watchdog watchdog;
  TempDir dir;
  constexpr int kJobs = 12;
  constexpr int kCapacity = 1;
  const auto jobs = make_jobs(dir, kJobs);
  ThumbRunConfig config = config_for(GetParam());

  // A consumer that settles one job each time the test hands it a token. The test hands one
  // out only when the pool holds all it may (capacity queued + one per worker), so a submit()
  // that does not block shows up as more jobs accepted than settled.
  std::mutex m;
  std::condition_variable cv;
  int tokens = 0, submitted = 0, settled = 0, most_outstanding = 0;
  bool open = false, submitter_done = false;
  ThumbPool pool(
      GetParam(), config,
      [&](std::size_t, const ThumbJob&, ThumbResult) {
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return open || tokens > 0; });
        if (!open) --tokens;
        ++settled;
        cv.notify_all();
      },
      kCapacity);
  const int limit = kCapacity + pool.workers();

  std::thread submitter([&] {
    for (int i = 0; i < kJobs; ++i) {
      try {
        pool.submit(jobs[i], i);
      } catch (const std::exception& e) {  // closed by the test after a stall
        ADD_FAILURE() << e.what();
        break;
      }
      std::lock_guard lock(m);
      ++submitted;
      most_outstanding = std::max(most_outstanding, submitted - settled);
      EXPECT_LE(submitted - settled, limit) << "submit() did not block on a full queue";
      cv.notify_all();
    }
    std::lock_guard lock(m);
    submitter_done = true;
    cv.notify_all();
  });
  bool stalled = false;
  {
    std::unique_lock lock(m);
    for (;;) {
      if (!cv.wait_for(lock, kBound,
                       [&] { return submitter_done || submitted - settled >= limit; })) {
        stalled = true;  // the pool never filled up
        break;
      }
      if (submitter_done) break;
      ++tokens;
      cv.notify_all();
      if (!cv.wait_for(lock, kBound, [&] { return tokens == 0; })) {
        stalled = true;
        break;
      }
    }
    open = true;
    cv.notify_all();
  }
  if (stalled) pool.close();  // unblocks a submitter the pool never serves
  submitter.join();
  pool.wait();
  EXPECT_FALSE(stalled);
  EXPECT_EQ(settled, kJobs);
  EXPECT_EQ(most_outstanding, limit);
}

TEST_P(ThumbPoolKind, CtrlCMidStreamFinishesWhatIsRunningAndStartsNothingNew) {
  Watchdog watchdog;
  TempDir dir;
  constexpr int kQueued = 8, kLate = 4;
  const auto jobs = make_jobs(dir, kQueued + kLate);
  std::atomic<bool> cancel{false};
  ThumbRunConfig config = config_for(GetParam());
  config.cancel = &cancel;
  Results results;
  auto record = results.callback();
  ThumbPool pool(
      GetParam(), config,
      [&](std::size_t tag, const ThumbJob& job, ThumbResult r) {
        cancel = true;  // Ctrl-C as the first image lands
        record(tag, job, std::move(r));
      },
      kQueued);  // room for every job: no submit() waits here
  for (int i = 0; i < kQueued; ++i) pool.submit(jobs[i], i);
  ASSERT_TRUE(results.wait_for(0));
  // Submitted after Ctrl-C: settled at once as not started, before submit() returns.
  for (int i = kQueued; i < kQueued + kLate; ++i) {
    pool.submit(jobs[i], i);
    ASSERT_TRUE(results.has(i)) << i << " was not settled at once";
    EXPECT_TRUE(is_not_started(results.results()[i])) << i;
  }
  pool.wait();

  const auto got = results.results();
  ASSERT_EQ(got.size(), jobs.size());
  int done = 0;
  for (const auto& [tag, r] : got) {
    if (r.state == ThumbResult::State::done) {
      ++done;
      EXPECT_TRUE(fs::exists(r.done.output)) << tag;
    } else {
      EXPECT_TRUE(is_not_started(r)) << tag << ": " << r.error.message;
      EXPECT_FALSE(fs::exists(jobs[tag].output_stem.string() + ".jpg")) << tag;
    }
  }
  // Only the images in progress when the flag was set: one per worker at most.
  EXPECT_GE(done, 1);
  EXPECT_LE(done, pool.workers());
  for (const auto& [tag, calls] : results.calls()) EXPECT_EQ(calls, 1) << tag;
}

TEST_P(ThumbPoolKind, BadImagesBeforeGoodOnesFailOnlyThemselves) {
  Watchdog watchdog;
  TempDir dir;
  fs::create_directories(dir / "in");
  std::string noise(20000, '\0');
  std::mt19937 random(42);
  for (char& c : noise) c = static_cast<char>(random());
  write_text(dir / "in" / "noise.jpg", noise);
  write_truncated_jpeg(dir / "in" / "cut.jpg", 900, 600, 0.4);
  std::vector<ThumbJob> jobs = {job_for(dir / "in" / "noise.jpg", dir / "out"),
                                job_for(dir / "in" / "cut.jpg", dir / "out")};
  for (int i = 0; i < 5; ++i) jobs.push_back(job_for(make_image(dir / "in", i), dir / "out"));

  // One worker: the Thumbnailer (or worker process) that saw the bad files runs the good ones.
  Results results;
  {
    ThumbPool pool(GetParam(), config_for(GetParam(), 1), results.callback());
    for (size_t i = 0; i < jobs.size(); ++i) pool.submit(jobs[i], i);
    pool.wait();
  }
  auto got = results.results();
  ASSERT_EQ(got.size(), jobs.size());
  EXPECT_EQ(got[0].state, ThumbResult::State::failed);
  EXPECT_EQ(got[1].state, ThumbResult::State::failed);
  EXPECT_EQ(got[1].error.kind, ErrorKind::truncated) << got[1].error.message;
  for (size_t i = 2; i < jobs.size(); ++i) {
    EXPECT_EQ(got[i].state, ThumbResult::State::done) << i << ": " << got[i].error.message;
  }
}

TEST(ThumbPool, EveryKindAndWorkerCountWritesTheSameBytes) {
  Watchdog watchdog;
  TempDir dir;
  std::map<std::string, std::string> reference;
  for (auto [kind, workers] : {std::pair{ThumbStrategyKind::serial, 1},
                               {ThumbStrategyKind::threads, 3},
                               {ThumbStrategyKind::processes, 1},
                               {ThumbStrategyKind::processes, 3}}) {
    const std::string out = std::string(to_string(kind)) + std::to_string(workers);
    SCOPED_TRACE(out);
    const auto jobs = make_jobs(dir, 9, out);
    Results results;
    ThumbPool pool(kind, config_for(kind, workers), results.callback());
    for (size_t i = 0; i < jobs.size(); ++i) pool.submit(jobs[i], i);
    pool.wait();
    std::map<std::string, std::string> files;
    for (const auto& e : fs::directory_iterator(dir / out)) {
      files[e.path().filename().string()] = read_file(e.path()).value();
    }
    EXPECT_EQ(files.size(), jobs.size());
    if (reference.empty()) reference = files;
    EXPECT_TRUE(files == reference) << "outputs differ from serial";
  }
}

TEST(ThumbPool, AWorkerThatCannotStartMakesThePoolThrow) {
  Watchdog watchdog;
  for (const char* exe : {"/bin/false", "/nonexistent/thumbfetch"}) {
    SCOPED_TRACE(exe);
    TempDir dir;
    const auto jobs = make_jobs(dir, 4);
    ThumbRunConfig config = config_for(ThumbStrategyKind::processes);
    config.worker_exe = exe;
    Results results;
    size_t accepted = 0;
    std::string error;
    {
      ThumbPool pool(ThumbStrategyKind::processes, config, results.callback());
      try {
        for (size_t i = 0; i < jobs.size(); ++i) {
          pool.submit(jobs[i], i);
          ++accepted;
        }
        pool.wait();
      } catch (const std::runtime_error& e) {
        error = e.what();
      }
    }
    EXPECT_NE(error.find("cannot start"), std::string::npos) << error;
    EXPECT_NE(error.find(exe), std::string::npos) << error;
    // Every job the pool accepted was settled, as a failure.
    const auto got = results.results();
    EXPECT_EQ(got.size(), accepted);
    for (const auto& [tag, r] : got) EXPECT_EQ(r.state, ThumbResult::State::failed) << tag;
  }
}

TEST(ThumbPool, AWorkerThatCrashesGarblesOrHangsIsReplacedAndOnlyItsImageFails) {
  Watchdog watchdog;
  struct Case {
    const char* name;
    const char* misbehave;  // shell, after READY and the first request's header
    ErrorKind kind;
    const char* message;
  };
  for (const Case& c :
       {Case{"crash", "kill -KILL $$", ErrorKind::worker_crashed,
             "worker process killed by signal 9"},
        Case{"garbled", "printf 'R nonsense\\n'; exec cat 1 1 >/dev/null",
             ErrorKind::worker_crashed, "garbled answer"},
        Case{"hang", "exec sleep 3600", ErrorKind::timeout, "took longer than 1 s"},
        // Lengths that add up past 2^64, a state that is none of ours, a thumbnail somewhere
        // else than beside its stem, a stray byte and then silence: each one garbled worker.
        Case{"wrapping lengths",
             "printf 'R 0 1 1 1 1 1 0 0 18446744073709551615 2 0\\nab'; exec cat >/dev/null",
             ErrorKind::worker_crashed, "garbled answer"},
        Case{"unknown state", "printf 'R 7 1 1 1 1 1 0 99 0 0 0\\n'; exec cat >/dev/null",
             ErrorKind::worker_crashed, "garbled answer"},
        Case{"elsewhere", "printf 'R 0 1 1 1 1 4 0 0 11 0 0\\n/etc/passwd'; exec cat >/dev/null",
             ErrorKind::worker_crashed, "garbled answer"},
        Case{"stray byte", "printf 'x'; exec sleep 3600", ErrorKind::worker_crashed,
             "garbled answer"}}) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    // The first worker misbehaves on its first image; the ones started after it are real.
    const fs::path script = dir / "worker.sh";
    write_text(script,
               "#!/bin/sh\n"
               "if mkdir '" +
                   (dir / "once").string() +
                   "' 2>/dev/null; then\n"
                   "  printf 'READY\\n'\n"
                   "  IFS= read -r header\n"
                   "  " +
                   std::string(c.misbehave) +
                   "\n"
                   "fi\n"
                   "exec '" THUMBFETCH_EXE "' \"$@\"\n");
    fs::permissions(script, fs::perms::owner_all);
    const auto jobs = make_jobs(dir, 4);
    ThumbRunConfig config = config_for(ThumbStrategyKind::processes, 1);
    config.worker_exe = script;
    // The stray byte must be caught at once, with no --timeout to end the wait.
    config.timeout_seconds = std::string_view(c.name) == "stray byte" ? 0 : 1;
    Results results;
    {
      ThumbPool pool(ThumbStrategyKind::processes, config, results.callback());
      for (size_t i = 0; i < jobs.size(); ++i) pool.submit(jobs[i], i);
      pool.wait();
    }
    auto got = results.results();
    ASSERT_EQ(got.size(), jobs.size());
    EXPECT_EQ(got[0].state, ThumbResult::State::failed);
    EXPECT_EQ(got[0].error.kind, c.kind);
    EXPECT_NE(got[0].error.message.find(c.message), std::string::npos) << got[0].error.message;
    for (size_t i = 1; i < jobs.size(); ++i) {
      EXPECT_EQ(got[i].state, ThumbResult::State::done) << i << ": " << got[i].error.message;
    }
  }
}

// Workers that write anything but READY first are garbled at once: the pool neither waits for
// READY's deadline (30 s each, three times) nor for ever, and says what went wrong.
TEST(ThumbPool, WorkersThatWriteBeforeReadyFailToStartAtOnce) {
  Watchdog watchdog;
  TempDir dir;
  const fs::path script = dir / "worker.sh";
  write_text(script, "#!/bin/sh\nprintf 'x'\nexec sleep 3600\n");
  fs::permissions(script, fs::perms::owner_all);
  const auto jobs = make_jobs(dir, 2);
  ThumbRunConfig config = config_for(ThumbStrategyKind::processes, 1);
  config.worker_exe = script;
  config.timeout_seconds = 0;
  Results results;
  std::string error;
  {
    ThumbPool pool(ThumbStrategyKind::processes, config, results.callback());
    try {
      for (size_t i = 0; i < jobs.size(); ++i) pool.submit(jobs[i], i);
      pool.wait();
    } catch (const std::runtime_error& e) {
      error = e.what();
    }
  }
  EXPECT_NE(error.find("said something other than READY"), std::string::npos) << error;
}

TEST(ThumbPool, BatchStrategiesReturnResultsInJobOrderAndReportOnlyStartedImages) {
  Watchdog watchdog;
  TempDir dir;
  for (ThumbStrategyKind kind :
       {ThumbStrategyKind::serial, ThumbStrategyKind::threads, ThumbStrategyKind::processes}) {
    SCOPED_TRACE(to_string(kind));
    const std::string out = std::string(to_string(kind));
    auto jobs = make_jobs(dir, 7, out);
    jobs.insert(jobs.begin() + 3, job_for(dir / "missing.jpg", dir / out));
    std::atomic<bool> cancel{false};
    ThumbRunConfig config = config_for(kind, 3);
    config.cancel = &cancel;
    auto strategy = make_thumb_strategy(kind, config);
    EXPECT_EQ(strategy->name(), to_string(kind));

    int progress_calls = 0;
    auto results = strategy->run(jobs, [&](const ThumbJob&, const ThumbResult&) {
      ++progress_calls;  // one call at a time, says the contract
    });
    ASSERT_EQ(results.size(), jobs.size());
    EXPECT_EQ(progress_calls, static_cast<int>(jobs.size()));
    for (size_t i = 0; i < jobs.size(); ++i) {
      if (i == 3) {
        EXPECT_EQ(results[i].state, ThumbResult::State::failed);
        continue;
      }
      ASSERT_EQ(results[i].state, ThumbResult::State::done)
          << i << ": " << results[i].error.message;
      EXPECT_EQ(results[i].done.output.stem(), jobs[i].output_stem.filename()) << i;
    }

    // Interrupted before it starts: every image comes back not started, none is progress.
    cancel = true;
    progress_calls = 0;
    results = strategy->run(jobs, [&](const ThumbJob&, const ThumbResult&) { ++progress_calls; });
    ASSERT_EQ(results.size(), jobs.size());
    for (const ThumbResult& r : results) EXPECT_TRUE(is_not_started(r));
    EXPECT_EQ(progress_calls, 0);
    EXPECT_TRUE(strategy->run({}, {}).empty());
  }
}
