#include <gtest/gtest.h>

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

TEST(AtomicFile, StaleTempFilesAreRemovedButNothingElse) {
  test::TempDir dir;
  ASSERT_TRUE(write_file_atomically(dir / "keep.jpg", bytes("x")).ok());
  ASSERT_TRUE(write_file_atomically(dir / ".hidden", bytes("x")).ok());
  AtomicFile leftover(dir / "b.jpg");
  const fs::path temp = leftover.temp_path();
  ASSERT_TRUE(fs::exists(temp));
  EXPECT_EQ(remove_stale_temp_files(dir.path()), 1);
  EXPECT_FALSE(fs::exists(temp));
  EXPECT_TRUE(fs::exists(dir / "keep.jpg"));
  EXPECT_TRUE(fs::exists(dir / ".hidden"));
}
