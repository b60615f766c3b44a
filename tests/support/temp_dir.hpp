#pragma once
// A fresh temp directory per test, removed afterwards (kept when THUMBFETCH_KEEP_TEST_DIRS is
// set, to look at what a failing test left).

#include <cstdlib>
#include <filesystem>
#include <string>

namespace thumbfetch::test {

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "thumbfetch-test-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    if (!std::getenv("THUMBFETCH_KEEP_TEST_DIRS")) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace thumbfetch::test
