#pragma once
// What a run leaves in its output folder, in a form two runs can be compared by: an undisturbed
// run against one that was killed and resumed, or stopped by a full disk. Shared by the fault
// tests (kill-and-resume, disk full, soak).

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace thumbfetch::test {

struct FolderState {
  std::map<std::string, std::string> files;  // final-named outputs at the top: name -> bytes
  std::vector<std::string> temp_files;       // AtomicFile temp files anywhere below
};

// Reads `dir` (hidden files, folders and *.jsonl manifests are not outputs).
FolderState folder_state(const std::filesystem::path& dir);

// The latest row per item (`key`: "url" or "input") of a JSONL manifest whose status is "ok":
// file name -> the byte count the row claims (`bytes_field`: "bytes" or "thumb_bytes").
std::map<std::string, std::uint64_t> ok_rows(const std::filesystem::path& manifest,
                                             const std::string& key,
                                             const std::string& bytes_field);

// Rows of a JSONL manifest (any status; a torn last line is not counted).
int manifest_lines(const std::filesystem::path& manifest);
// Rows with this status ("ok"), counting every appended row: how many items have landed so far.
int rows_with_status(const std::filesystem::path& manifest, const std::string& status);

// The files of `state` as name -> size, to set against ok_rows().
std::map<std::string, std::uint64_t> sizes(const FolderState& state);

// Waits (polling, bounded by `limit_ms`) until `done()` holds or the process `pid` has ended.
// Returns true when done() held while `pid` was still running.
template <typename Done>
bool wait_while_running(pid_t pid, Done done, int limit_ms);

// Reaps `pid` after SIGKILL; true when it died of the signal (it had not finished by itself).
bool kill_and_reap(pid_t pid);

// True while `pid` (a child of ours) has not exited; never reaps it.
bool still_running(pid_t pid);

// Sleeps one polling step (a few milliseconds) between checks of an awaited condition.
void poll_pause();

template <typename Done>
bool wait_while_running(pid_t pid, Done done, int limit_ms) {
  for (int waited = 0; waited < limit_ms; waited += 2) {
    if (done()) return still_running(pid);
    if (!still_running(pid)) return false;
    poll_pause();
  }
  return false;
}

}  // namespace thumbfetch::test
