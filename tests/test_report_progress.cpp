#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/wait_until.hpp"
#include "thumbfetch/report/progress.hpp"

using namespace thumbfetch;
using namespace std::chrono_literals;
using thumbfetch::test::wait_until;

namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

File temp_file() {
  File f(std::tmpfile());
  if (!f) ADD_FAILURE() << "tmpfile() failed";
  return f;
}

// Everything written so far (read once the bar is finished: reading moves the position).
std::string contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string text;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) text.append(buffer, n);
  return text;
}

// Bytes written so far, safe while the bar's thread writes (it flushes after every write).
long size_of(std::FILE* f) {
  struct stat st {};
  fstat(fileno(f), &st);
  return static_cast<long>(st.st_size);
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines.push_back(text.substr(start, nl - start));
  }
  lines.push_back(text.substr(start));  // what follows the last newline (often empty)
  return lines;
}

// What a terminal leaves visible of a line: the text after the last carriage return.
std::string visible_tail(const std::string& line) {
  std::size_t cr = line.rfind('\r');
  return cr == std::string::npos ? line : line.substr(cr + 1);
}

// A pseudo-terminal: the bar sees a real terminal on `slave`.
struct Pty {
  int master = -1;
  File slave;
  Pty() {
    master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) return;
    int fd = open(ptsname(master), O_RDWR | O_NOCTTY);
    if (fd >= 0) slave.reset(fdopen(fd, "w"));
  }
  ~Pty() {
    slave.reset();
    if (master >= 0) close(master);
  }
  Pty(const Pty&) = delete;
  Pty& operator=(const Pty&) = delete;
};

class ScopedTerm {
 public:
  explicit ScopedTerm(const char* value) {
    if (const char* old = std::getenv("TERM")) old_ = old;
    setenv("TERM", value, 1);
  }
  ~ScopedTerm() {
    if (old_) {
      setenv("TERM", old_->c_str(), 1);
    } else {
      unsetenv("TERM");
    }
  }

 private:
  std::optional<std::string> old_;
};

}  // namespace

TEST(ReportProgressFormat, CountsHaveThousandsSeparators) {
  EXPECT_EQ(format_progress_count(0), "0");
  EXPECT_EQ(format_progress_count(999), "999");
  EXPECT_EQ(format_progress_count(1000), "1,000");
  EXPECT_EQ(format_progress_count(5000), "5,000");
  EXPECT_EQ(format_progress_count(1234567), "1,234,567");
  EXPECT_EQ(format_progress_count(18446744073709551615ULL), "18,446,744,073,709,551,615");
}

TEST(ReportProgressFormat, RatesForPeople) {
  EXPECT_EQ(format_progress_rate(412.3), "412/s");
  EXPECT_EQ(format_progress_rate(3.46), "3.5/s");
  EXPECT_EQ(format_progress_rate(9.97), "10/s");
  EXPECT_EQ(format_progress_rate(12345.4), "12,345/s");
  EXPECT_EQ(format_progress_rate(0.25), "0.25/s");
  EXPECT_EQ(format_progress_rate(0), "0/s");
}

TEST(ReportProgressFormat, DurationsRoundUp) {
  EXPECT_EQ(format_progress_duration(0), "0s");
  EXPECT_EQ(format_progress_duration(9), "9s");
  EXPECT_EQ(format_progress_duration(8.2), "9s");
  EXPECT_EQ(format_progress_duration(60), "1m00s");
  EXPECT_EQ(format_progress_duration(125), "2m05s");
  EXPECT_EQ(format_progress_duration(3720), "1h02m");
  EXPECT_EQ(format_progress_duration(86400 + 3 * 3600), "1d03h");
}

TEST(ReportProgressFormat, LineForGivenCounts) {
  EXPECT_EQ(format_progress_line(
                {.label = "download", .done = 1250, .total = 5000, .failed = 3, .rate = 412.0}),
            "download  1,250/5,000  25%  412/s  ETA 10s  3 failed");  // 3,750 / 412 = 9.1 s
  // No rate yet: no rate shown and no estimate; no failures: not mentioned.
  EXPECT_EQ(format_progress_line({.label = "thumbs", .done = 7, .total = 40}),
            "thumbs  7/40  17%  ETA --");
  // A rate of zero (a stall) is shown, and gives no estimate.
  EXPECT_EQ(format_progress_line({.label = "thumbs", .done = 7, .total = 40, .rate = 0.0}),
            "thumbs  7/40  17%  0/s  ETA --");
  // Rounded down: 100% only when every item has settled.
  EXPECT_EQ(format_progress_line({.label = "x", .done = 999, .total = 1000, .rate = 5.0}),
            "x  999/1,000  99%  5.0/s  ETA 1s");
  EXPECT_EQ(format_progress_line({.label = "x", .done = 1000, .total = 1000, .rate = 5.0}),
            "x  1,000/1,000  100%  5.0/s  ETA 0s");
  // Total unknown: the count alone.
  EXPECT_EQ(format_progress_line({.label = "download", .done = 1234, .failed = 1, .rate = 3.5}),
            "download  1,234  3.5/s  1 failed");
}

TEST(ReportProgressFormat, FitsTheWidthDroppingTheLeastImportantFirst) {
  ProgressSnapshot s{.label = "download", .done = 1250, .total = 5000, .failed = 3, .rate = 412.0};
  const std::string full = "download  1,250/5,000  25%  412/s  ETA 10s  3 failed";
  EXPECT_EQ(format_progress_line(s, full.size()), full);
  EXPECT_EQ(format_progress_line(s, full.size() - 1),
            "download  1,250/5,000  25%  ETA 10s  3 failed");
  EXPECT_EQ(format_progress_line(s, 40), "download  1,250/5,000  25%  3 failed");
  EXPECT_EQ(format_progress_line(s, 32), "download  1,250/5,000  3 failed");
  EXPECT_EQ(format_progress_line(s, 12), "download  1,");
  // A UTF-8 label is cut between characters, never inside one.
  EXPECT_EQ(format_progress_line({.label = "t\xc3\xa9l\xc3\xa9", .done = 1}, 3), "t\xc3\xa9l");
}

TEST(ReportProgressBar, RenderLineShowsTheCounts) {
  File f = temp_file();
  ProgressBar bar(f.get(), ProgressMode::quiet, "fetch", 10);
  for (int i = 0; i < 3; ++i) bar.item_done(true);
  bar.item_done(false);
  bar.add_skipped(2);
  EXPECT_EQ(bar.done(), 6u);
  EXPECT_EQ(bar.failed(), 1u);
  std::string line = bar.render_line();
  EXPECT_EQ(line.rfind("fetch  6/10  60%  ", 0), 0u) << line;
  EXPECT_TRUE(line.ends_with("  1 failed")) << line;

  bar.set_total(2000);
  bar.set_label("thumbs");
  line = bar.render_line();
  EXPECT_EQ(line.rfind("thumbs  6/2,000  0%  ", 0), 0u) << line;
}

TEST(ReportProgressBar, LabelsAndMessagesCannotDriveTheTerminal) {
  File f = temp_file();
  {
    ProgressBar bar(f.get(), ProgressMode::quiet, "a\x1b[2Jb", 1);
    EXPECT_EQ(bar.render_line().rfind("a\\x1b[2Jb  0/1", 0), 0u) << bar.render_line();
    bar.message("http://x/\r\x1b]0;owned\x07: HTTP 404\n");
  }
  EXPECT_EQ(contents(f.get()), "http://x/\\x0d\\x1b]0;owned\\x07: HTTP 404\n");
}

TEST(ReportProgressMode, FromTheStreamAndTerm) {
  File f = temp_file();
  EXPECT_EQ(progress_mode_for(f.get(), false), ProgressMode::plain);
  EXPECT_EQ(progress_mode_for(f.get(), true), ProgressMode::quiet);
  Pty pty;
  ASSERT_TRUE(pty.slave) << "no pseudo-terminal";
  {
    ScopedTerm term("xterm-256color");
    EXPECT_EQ(progress_mode_for(pty.slave.get(), false), ProgressMode::live);
    EXPECT_EQ(progress_mode_for(pty.slave.get(), true), ProgressMode::quiet);
  }
  {
    ScopedTerm term("dumb");
    EXPECT_EQ(progress_mode_for(pty.slave.get(), false), ProgressMode::plain);
  }
}

TEST(ReportProgressLive, FitsTheTerminalWidth) {
  Pty pty;
  ASSERT_TRUE(pty.slave) << "no pseudo-terminal";
  winsize size{};
  size.ws_col = 32;
  size.ws_row = 24;
  ASSERT_EQ(ioctl(pty.master, TIOCSWINSZ, &size), 0);
  ProgressBar bar(pty.slave.get(), ProgressMode::live, "download", 5000);
  bar.add_skipped(1250);
  bar.item_done(false);
  // One column to spare: the rate, the estimate and the percentage make way for the failures.
  EXPECT_EQ(bar.render_line(), "download  1,251/5,000  1 failed");
  size.ws_col = 120;
  ASSERT_EQ(ioctl(pty.master, TIOCSWINSZ, &size), 0);
  EXPECT_EQ(bar.render_line().rfind("download  1,251/5,000  25%  ", 0), 0u) << bar.render_line();
  bar.finish();
}

TEST(ReportProgressQuiet, WritesNothingButMessages) {
  File f = temp_file();
  {
    ProgressBar bar(f.get(), ProgressMode::quiet, "download", 3, 0.05);
    bar.item_done(true);
    bar.message("http://x/a.jpg: HTTP 404");
    bar.item_done(false);
    std::this_thread::sleep_for(200ms);
    bar.message("http://x/b.jpg: timed out\n");
    bar.item_done(true);
  }
  EXPECT_EQ(contents(f.get()), "http://x/a.jpg: HTTP 404\nhttp://x/b.jpg: timed out\n");
}

TEST(ReportProgressPlain, NoMoreOftenThanTheInterval) {
  File f = temp_file();
  constexpr double kInterval = 0.2;
  auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  {
    ProgressBar bar(f.get(), ProgressMode::plain, "download", 1000000, kInterval);
    std::jthread worker([&bar](std::stop_token stop) {
      while (!stop.stop_requested()) {
        bar.item_done(true);
        std::this_thread::sleep_for(1ms);
      }
    });
    std::this_thread::sleep_for(650ms);
    worker.request_stop();
    worker.join();
    bar.finish();
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  std::string text = contents(f.get());
  std::vector<std::string> lines = split_lines(text);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "") << "plain output ends with a whole line";
  lines.pop_back();
  EXPECT_GE(lines.size(), 1u) << text;
  EXPECT_LE(lines.size(), static_cast<std::size_t>(elapsed / kInterval)) << text;
  for (const std::string& line : lines) {
    EXPECT_EQ(line.rfind("download  ", 0), 0u) << line;
    EXPECT_EQ(line.find_first_of("\r\x1b"), std::string::npos) << line;
  }
}

TEST(ReportProgressPlain, SaysNothingNewWhenNothingChanged) {
  File f = temp_file();
  ProgressBar bar(f.get(), ProgressMode::plain, "thumbs", 10, 0.05);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(size_of(f.get()), 0) << "no line before anything happened";
  bar.item_done(true);
  ASSERT_TRUE(wait_until([&] { return size_of(f.get()) > 0; }));
  std::this_thread::sleep_for(300ms);
  bar.finish();
  std::string text = contents(f.get());
  EXPECT_EQ(split_lines(text).size(), 2u) << text;  // one line, then nothing after its newline
  EXPECT_EQ(text.rfind("thumbs  1/10  10%  ", 0), 0u) << text;
}

TEST(ReportProgressLive, MessageClearsTheBarAndRedrawsIt) {
  File f = temp_file();
  {
    ProgressBar bar(f.get(), ProgressMode::live, "dl", 10);
    for (int i = 0; i < 3; ++i) bar.item_done(true);
    bar.message("http://x/a.jpg: HTTP 404");
  }
  std::string text = contents(f.get());
  std::size_t at = text.find("\r\x1b[Khttp://x/a.jpg: HTTP 404\n\rdl  3/10  30%  ");
  ASSERT_NE(at, std::string::npos) << text;
  for (const std::string& line : split_lines(text)) {
    std::string tail = visible_tail(line);
    EXPECT_TRUE(tail == "\x1b[K" || tail == "\x1b[Khttp://x/a.jpg: HTTP 404") << line;
  }
  EXPECT_TRUE(text.ends_with("\r\x1b[K")) << "finish() leaves no bar behind";
}

TEST(ReportProgressLive, RedrawsWhileNothingCompletes) {
  File f = temp_file();
  ProgressBar bar(f.get(), ProgressMode::live, "dl", 10);
  // No item settles, yet the bar appears and, once half a second has passed, shows a rate.
  ASSERT_TRUE(wait_until([&] { return size_of(f.get()) > 0; }));
  ASSERT_TRUE(wait_until([&] { return bar.render_line().find("0/s") != std::string::npos; }));
  std::this_thread::sleep_for(300ms);
  bar.finish();
  std::string text = contents(f.get());
  EXPECT_NE(text.find("\rdl  0/10  0%  0/s  ETA --\x1b[K"), std::string::npos) << text;
  EXPECT_EQ(text.find('\n'), std::string::npos) << "the live bar never scrolls";
}

TEST(ReportProgressBar, FinishIsIdempotent) {
  File f = temp_file();
  {
    ProgressBar bar(f.get(), ProgressMode::live, "dl", 10);
    bar.item_done(true);
    ASSERT_TRUE(wait_until([&] { return size_of(f.get()) > 0; }));
    bar.finish();
    long after_first = size_of(f.get());
    bar.finish();
    EXPECT_EQ(size_of(f.get()), after_first);
    bar.item_done(true);
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(size_of(f.get()), after_first) << "no redraw after finish()";
    bar.message("late: failure");  // still printed, as a plain line
  }
  std::string text = contents(f.get());
  EXPECT_TRUE(text.ends_with("\r\x1b[Klate: failure\n")) << text;
  EXPECT_EQ(text.find("\r\x1b[K"), text.rfind("\r\x1b[K")) << "the bar is cleared once";
}

// Many threads settle items and print failures at once: every message comes out as a whole line
// of its own, the bar is never glued to one, and the final count is exact.
void run_concurrently(ProgressMode mode) {
  constexpr int kThreads = 8;
  constexpr int kItems = 500;
  File f = temp_file();
  std::set<std::string> expected;
  {
    ProgressBar bar(f.get(), mode, "download", kThreads * kItems, 0.01);
    {
      std::vector<std::jthread> threads;
      for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&bar, t] {
          for (int i = 0; i < kItems; ++i) {
            bool ok = i % 5 != 0;
            if (!ok) bar.message(fmt::format("http://127.0.0.1/t{}/i{}.jpg: HTTP 500", t, i));
            bar.item_done(ok);
            if (i % 10 == 0) std::this_thread::sleep_for(1ms);
          }
        });
      }
    }
    EXPECT_EQ(bar.done(), static_cast<std::uint64_t>(kThreads * kItems));
    EXPECT_EQ(bar.failed(), static_cast<std::uint64_t>(kThreads * kItems / 5));
    EXPECT_EQ(bar.render_line().rfind("download  4,000/4,000  100%  ", 0), 0u) << bar.render_line();
    EXPECT_TRUE(bar.render_line().ends_with("  800 failed")) << bar.render_line();
  }
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kItems; i += 5) {
      expected.insert(fmt::format("http://127.0.0.1/t{}/i{}.jpg: HTTP 500", t, i));
    }
  }
  std::string text = contents(f.get());
  std::vector<std::string> lines = split_lines(text);
  std::string last = lines.back();
  lines.pop_back();
  std::set<std::string> seen;
  for (const std::string& line : lines) {
    std::string tail = visible_tail(line);
    if (mode == ProgressMode::live) {
      ASSERT_EQ(tail.rfind("\x1b[K", 0), 0u) << "not cleared before the message: " << line;
      tail.erase(0, 3);
    }
    if (expected.contains(tail)) {
      EXPECT_TRUE(seen.insert(tail).second) << "twice: " << tail;
    } else {
      ASSERT_TRUE(mode == ProgressMode::plain && tail.rfind("download  ", 0) == 0) << line;
    }
  }
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(visible_tail(last), mode == ProgressMode::live ? "\x1b[K" : "");
}

TEST(ReportProgressLive, ConcurrentItemsAndMessagesStayWhole) {
  run_concurrently(ProgressMode::live);
}

TEST(ReportProgressPlain, ConcurrentItemsAndMessagesStayWhole) {
  run_concurrently(ProgressMode::plain);
}
