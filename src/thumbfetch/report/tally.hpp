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
  int not_started = 0;                // the run was interrupted before these began
  std::map<ErrorKind, int> failures;  // failed, by kind

  void add_ok() { ++ok; }
  void add_skipped() { ++skipped; }
  // An ErrorKind::cancelled item was never attempted: it counts as not started, not failed.
  void add_failure(ErrorKind kind) {
    if (kind == ErrorKind::cancelled) {
      ++not_started;
      return;
    }
    ++failed;
    ++failures[kind];
  }
  int total() const { return ok + failed + skipped + not_started; }

  // "498 ok, 2 failed, 0 skipped", then the failures by kind: " (1 truncated, 1 not an image)",
  // then ", 40 not started" after an interruption.
  std::string summary() const;
};

}  // namespace thumbfetch
