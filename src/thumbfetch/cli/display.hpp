#pragma once
// What a command shows while a job runs: a progress line on stderr (live on a terminal, a plain
// line every few seconds otherwise, none with -q), one line per failed item ("ITEM: reason")
// printed through the progress line so the two never tear, and the job's notes. With -v also
// one line per item that succeeded ("ITEM: ok").

#include <memory>
#include <string>

#include "thumbfetch/job/observer.hpp"
#include "thumbfetch/report/progress.hpp"

namespace thumbfetch {

class Display {
 public:
  enum class Lines { failures, every_item };
  explicit Display(bool quiet, Lines lines = Lines::failures);
  // The observer to hand to a job; valid while this Display lives.
  JobObserver observer();
  // Clears the progress line; call before printing the summary.
  void finish();

 private:
  bool quiet_;
  Lines lines_;
  std::unique_ptr<ProgressBar> bar_;
};

// ", peak RSS 48 MB" for the summary line of a run of `items` items when it is long (10,000
// items or more), else "". Memory matters for long lists only (it must stay flat in their
// length), and a size threshold rather than a time one keeps the line of a short run the same
// from one run to the next.
std::string peak_rss_note(size_t items);

}  // namespace thumbfetch
