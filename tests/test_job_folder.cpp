// The output folder as a run owns it: made, proved writable, locked against a second run, temp
// files of dead runs cleared and a live run's never touched.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "support/temp_dir.hpp"
#include "thumbfetch/job/folder.hpp"
#include "thumbfetch/job/setup_error.hpp"
#include "thumbfetch/util/atomic_file.hpp"

using namespace thumbfetch;
namespace fs = std::filesystem;

TEST(JobFolder, ASecondRunIsRefusedAtOnceNamingTheHolder) {
  test::TempDir dir;
  OutputFolder first = OutputFolder::open(dir / "out", "thumbfetch fetch -o out", WaitForLock::no);
  try {
    OutputFolder::open(dir / "out", "thumbfetch thumbs x -o out", WaitForLock::no);
    FAIL() << "the second open should be refused";
  } catch (const FolderLockedError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("in use by another thumbfetch run"), std::string::npos) << m;
    EXPECT_NE(m.find("pid " + std::to_string(::getpid())), std::string::npos) << m;
    EXPECT_NE(m.find("thumbfetch fetch -o out"), std::string::npos) << m;
    EXPECT_NE(m.find("--wait"), std::string::npos) << m;
  }
}

TEST(JobFolder, WaitTakesTheFolderWhenTheHolderLeaves) {
  test::TempDir dir;
  auto first =
      std::make_unique<OutputFolder>(OutputFolder::open(dir / "out", "first", WaitForLock::no));
  std::jthread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    first.reset();
  });
  OutputFolder second = OutputFolder::open(dir / "out", "second", WaitForLock::yes);
  EXPECT_EQ(second.path(), dir / "out");
}

TEST(JobFolder, WaitingEndsWhenStopped) {
  test::TempDir dir;
  OutputFolder first = OutputFolder::open(dir / "out", "first", WaitForLock::no);
  std::stop_source stop;
  std::jthread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    stop.request_stop();
  });
  EXPECT_THROW(OutputFolder::open(dir / "out", "second", WaitForLock::yes, stop.get_token()),
               StoppedBeforeWork);
}

TEST(JobFolder, AFolderThatCannotBeMadeIsASetupError) {
  test::TempDir dir;
  std::ofstream(dir / "file") << "x";
  try {
    OutputFolder::open(dir / "file" / "out", "x", WaitForLock::no);
    FAIL();
  } catch (const SetupError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create the output folder"), std::string::npos);
  }
  EXPECT_THROW(OutputFolder::open(dir / "file", "x", WaitForLock::no), SetupError);
}

TEST(JobFolder, OpeningClearsDeadRunsTempFilesOnly) {
  test::TempDir dir;
  fs::create_directories(dir / "out");
  std::ofstream(dir / "out" / ".a.jpg.999999999-abcdef.tfpart") << "dead run";
  AtomicFile live(dir / "out" / "b.jpg");  // a live writer: this process
  { OutputFolder f = OutputFolder::open(dir / "out", "x", WaitForLock::no); }
  EXPECT_FALSE(fs::exists(dir / "out" / ".a.jpg.999999999-abcdef.tfpart"));
  EXPECT_TRUE(fs::exists(live.temp_path()));
  // The probe file never stays behind.
  for (const auto& e : fs::directory_iterator(dir / "out")) {
    EXPECT_EQ(e.path().filename().string().find("probe"), std::string::npos) << e.path();
  }
}

TEST(JobFolder, OutputFileChecks) {
  test::TempDir dir;
  EXPECT_NO_THROW(check_output_file("-", "JSON report"));
  EXPECT_NO_THROW(check_output_file(dir / "r.json", "JSON report"));
  EXPECT_THROW(check_output_file(dir / "missing" / "r.json", "JSON report"), SetupError);
  EXPECT_THROW(check_output_file(dir.path(), "JSON report"), SetupError);
}

TEST(JobFolder, CommandLineMasksTheClientId) {
  const char* argv[] = {"/usr/bin/thumbfetch", "fetch", "--imgur", "--imgur-client-id",
                        "secret123",           "-o",    "my dir"};
  const std::string line = command_line(7, argv);
  EXPECT_EQ(line.find("secret123"), std::string::npos) << line;
  EXPECT_NE(line.find("thumbfetch fetch --imgur"), std::string::npos) << line;
  EXPECT_NE(line.find("'my dir'"), std::string::npos) << line;
}
