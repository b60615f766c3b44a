#pragma once
// Live progress of a run on stderr: done/total, rate, ETA and failures, redrawn in place on a
// terminal, a whole line now and then in logs, nothing with -q. Failure lines go through the same
// object so they never tear the bar.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace thumbfetch {

enum class ProgressMode { quiet, plain, live };

// live when `stream` is a terminal (isatty(fileno)) and TERM is not "dumb"; plain otherwise;
// quiet when `quiet`.
ProgressMode progress_mode_for(std::FILE* stream, bool quiet);

// The numbers one progress line shows.
struct ProgressSnapshot {
  std::string_view label;
  std::uint64_t done = 0;      // settled items, skipped ones included
  std::uint64_t total = 0;     // 0: not known yet (no "/total", percentage or ETA)
  std::uint64_t failed = 0;    // shown only when > 0
  std::optional<double> rate;  // worked (not skipped) items per second; nullopt until known
};

// "download  1,234/5,000  24%  412/s  ETA 9s  3 failed". When longer than `max_width` columns it
// drops the rate, then the ETA, then the percentage, then cuts the text.
std::string format_progress_line(const ProgressSnapshot& snapshot,
                                 std::size_t max_width = std::string::npos);
// 1234567 -> "1,234,567".
std::string format_progress_count(std::uint64_t n);
// Items per second for people: "1,234/s", "412/s", "3.5/s", "0.25/s".
std::string format_progress_rate(double per_second);
// A duration rounded up to whole seconds: "9s", "2m05s", "1h02m", "2d03h".
std::string format_progress_duration(double seconds);

// One progress display for a run's items: done/total, rate, ETA, failures.
//  live:  one line redrawn in place ("\r" + text + "\x1b[K") about 8 times a second, fitting the
//         terminal width (TIOCGWINSZ; 80 if unknown)
//  plain: the same text as a whole line at most every `plain_interval_seconds`, and only when a
//         count changed since the last one (logs and CI)
//  quiet: nothing at all from the bar (message() lines still print: -q means "only failures")
// Thread-safe. item_done()/add_skipped() are atomics only (no lock, no syscall); a background
// thread does every periodic redraw, so the rate and ETA stay fresh while nothing completes.
// finish() (idempotent; the destructor calls it) stops the thread and in live mode clears the
// line, leaving no bar behind; the caller prints its own summary.
// Everything written to `out` while the bar exists must go through message(), or it tears the bar.
class ProgressBar {
 public:
  ProgressBar(std::FILE* out, ProgressMode mode, std::string label, std::uint64_t total,
              double plain_interval_seconds = 5.0);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // When the total becomes known or changes (0: unknown).
  void set_total(std::uint64_t total);
  void set_label(std::string label);
  // One item settled (failed when !ok).
  void item_done(bool ok);
  // Settled without work: counts toward done, not toward the rate.
  void add_skipped(std::uint64_t n);
  // Prints one whole line (a failure line, "URL: reason") that never tears the bar: in live mode
  // the bar is cleared, the line written with '\n', and the bar redrawn, in one write under the
  // one mutex every write takes. A trailing newline is dropped; control characters (which would
  // move the cursor or drive the terminal) are written as "\xHH".
  void message(std::string_view line);
  // Stops the redraw thread; in live mode clears the bar. Later messages still print.
  void finish();
  // The current text: fitted to the terminal width in live mode, whole otherwise.
  std::string render_line() const;

  std::uint64_t done() const;
  std::uint64_t failed() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct RateSample {
    Clock::time_point when;
    std::uint64_t worked;
  };

  void run(std::stop_token stop);
  std::string render_locked(Clock::time_point now) const;
  std::optional<double> rate_locked(Clock::time_point now, std::uint64_t worked) const;
  void redraw_locked();
  void write_locked(std::string_view bytes);

  std::FILE* out_;
  ProgressMode mode_;
  Clock::duration plain_interval_;
  Clock::time_point start_;

  std::atomic<std::uint64_t> total_;
  std::atomic<std::uint64_t> ok_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> skipped_{0};

  mutable std::mutex mutex_;  // every write to out_, and all the state below
  std::string label_;
  mutable std::deque<RateSample> samples_;  // for the rate over the last ~10 s
  std::string drawn_;                       // live: the bar text on screen, empty when none is
  std::uint64_t plain_done_ = 0;  // plain: the counts in the last line printed (or at start)
  std::uint64_t plain_failed_ = 0;
  std::uint64_t plain_total_ = 0;
  bool finished_ = false;

  std::once_flag finish_once_;
  std::condition_variable_any wake_;
  std::jthread thread_;  // last: started once everything above exists, stopped first
};

}  // namespace thumbfetch
