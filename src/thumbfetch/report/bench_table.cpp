#include "thumbfetch/report/bench_table.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "thumbfetch/report/bench_cells.hpp"
#include "thumbfetch/report/markup.hpp"

namespace thumbfetch {

namespace {

double median_of(std::vector<double> runs) {
  if (runs.empty()) return 0;
  std::sort(runs.begin(), runs.end());
  const size_t mid = runs.size() / 2;
  return runs.size() % 2 == 1 ? runs[mid] : (runs[mid - 1] + runs[mid]) / 2;
}

// The median wall time of the first serial row of `step`, or 0.
double serial_median(const BenchReport& report, const std::string& step) {
  for (const auto& row : report.rows) {
    if (row.step == step && row.strategy == "serial") return median_of(row.wall_runs);
  }
  return 0;
}

double reference_seconds(const BenchReport& report, const std::string& step) {
  if (step != "pipeline") return serial_median(report, step);
  const double download = serial_median(report, "download");
  const double thumbnails = serial_median(report, "thumbnails");
  return download > 0 && thumbnails > 0 ? download + thumbnails : 0;
}

std::string pad(const std::string& text, size_t width, bool right_align) {
  const size_t used = display_width(text);
  const std::string fill(width > used ? width - used : 0, ' ');
  return right_align ? fill + text : text + fill;
}

std::string text_line(const std::vector<std::string>& cells, const std::vector<size_t>& widths) {
  std::string line;
  for (size_t c = 0; c < widths.size(); ++c) {
    const bool last = c + 1 == widths.size();
    const bool right = is_numeric(static_cast<BenchColumn>(c));
    line += last && !right ? cells[c] : pad(cells[c], widths[c], right);
    if (!last) line += "  ";
  }
  line.erase(line.find_last_not_of(' ') + 1);  // an empty notes cell leaves no trailing blanks
  line += '\n';
  return line;
}

// Markdown cell text: pipes and line breaks would end the cell, < and & would start HTML.
std::string markdown_text(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '|':
        out += "\\|";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '\n':
      case '\r':
        out += ' ';
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string markdown_row(const std::vector<std::string>& cells, size_t columns) {
  std::string line = "|";
  for (size_t c = 0; c < columns; ++c) {
    line += ' ';
    line += markdown_text(cells[c]);
    line += " |";
  }
  line += '\n';
  return line;
}

}  // namespace

RowFigures figures(const BenchReport& report, size_t row) {
  const BenchRow& r = report.rows.at(row);
  RowFigures f{};
  f.wall_median = median_of(r.wall_runs);
  if (!r.wall_runs.empty()) {
    const auto [lo, hi] = std::minmax_element(r.wall_runs.begin(), r.wall_runs.end());
    f.wall_min = *lo;
    f.wall_max = *hi;
  }
  f.cpu_median = median_of(r.cpu_runs);
  f.images_per_s = f.wall_median > 0 ? r.ok / f.wall_median : 0;
  const double reference = reference_seconds(report, r.step);
  f.speedup = reference > 0 && f.wall_median > 0 ? reference / f.wall_median : 0;
  return f;
}

std::string format_text_table(const BenchReport& report) {
  const size_t columns = has_notes(report) ? bench_column_count : bench_column_count - 1;
  std::vector<std::string> headers = bench_headers(report);
  std::vector<std::vector<std::string>> rows;
  std::vector<size_t> widths(columns, 0);
  for (size_t c = 0; c < columns; ++c) widths[c] = display_width(headers[c]);
  for (size_t i = 0; i < report.rows.size(); ++i) {
    rows.push_back(bench_cells(report, i));
    for (size_t c = 0; c < columns; ++c) {
      widths[c] = std::max(widths[c], display_width(rows.back()[c]));
    }
  }
  headers.resize(columns);
  std::string out = text_line(headers, widths);
  std::vector<std::string> rules;
  for (size_t w : widths) rules.emplace_back(w, '-');
  out += text_line(rules, widths);
  bool first = true;
  for (const StepGroup& group : group_by_step(report)) {
    if (!first) out += "\n";
    first = false;
    for (size_t i : group.rows) out += text_line(rows[i], widths);
  }
  return out;
}

std::string format_markdown(const BenchReport& report) {
  const size_t columns = has_notes(report) ? bench_column_count : bench_column_count - 1;
  std::string out = "# " + markdown_text(report.title) + "\n\n";
  out += "**Machine:** " + markdown_text(report.machine) + "  \n";
  out += "**Source:** " + markdown_text(report.source) + "  \n";
  out += fmt::format("**Runs:** {} per approach; wall and CPU seconds are medians", report.repeat);
  out += report.repeat > 1 ? ", wall min–max in brackets.\n\n" : ".\n\n";
  out += markdown_row(bench_headers(report), columns);
  out += "|";
  for (size_t c = 0; c < columns; ++c) {
    out += is_numeric(static_cast<BenchColumn>(c)) ? " ---: |" : " :--- |";
  }
  out += "\n";
  for (const StepGroup& group : group_by_step(report)) {
    for (size_t i : group.rows) out += markdown_row(bench_cells(report, i), columns);
  }
  out += "\n![Median wall time per approach](chart.png)\n";
  return out;
}

}  // namespace thumbfetch
