#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "support/temp_dir.hpp"
#include "thumbfetch/util/atomic_file.hpp"

using namespace thumbfetch;
namespace fs = std::filesystem;

namespace {

std::span<const unsigned char> bytes(const std::string& s) {
  return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};
}

size_t file_count(const fs::path& dir) {
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

}  // namespace

TEST(AtomicFile, AppearsOnlyOnCommit) {
  test::TempDir dir;
  const fs::path target = dir / "out.jpg";
  {
    AtomicFile file(target);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE(file.write(bytes("hello")).ok());
    EXPECT_FALSE(fs::exists(target));
    EXPECT_TRUE(is_temp_file_name(file.temp_path().filename().string()));
    ASSERT_TRUE(file.commit().ok());
  }
  EXPECT_EQ(read_file(target).value(), "hello");
  EXPECT_EQ(file_count(dir.path()), 1u);
}

TEST(AtomicFile, AbandonedFileLeavesNothing) {
  test::TempDir dir;
  {
    AtomicFile file(dir / "out.jpg");
    ASSERT_TRUE(file.write(bytes("partial")).ok());
  }
  EXPECT_EQ(file_count(dir.path()), 0u);
}

TEST(AtomicFile, ReplacesAnExistingFileWhole) {
  test::TempDir dir;
  ASSERT_TRUE(write_file_atomically(dir / "a", bytes("old contents")).ok());
  ASSERT_TRUE(write_file_atomically(dir / "a", bytes("new")).ok());
  EXPECT_EQ(read_file(dir / "a").value(), "new");
}

TEST(AtomicFile, ReportsAMissingDirectory) {
  test::TempDir dir;
  auto st = write_file_atomically(dir / "no" / "such" / "file", bytes("x"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::write);
}

TEST(AtomicFile, StaleTempFilesOfDeadProcessesAreRemovedButNothingElse) {
  test::TempDir dir;
  ASSERT_TRUE(write_file_atomically(dir / "keep.jpg", bytes("x")).ok());
  ASSERT_TRUE(write_file_atomically(dir / ".hidden", bytes("x")).ok());
  // A leftover of a process that no longer exists (beyond any pid_max), an old-style name with
  // no process id, and the temp file of a live writer (this process).
  ASSERT_TRUE(write_file_atomically(dir / ".b.jpg.999999999-abcdef.tfpart", bytes("x")).ok());
  ASSERT_TRUE(write_file_atomically(dir / ".c.jpg.abcdef.tfpart", bytes("x")).ok());
  AtomicFile live(dir / "d.jpg");
  ASSERT_TRUE(fs::exists(live.temp_path()));
  EXPECT_EQ(remove_stale_temp_files(dir.path()), 2);
  EXPECT_FALSE(fs::exists(dir / ".b.jpg.999999999-abcdef.tfpart"));
  EXPECT_FALSE(fs::exists(dir / ".c.jpg.abcdef.tfpart"));
  EXPECT_TRUE(fs::exists(live.temp_path()));
  EXPECT_TRUE(fs::exists(dir / "keep.jpg"));
  EXPECT_TRUE(fs::exists(dir / ".hidden"));
}

TEST(AtomicFile, TempNameCarriesTheWriterProcess) {
  test::TempDir dir;
  AtomicFile file(dir / "a.b.jpg");
  const std::string name = file.temp_path().filename().string();
  EXPECT_TRUE(name.starts_with(".a.b.jpg." + std::to_string(::getpid()) + "-")) << name;
}

TEST(AtomicFile, OverwriteNoNeverReplacesAnExistingFile) {
  test::TempDir dir;
  ASSERT_TRUE(write_file_atomically(dir / "photo.jpg", bytes("the user's")).ok());
  AtomicFile file(dir / "photo.jpg");
  ASSERT_TRUE(file.write(bytes("ours")).ok());
  auto st = file.commit(Overwrite::no);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("not replaced"), std::string::npos) << st.error().message;
  EXPECT_EQ(read_file(dir / "photo.jpg").value(), "the user's");
  EXPECT_EQ(file_count(dir.path()), 1u);  // no temp file left behind
  AtomicFile fresh(dir / "new.jpg");
  ASSERT_TRUE(fresh.write(bytes("ours")).ok());
  ASSERT_TRUE(fresh.commit(Overwrite::no).ok());
  EXPECT_EQ(read_file(dir / "new.jpg").value(), "ours");
}
