// `thumbfetch thumbs -r --mirror-tree IN -o OUT`: IN/a/b/c.jpg -> OUT/a/b/c.jpg under every
// strategy, resumed, with several roots, and safe against trees and output folders that try to
// lead the run out of OUT or onto a file it does not own.
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "support/image_fixtures.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"
#include "thumbfetch/util/atomic_file.hpp"

using namespace thumbfetch;
using namespace thumbfetch::test;
namespace fs = std::filesystem;

namespace {

// Every regular file under `dir` (but the lock, temp files and the manifest) by relative path.
std::map<std::string, std::string> tree_of(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (!e.is_regular_file() || name.front() == '.' || name.ends_with(".jsonl")) continue;
    out[e.path().lexically_relative(dir).generic_string()] = read_file(e.path()).value();
  }
  return out;
}

std::map<std::string, std::string> manifest_files(const fs::path& dir) {
  std::map<std::string, std::string> out;  // input's file name -> row's file
  std::ifstream in(dir / "thumbs.jsonl");
  for (std::string line; std::getline(in, line);) {
    const auto row = nlohmann::json::parse(line);
    if (row.value("status", "") == "ok")
      out[fs::path(row["input"].get<std::string>()).filename().string()] = row["file"];
  }
  return out;
}

// in/top.jpg, in/a/d.png, in/a/b/c.jpg, and bad files that sort before the good ones.
void make_tree(const fs::path& in) {
  fs::create_directories(in / "a" / "b");
  write_text(in / "a" / "b" / "0empty.jpg", "");
  write_text(in / "a" / "0page.jpg", "<html>Service Unavailable</html>");
  write_quadrant_jpeg(in / "a" / "b" / "c.jpg", 400, 300, {});
  write_quadrant_png(in / "a" / "d.png", 300, 400);
  write_quadrant_jpeg(in / "top.jpg", 500, 200, {});
}

}  // namespace

TEST(CliMirrorTree, TheTreeIsMirroredUnderEveryStrategy) {
  TempDir dir;
  make_tree(dir / "in");
  std::map<std::string, std::string> first;
  for (const char* strategy : {"serial", "threads", "processes"}) {
    SCOPED_TRACE(strategy);
    const fs::path out = dir / (std::string("out-") + strategy);
    const std::string jobs = std::string(strategy) == "serial" ? "1" : "2";
    auto r = run_thumbfetch({"thumbs", "-r", "--mirror-tree", (dir / "in").string(), "-o",
                             out.string(), "--strategy", strategy, "-j", jobs});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(count_lines_with(r.err, "0empty.jpg: not an image"), 1) << r.err;
    EXPECT_EQ(count_lines_with(r.err, "0page.jpg: not an image"), 1) << r.err;
    EXPECT_NE(r.out.find("3 ok, 2 failed, 0 skipped"), std::string::npos) << r.out;
    const auto files = tree_of(out);
    EXPECT_EQ(files.size(), 3u);
    EXPECT_TRUE(files.contains("a/b/c.jpg"));
    EXPECT_TRUE(files.contains("a/d.jpg"));
    EXPECT_TRUE(files.contains("top.jpg"));
    const std::map<std::string, std::string> rows = {
        {"c.jpg", "a/b/c.jpg"}, {"d.png", "a/d.jpg"}, {"top.jpg", "top.jpg"}};
    EXPECT_EQ(manifest_files(out), rows);
    if (first.empty()) first = files;
    EXPECT_EQ(files, first);  // the same bytes from every strategy
  }
}

TEST(CliMirrorTree, ResumeSkipsTheSameRows) {
  TempDir dir;
  make_tree(dir / "in");
  const std::vector<std::string> args = {
      "thumbs",         "-r", "--mirror-tree", (dir / "in").string(), "-o", (dir / "out").string(),
      "--skip-existing"};
  ASSERT_EQ(run_thumbfetch(args).exit_code, 1);
  const auto before = tree_of(dir / "out");
  fs::remove(dir / "in" / "a" / "b" / "0empty.jpg");
  fs::remove(dir / "in" / "a" / "0page.jpg");
  write_quadrant_jpeg(dir / "in" / "a" / "b" / "new.jpg", 320, 200, {});
  auto r = run_thumbfetch(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("1 ok, 0 failed, 3 skipped"), std::string::npos) << r.out;
  auto after = tree_of(dir / "out");
  EXPECT_TRUE(after.contains("a/b/new.jpg"));
  after.erase("a/b/new.jpg");
  EXPECT_EQ(after, before);
}

TEST(CliMirrorTree, WithoutRecursiveItIsAUsageErrorBeforeAnyWork) {
  TempDir dir;
  make_tree(dir / "in");
  auto r = run_thumbfetch(
      {"thumbs", "--mirror-tree", (dir / "in").string(), "-o", (dir / "out").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("give -r as well"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "out"));
}

TEST(CliMirrorTree, SeveralRootsGoUnderTheirOwnNames) {
  TempDir dir;
  fs::create_directories(dir / "one" / "x");
  fs::create_directories(dir / "two");
  write_quadrant_jpeg(dir / "one" / "x" / "a.jpg", 300, 200, {});
  write_quadrant_jpeg(dir / "two" / "a.jpg", 200, 300, {});
  write_quadrant_jpeg(dir / "loose.jpg", 200, 200, {});
  auto r = run_thumbfetch({"thumbs", "-r", "--mirror-tree", (dir / "one").string(),
                           (dir / "two").string() + "/", (dir / "loose.jpg").string(), "-o",
                           (dir / "out").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto files = tree_of(dir / "out");
  EXPECT_EQ(files.size(), 3u);
  EXPECT_TRUE(files.contains("one/x/a.jpg"));
  EXPECT_TRUE(files.contains("two/a.jpg"));
  EXPECT_TRUE(files.contains("loose.jpg"));  // a file given by itself has no tree
}

TEST(CliMirrorTree, HostileTreesAndFoldersAreRefusedPerItemOrHandledSafely) {
  TempDir dir;
  make_tree(dir / "in");
  fs::create_directories(dir / "outside");
  write_quadrant_jpeg(dir / "outside" / "far.jpg", 300, 300, {});
  // In the tree: a symlinked folder pointing outside (not followed), a folder named like an
  // output file beside the file whose thumbnail would take that name, a hidden folder.
  fs::create_directory_symlink(dir / "outside", dir / "in" / "escape");
  fs::create_directories(dir / "in" / "x.jpg");
  write_quadrant_jpeg(dir / "in" / "x.jpg" / "y.jpg", 300, 200, {});
  write_quadrant_png(dir / "in" / "x.png", 200, 300);
  fs::create_directories(dir / "in" / ".cache");
  write_quadrant_jpeg(dir / "in" / ".cache" / "z.jpg", 300, 200, {});
  // In OUT before the run: "a" is a symlink to a folder outside that the run does not own.
  fs::create_directories(dir / "out");
  fs::create_directories(dir / "elsewhere");
  fs::create_directory_symlink(dir / "elsewhere", dir / "out" / "a");
  auto r = run_thumbfetch(
      {"thumbs", "-r", "--mirror-tree", (dir / "in").string(), "-o", (dir / "out").string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  // Everything under a/ refused (bad files too: the folder is checked first), one line each.
  EXPECT_EQ(count_lines_with(r.err, "a symlink is in the way"), 4) << r.err;
  EXPECT_EQ(count_lines_with(r.err, "z.jpg: refused: the folder .cache is hidden"), 1) << r.err;
  EXPECT_TRUE(fs::is_empty(dir / "elsewhere"));
  EXPECT_EQ(tree_of(dir / "outside").size(), 1u);
  EXPECT_TRUE(fs::is_symlink(dir / "out" / "a"));
  const auto files = tree_of(dir / "out");
  EXPECT_TRUE(files.contains("top.jpg"));
  EXPECT_TRUE(files.contains("x.jpg/y.jpg"));
  EXPECT_FALSE(files.contains("escape/far.jpg"));
  EXPECT_TRUE(fs::is_directory(fs::symlink_status(dir / "out" / "x.jpg")));
  const auto rows = manifest_files(dir / "out");
  ASSERT_TRUE(rows.contains("x.png"));
  EXPECT_TRUE(rows.at("x.png").starts_with("x-")) << rows.at("x.png");  // the folder kept x.jpg
  EXPECT_EQ(files.size(), 3u);
}

TEST(CliMirrorTree, ARowEditedToNameAFileInAnotherFolderNeverRemovesIt) {
  TempDir dir;
  make_tree(dir / "in");
  const std::vector<std::string> args = {
      "thumbs", "-r", "--mirror-tree", (dir / "in").string(), "-o", (dir / "out").string()};
  ASSERT_EQ(run_thumbfetch(args).exit_code, 1);
  write_text(dir / "out" / "a" / "user.jpg", "mine");
  // top.jpg's row now names the user's file in a/ (size and all), and top.jpg changes.
  std::string edited;
  {
    std::ifstream in(dir / "out" / "thumbs.jsonl");
    for (std::string line; std::getline(in, line);) {
      auto row = nlohmann::json::parse(line);
      if (row.value("file", "") == "top.jpg") {
        row["file"] = "a/user.jpg";
        row["bytes"] = 4;
      }
      edited += row.dump() + "\n";
    }
  }
  write_text(dir / "out" / "thumbs.jsonl", edited);
  write_quadrant_jpeg(dir / "in" / "top.jpg", 240, 200, {});
  auto r = run_thumbfetch(args);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(read_file(dir / "out" / "a" / "user.jpg").value(), "mine");
  EXPECT_TRUE(fs::exists(dir / "out" / "top.jpg"));
}
