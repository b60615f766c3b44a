#pragma once
// The results of `thumbfetch bench` as data, and the tables people and programs read them in:
// an aligned terminal table, Markdown, CSV and JSON. Every format shows the same columns:
// approach | strategy | workers | wall s | CPU s | ok/failed | images/s | speed-up vs serial, and
// a notes column that names failures and outputs that differ from the serial run's, never hidden.

#include <cstddef>
#include <string>
#include <vector>

namespace thumbfetch {

// One approach measured `repeat` times.
struct BenchRow {
  std::string step;               // "download", "thumbnails" or "pipeline"
  std::string approach;           // in words, e.g. "Download with 64 concurrent transfers (async)"
  std::string strategy;           // "serial", "threads", "async", "processes", "run"
  int workers = 1;                // threads, transfers or processes
  std::vector<double> wall_runs;  // seconds, one per repeat
  std::vector<double> cpu_runs;   // user+system seconds, children included, one per repeat
  int items = 0;                  // items in one run
  int ok = 0, failed = 0;         // of the last repeat
  std::string mismatch;           // "" when the outputs equal the serial run's; else what differs
};

struct BenchReport {
  std::string title;    // "thumbfetch bench"
  std::string machine;  // e.g. "2 cores, AMD EPYC 7B13, Linux 6.1" (filled by the caller)
  std::string source;   // e.g. "500 images from thumbfetch serve on 127.0.0.1, +50 ms latency"
  int repeat = 3;
  std::vector<BenchRow> rows;
};

struct RowFigures {
  double wall_median, wall_min, wall_max, cpu_median, images_per_s, speedup;
};

// Median/min/max of the row's runs (0 for no runs; the median of an even count is the mean of
// the middle two); images/s = ok / median wall (0 when the median is 0); speed-up = median wall
// of the first row with strategy "serial" in the same step divided by this row's median wall.
// For step "pipeline" the reference is the sum of the serial "download" and serial "thumbnails"
// medians, both needed. 0 when there is no reference. `row` must be < report.rows.size().
RowFigures figures(const BenchReport& report, size_t row);

// An aligned terminal table, numbers right-aligned, a blank line between steps; ends with '\n'.
std::string format_text_table(const BenchReport& report);

// "# title", the machine, source and runs, a GFM table, then the chart image (chart.png).
std::string format_markdown(const BenchReport& report);

// RFC 4180 (CRLF line ends, fields quoted when needed), a header row, one row per BenchRow with
// unrounded figures (speedup empty when there is no reference); the runs as "1.02;0.98;1.01".
std::string format_csv(const BenchReport& report);

// nlohmann::json dump(2): {title, machine, source, repeat, rows: [{step, approach, strategy,
// workers, items, ok, failed, mismatch, wall_runs, cpu_runs, figures: {wall_median, wall_min,
// wall_max, cpu_median, images_per_s, speedup}}]}; speedup is null when there is no reference.
// Invalid UTF-8 in the texts is replaced, never thrown on.
std::string format_json(const BenchReport& report);

}  // namespace thumbfetch
