#pragma once
// An output folder owned by one run at a time. Opening one is the preflight every job does
// before any work: the folder exists or can be made, a probe file can be written in it, and its
// lock (flock on DIR/.thumbfetch.lock, holding the owner's pid and command line) is ours. A
// second run into the same folder stops at once with a message naming the holder, or waits for
// it with WaitForLock::yes. Once the lock is held, temp files left by dead runs are removed
// (temp names carry their writer's pid, so a live writer's file is never touched).

#include <filesystem>
#include <stop_token>
#include <string>

#include "thumbfetch/util/fd.hpp"

namespace thumbfetch {

enum class WaitForLock { no, yes };

inline constexpr const char* kLockName = ".thumbfetch.lock";

class OutputFolder {
 public:
  // Throws SetupError (FolderLockedError when another run holds it). `command` is what the lock
  // shows to a second run ("thumbfetch fetch --urls list.txt -o out"). Waiting ends early, with
  // a SetupError, when `stop` is requested.
  static OutputFolder open(const std::filesystem::path& dir, const std::string& command,
                           WaitForLock wait, std::stop_token stop = {});

  const std::filesystem::path& path() const { return dir_; }
  std::filesystem::path operator/(const std::filesystem::path& name) const { return dir_ / name; }

 private:
  OutputFolder(std::filesystem::path dir, UniqueFd lock)
      : dir_(std::move(dir)), lock_(std::move(lock)) {}
  std::filesystem::path dir_;
  UniqueFd lock_;  // the flock lives as long as this descriptor
};

// Preflight for a file a run will write at the end (--json, a report): "-" (standard output) or
// a path whose folder exists and is writable. Throws SetupError naming `what` and the path.
void check_output_file(const std::filesystem::path& path, const std::string& what);

// The command line as one string, for the lock file and reports.
std::string command_line(int argc, const char* const* argv);

}  // namespace thumbfetch
