#pragma once
// A small tmpfs mounted on a fresh temp folder for the life of the object, to fill a disk for
// real. Needs root (tests run as root here and in CI); `skip_reason()` says why it is not there
// otherwise, for GTEST_SKIP.

#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

namespace thumbfetch::test {

class TmpfsMount {
 public:
  TmpfsMount(const std::filesystem::path& where, const std::string& size) : path_(where) {
    if (::geteuid() != 0) {
      skip_ = "not root: mounting a tmpfs needs root";
      return;
    }
    std::filesystem::create_directories(path_);
    const std::string options = "size=" + size;
    if (::mount("tmpfs", path_.c_str(), "tmpfs", 0, options.c_str()) != 0) {
      skip_ = std::string("cannot mount a tmpfs: ") + std::strerror(errno);
      return;
    }
    mounted_ = true;
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& skip_reason() const { return skip_; }
  const std::filesystem::path& path() const { return path_; }

  // Grows (or shrinks) the file system in place: a run can then resume on the same folder.
  bool resize(const std::string& size) {
    const std::string options = "size=" + size;
    return ::mount("tmpfs", path_.c_str(), "tmpfs", MS_REMOUNT, options.c_str()) == 0;
  }

 private:
  std::filesystem::path path_;
  bool mounted_ = false;
  std::string skip_;
};

}  // namespace thumbfetch::test
