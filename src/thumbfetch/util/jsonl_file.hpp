#pragma once
// A JSON Lines file that a run appends to as items settle (one whole line per write(2) with
// O_APPEND, so a run killed with -9 keeps every row it finished) and rewrites, compacted and
// atomically, at the end. The rewrite is streamed: rows are handed over one at a time, so a run
// of a million items never holds its whole manifest as text.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "thumbfetch/util/error.hpp"
#include "thumbfetch/util/fd.hpp"

namespace thumbfetch {

class JsonlFile {
 public:
  explicit JsonlFile(std::filesystem::path path);
  // Appends `line` and a newline; returns the line's offset in the file, or -1 when it could
  // not be written. The first failure is reported once on stderr.
  std::int64_t append(std::string_view line);
  // The errno of the last append that failed (ENOSPC for a short write), 0 when none has: a full
  // disk is the caller's to act on (the append itself says nothing of it).
  int append_errno() const { return append_errno_; }
  // Replaces the file with the lines `produce` passes to its sink (each without newline).
  using LineSink = std::function<void(std::string_view line)>;
  Status rewrite(const std::function<void(const LineSink&)>& produce);
  // The same, but when `produce` returns an error the file is left as it was (the new one is
  // dropped) and that error is returned.
  Status rewrite_checked(const std::function<Status(const LineSink&)>& produce);
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  UniqueFd fd_;
  bool warned_ = false;
  int append_errno_ = 0;
};

}  // namespace thumbfetch
