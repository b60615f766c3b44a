#pragma once
// Counts per-item outcomes for the summary line a run ends with, and for reports.

#include <map>
#include <string>

#include "thumbfetch/util/error.hpp"

namespace thumbfetch {

struct Tally {
  int ok = 0;
  int failed = 0;
  int skipped = 0;
  std::map<ErrorKind, int> failures;  // failed, by kind

  void add_ok() { ++ok; }
  void add_skipped() { ++skipped; }
  void add_failure(ErrorKind kind) {
    ++failed;
    ++failures[kind];
  }
  int total() const { return ok + failed + skipped; }

  // "498 ok, 2 failed, 0 skipped", then the failures by kind: " (1 truncated, 1 not an image)".
  std::string summary() const;
};

}  // namespace thumbfetch
