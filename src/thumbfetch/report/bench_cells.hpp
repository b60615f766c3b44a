#pragma once
// The cells of a bench table as text, shared by the terminal, Markdown and HTML tables so they
// all round the same way and show the same warnings.

#include <cstddef>
#include <string>
#include <vector>

#include "thumbfetch/report/bench_table.hpp"

namespace thumbfetch {

// The columns, in order; the last one is "notes".
enum class BenchColumn {
  approach,
  strategy,
  workers,
  wall,
  cpu,
  ok_failed,
  images_per_s,
  speedup,
  notes,
};
inline constexpr size_t bench_column_count = 9;

// "wall s" reads "wall s (median, min–max)" when the report has more than one run per row.
std::vector<std::string> bench_headers(const BenchReport& report);

// True for the columns that hold numbers (right-aligned).
bool is_numeric(BenchColumn column);

// One row's cells, rounded for people, in column order.
std::vector<std::string> bench_cells(const BenchReport& report, size_t row);

// "" for a clean row; else "⚠ 2 failed" and/or "⚠ differs from serial: <what>", joined by "; ".
std::string bench_note(const BenchRow& row);

// True when some row has a note: the tables show the notes column only then.
bool has_notes(const BenchReport& report);

// Seconds with 2 decimals ("1.23").
std::string format_seconds(double seconds);
// 0 decimals from 100 up, else 1 ("480", "47.6").
std::string format_rate(double per_second);
// "3.2x"; "–" when there is no reference (0).
std::string format_speedup(double speedup);

// The steps in order of first appearance, each with its rows in input order.
struct StepGroup {
  std::string step;
  std::vector<size_t> rows;
};
std::vector<StepGroup> group_by_step(const BenchReport& report);

}  // namespace thumbfetch
