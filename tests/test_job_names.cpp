#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "support/temp_dir.hpp"
#include "thumbfetch/fetch/naming.hpp"
#include "thumbfetch/job/names.hpp"

using namespace thumbfetch;
namespace fs = std::filesystem;

TEST(JobNames, ClashesGetTheItemsOwnHash) {
  const std::vector<std::string> urls = {
      "http://127.0.0.1:1/a/photo.jpg", "http://127.0.0.1:1/b/photo.png",
      "http://127.0.0.1:1/c/PHOTO.jpg", "http://127.0.0.1:1/other.jpg"};
  auto plan = [&](const std::vector<std::string>& list) {
    NameBook names;
    std::vector<std::string> stems;
    for (const auto& u : list) stems.push_back(names.claim(u, safe_stem_from_url(u)));
    return stems;
  };
  const auto stems = plan(urls);
  EXPECT_EQ(stems[0], "photo");
  EXPECT_TRUE(stems[1].starts_with("photo-"));
  EXPECT_TRUE(stems[2].starts_with("PHOTO-"));
  EXPECT_NE(stems[1], stems[2]);
  EXPECT_EQ(stems[3], "other");
  EXPECT_EQ(plan(urls), stems);  // same on every run
  // The suffix comes from the item alone: the same whoever else clashes with it.
  EXPECT_EQ(plan({urls[0], urls[2]})[1], stems[2]);
}

TEST(JobNames, AFileNoRowOwnsIsNeverTaken) {
  test::TempDir dir;
  std::ofstream(dir / "photo.jpg") << "the user's";
  std::ofstream(dir / "mine.jpg") << "ours";
  NameBook names(dir.path());
  names.own("http://h/x/mine.jpg", "mine.jpg");
  EXPECT_TRUE(names.claim("http://h/photo.jpg", "photo").starts_with("photo-"));
  EXPECT_EQ(names.claim("http://h/x/mine.jpg", "mine"), "mine");  // its own, kept
  EXPECT_TRUE(names.claim("http://h/y/mine.jpg", "mine").starts_with("mine-"));
  EXPECT_EQ(names.owned_file("http://h/x/mine.jpg"), "mine.jpg");
}

TEST(JobNames, AnOwnedNameIsKeptEvenWhenTheItemWouldNowGetAnother) {
  NameBook names;
  names.own("key-b", "photo.jpg");  // an earlier run gave "photo" to b
  EXPECT_TRUE(names.claim("key-a", "photo").starts_with("photo-"));
  EXPECT_EQ(names.claim("key-b", "photo"), "photo");
}

// --mirror-tree: a name is a relative path of the input's own components under the output
// folder; a clash is handled within its own folder, and nothing outside the folder is reached.
TEST(JobNames, MirroredPathsArePlainRelativeComponentsOnly) {
  EXPECT_TRUE(plain_relative("a/b/c.jpg"));
  EXPECT_TRUE(plain_relative("c.jpg"));
  EXPECT_FALSE(plain_relative(""));
  EXPECT_FALSE(plain_relative("/etc/passwd"));
  EXPECT_FALSE(plain_relative("a/../b.jpg"));
  EXPECT_FALSE(plain_relative("../b.jpg"));
  EXPECT_FALSE(plain_relative("a/./b.jpg"));
  EXPECT_FALSE(plain_relative("a//b.jpg"));
  EXPECT_FALSE(plain_relative(".hidden/b.jpg"));
  EXPECT_FALSE(plain_relative("a/b.jsonl"));
}

TEST(JobNames, ClashesAreResolvedWithinOneFolderOfTheTree) {
  NameTree names;
  EXPECT_EQ(names.claim("k1", "a", "photo"), "a/photo");
  EXPECT_EQ(names.claim("k2", "b", "photo"), "b/photo");  // another folder: no clash
  EXPECT_TRUE(names.claim("k3", "a", "photo").starts_with("a/photo-"));
  EXPECT_EQ(names.claim("k4", "", "top"), "top");
}

TEST(JobNames, AFolderOfTheTreeIsReservedInItsParent) {
  NameTree names;
  names.reserve_folder("x.jpg/inner");  // the tree has a folder named like an output file
  EXPECT_TRUE(names.claim("k1", "", "x").starts_with("x-"));
  EXPECT_TRUE(names.claim("k2", "x.jpg", "inner").starts_with("x.jpg/inner-"));
}

TEST(JobNames, AnOwnedRelativeNameIsKeptOnTheNextRun) {
  test::TempDir dir;
  fs::create_directories(dir / "a");
  std::ofstream(dir / "a" / "photo.jpg") << "ours";
  std::ofstream(dir / "a" / "user.jpg") << "the user's";
  NameTree names(dir.path());
  names.own("k1", "a/photo.jpg");
  EXPECT_EQ(names.claim("k1", "a", "photo"), "a/photo");
  EXPECT_TRUE(names.claim("k2", "a", "photo").starts_with("a/photo-"));
  EXPECT_TRUE(names.claim("k3", "a", "user").starts_with("a/user-"));
}

TEST(JobNames, SubfoldersAreMadeButNeverThroughASymlinkOrAFile) {
  test::TempDir dir;
  fs::create_directories(dir / "out");
  fs::create_directories(dir / "outside");
  fs::create_directory_symlink(dir / "outside", dir / "out" / "link");
  std::ofstream(dir / "out" / "file") << "the user's";
  EXPECT_TRUE(static_cast<bool>(make_subfolders(dir / "out", "a/b")));
  EXPECT_TRUE(fs::is_directory(dir / "out" / "a" / "b"));
  EXPECT_FALSE(static_cast<bool>(make_subfolders(dir / "out", "link/b")));
  EXPECT_FALSE(fs::exists(dir / "outside" / "b"));
  EXPECT_FALSE(static_cast<bool>(make_subfolders(dir / "out", "file/b")));
  EXPECT_FALSE(static_cast<bool>(make_subfolders(dir / "out", "../escape")));
  EXPECT_FALSE(fs::exists(dir / "escape"));
  // A row naming a file through the symlink is never ours.
  std::ofstream(dir / "outside" / "x.jpg") << "x";
  EXPECT_EQ(row_file_state(dir / "out", "link/x.jpg", 1, "link"), RowFile::foreign);
  std::ofstream(dir / "out" / "a" / "b" / "y.jpg") << "y";
  EXPECT_EQ(row_file_state(dir / "out", "a/b/y.jpg", 1, "a/b"), RowFile::intact);
  // Not in the folder the item writes to (fetch and run: the top only): never ours.
  EXPECT_EQ(row_file_state(dir / "out", "a/b/y.jpg", 1), RowFile::foreign);
  EXPECT_EQ(row_file_state(dir / "out", "a/b/y.jpg", 1, "a"), RowFile::foreign);
}

namespace {

// The current resident memory of this process, in bytes.
std::uint64_t resident_bytes() {
  std::ifstream in("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  in >> size >> resident;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace

// --mirror-tree keeps a NameBook per folder: a tree of many small folders costs a few hundred
// bytes a folder, not a table sized for thousands of names (it was 32 KiB a folder: 640 MB for
// 20,000 folders). A generous bound: 2 KiB a folder.
TEST(JobNames, AManyFolderTreeCostsLittlePerFolder) {
  constexpr int kFolders = 20'000;
  const std::uint64_t before = resident_bytes();
  NameTree names;
  for (int i = 0; i < kFolders; ++i) {
    const std::string dir = "d" + std::to_string(i);
    ASSERT_EQ(names.claim("k" + std::to_string(i), dir, "photo"), dir + "/photo");
  }
  const std::uint64_t grown = resident_bytes() - std::min(before, resident_bytes());
  EXPECT_LT(grown, 2048u * kFolders) << grown / kFolders << " bytes per folder";
}
