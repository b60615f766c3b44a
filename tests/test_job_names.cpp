#include <gtest/gtest.h>

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
