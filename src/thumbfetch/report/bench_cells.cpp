#include "thumbfetch/report/bench_cells.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace thumbfetch {

namespace {

constexpr const char* kNoValue = "–";  // en dash: no value, not zero

}  // namespace

std::vector<std::string> bench_headers(const BenchReport& report) {
  bool several_runs = report.repeat > 1;
  for (const auto& row : report.rows) several_runs = several_runs || row.wall_runs.size() > 1;
  return {"approach", "strategy",  "workers",  several_runs ? "wall s (median, min–max)" : "wall s",
          "CPU s",    "ok/failed", "images/s", "speed-up vs serial",
          "notes"};
}

bool is_numeric(BenchColumn column) {
  switch (column) {
    case BenchColumn::workers:
    case BenchColumn::wall:
    case BenchColumn::cpu:
    case BenchColumn::ok_failed:
    case BenchColumn::images_per_s:
    case BenchColumn::speedup:
      return true;
    default:
      return false;
  }
}

std::vector<std::string> bench_cells(const BenchReport& report, size_t row) {
  const BenchRow& r = report.rows.at(row);
  const RowFigures f = figures(report, row);
  std::string wall = r.wall_runs.empty() ? kNoValue : format_seconds(f.wall_median);
  if (r.wall_runs.size() > 1) {
    wall += fmt::format(" ({}–{})", format_seconds(f.wall_min), format_seconds(f.wall_max));
  }
  return {r.approach,
          r.strategy,
          std::to_string(r.workers),
          wall,
          r.cpu_runs.empty() ? kNoValue : format_seconds(f.cpu_median),
          fmt::format("{}/{}", r.ok, r.failed),
          r.wall_runs.empty() ? kNoValue : format_rate(f.images_per_s),
          format_speedup(f.speedup),
          bench_note(r)};
}

std::string bench_note(const BenchRow& row) {
  std::string note;
  if (row.failed > 0) note = fmt::format("⚠ {} failed", row.failed);
  if (!row.mismatch.empty()) {
    if (!note.empty()) note += "; ";
    note += "⚠ differs from serial: ";
    note += row.mismatch;
  }
  return note;
}

bool has_notes(const BenchReport& report) {
  return std::any_of(report.rows.begin(), report.rows.end(),
                     [](const BenchRow& row) { return !bench_note(row).empty(); });
}

std::string format_seconds(double seconds) {
  return fmt::format("{:.2f}", seconds);
}

std::string format_rate(double per_second) {
  return per_second >= 100 ? fmt::format("{:.0f}", per_second) : fmt::format("{:.1f}", per_second);
}

std::string format_speedup(double speedup) {
  return speedup > 0 ? fmt::format("{:.1f}x", speedup) : kNoValue;
}

std::vector<StepGroup> group_by_step(const BenchReport& report) {
  std::vector<StepGroup> groups;
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < report.rows.size(); ++i) {
    const std::string& step = report.rows[i].step;
    auto [it, added] = index.emplace(step, groups.size());
    if (added) groups.push_back(StepGroup{step, {}});
    groups[it->second].rows.push_back(i);
  }
  return groups;
}

}  // namespace thumbfetch
