#pragma once
// For the report tests: a hand-made bench report with three steps, a row with failures, a row
// whose output differs from the serial run's and texts that need escaping in every format; and
// a check that markup is well formed.

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "thumbfetch/report/bench_table.hpp"

namespace thumbfetch::test {

// A row of 100 items.
inline BenchRow bench_row(std::string step, std::string approach, std::string strategy, int workers,
                          std::vector<double> wall, std::vector<double> cpu, int ok = 100,
                          int failed = 0, std::string mismatch = "") {
  return BenchRow{std::move(step),
                  std::move(approach),
                  std::move(strategy),
                  workers,
                  std::move(wall),
                  std::move(cpu),
                  100,
                  ok,
                  failed,
                  std::move(mismatch)};
}

inline BenchReport sample_bench_report() {
  BenchReport r;
  r.title = "thumbfetch bench";
  r.machine = "2 cores, Test CPU <fast> & cool, Linux 6.1";
  r.source = "100 images from thumbfetch serve on 127.0.0.1, +50 ms latency";
  r.repeat = 3;
  r.rows = {
      bench_row("download", "Download one at a time", "serial", 1, {10, 12, 11}, {1.0, 1.2, 1.1}),
      bench_row("download", "Download with 16 threads", "threads", 16, {2.0, 2.2, 2.1},
                {1.3, 1.1, 1.2}),
      bench_row("download", "Download with 64 concurrent transfers (async)", "async", 64,
                {1.0, 1.1, 0.9}, {0.8, 0.9, 1.0}, 98, 2),
      bench_row("thumbnails", "Thumbnails one at a time", "serial", 1, {4, 4, 4}, {3.9, 3.9, 3.9}),
      bench_row("thumbnails", "Thumbnails, 2 \"worker\" threads", "threads", 2, {2, 2, 2},
                {4, 4, 4}, 100, 0, "3 thumbnails differ (a.jpg, b.jpg, c.jpg)"),
      bench_row("thumbnails", "Thumbnails in 2 worker processes", "processes", 2, {0.5, 0.4, 0.6},
                {4.2, 4.1, 4.3}),
      bench_row("pipeline", "Download | thumbnail, 64 transfers + 2 threads", "run", 64, {5, 5, 5},
                {5.1, 5.0, 5.2}),
  };
  return r;
}

// Tags nest properly (every start tag closed or self-closed, HTML's <meta>, <br> and <img>
// aside) and every '&' starts an entity. Enough to catch broken escaping or a missing close.
inline ::testing::AssertionResult well_formed_markup(const std::string& xml) {
  std::vector<std::string> open;
  for (size_t i = xml.find('<'); i != std::string::npos; i = xml.find('<', i + 1)) {
    const size_t end = xml.find('>', i);
    if (end == std::string::npos) return ::testing::AssertionFailure() << "unclosed tag at " << i;
    const std::string tag = xml.substr(i + 1, end - i - 1);
    if (tag.empty() || tag[0] == '!' || tag[0] == '?' || tag.back() == '/') continue;
    const std::string name = tag.substr(tag[0] == '/' ? 1 : 0, tag.find(' ') - (tag[0] == '/'));
    if (name == "meta" || name == "br" || name == "img") continue;  // HTML's void elements
    if (tag[0] != '/') {
      open.push_back(name);
    } else if (open.empty() || open.back() != name) {
      return ::testing::AssertionFailure() << "</" << name << "> at " << i << " closes "
                                           << (open.empty() ? "nothing" : open.back());
    } else {
      open.pop_back();
    }
  }
  if (!open.empty()) return ::testing::AssertionFailure() << "<" << open.back() << "> not closed";
  if (std::regex_search(xml, std::regex("&(?!amp;|lt;|gt;|quot;|#39;)"))) {
    return ::testing::AssertionFailure() << "a bare '&'";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace thumbfetch::test
