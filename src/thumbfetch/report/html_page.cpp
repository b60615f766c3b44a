#include "thumbfetch/report/html_page.hpp"

#include <fmt/format.h>

#include "thumbfetch/report/bench_cells.hpp"
#include "thumbfetch/report/chart.hpp"
#include "thumbfetch/report/markup.hpp"

namespace thumbfetch {

namespace {

constexpr std::string_view kStyle = R"(
body { font-family: system-ui, "Segoe UI", "DejaVu Sans", sans-serif; color: #1d1d1f;
       background: #ffffff; margin: 0; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 32px 48px; }
h1 { font-size: 28px; margin: 0 0 8px; }
h2 { font-size: 19px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #e3e3e3; }
p { line-height: 1.5; max-width: 70em; }
.meta { color: #444444; margin: 0; }
.files a { margin-right: 14px; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; }
th, td { padding: 5px 7px; border-bottom: 1px solid #e6e6e6; text-align: left; vertical-align: top; }
thead th { background: #f3f4f6; border-bottom: 2px solid #cfd3d8; white-space: nowrap; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.step th { background: #fafafa; font-size: 12px; text-transform: uppercase;
             letter-spacing: 0.06em; color: #555555; border-left: 4px solid; }
tr.warn td { background: #fff5dc; }
td.note { color: #8a4500; }
tbody td:first-child { min-width: 14em; }
figure { margin: 0; }
figure svg { max-width: 100%; height: auto; }
img.sheet { max-width: 100%; height: auto; border: 1px solid #dddddd; }
)";

std::string table_head(const BenchReport& report, size_t columns) {
  const std::vector<std::string> headers = bench_headers(report);
  std::string out = "<thead><tr>";
  for (size_t c = 0; c < columns; ++c) {
    const bool num = is_numeric(static_cast<BenchColumn>(c));
    out += fmt::format("<th{}>{}</th>", num ? " class=\"num\"" : "", escape_markup(headers[c]));
  }
  return out + "</tr></thead>\n";
}

std::string table_row(const BenchReport& report, size_t i, size_t columns) {
  const std::vector<std::string> cells = bench_cells(report, i);
  const bool warn = !bench_note(report.rows[i]).empty();
  std::string out = warn ? "<tr class=\"warn\">" : "<tr>";
  for (size_t c = 0; c < columns; ++c) {
    const auto column = static_cast<BenchColumn>(c);
    const char* cls = is_numeric(column)             ? " class=\"num\""
                      : column == BenchColumn::notes ? " class=\"note\""
                                                     : "";
    out += fmt::format("<td{}>{}</td>", cls, escape_markup(cells[c]));
  }
  return out + "</tr>\n";
}

std::string results_table(const BenchReport& report) {
  const size_t columns = has_notes(report) ? bench_column_count : bench_column_count - 1;
  std::string out = "<table>\n" + table_head(report, columns);
  for (const StepGroup& group : group_by_step(report)) {
    out += fmt::format(
        "<tbody>\n<tr class=\"step\"><th colspan=\"{}\" style=\"border-left-color: {}\">{}</th>"
        "</tr>\n",
        columns, step_colour(group.step), escape_markup(group.step));
    for (size_t i : group.rows) out += table_row(report, i, columns);
    out += "</tbody>\n";
  }
  return out + "</table>\n";
}

std::string how_to_read(const BenchReport& report) {
  return fmt::format(
      "<h2>How to read this</h2>\n"
      "<p><b>Wall s</b> is the elapsed time of one run (the median of {0}{1}); <b>CPU s</b> is "
      "the user and system time of thumbfetch and its worker processes in that run. "
      "<b>Speed-up</b> divides the serial row's median wall time by this row's; for the "
      "pipeline, the serial download plus the serial thumbnails. A ⚠ marks a row with failed "
      "items or whose output differs from the serial run's.</p>\n"
      "<p><b>Downloads</b> mostly wait on the network: threads and async transfers overlap that "
      "waiting, so wall time drops while the CPU column stays low: the extra transfers are "
      "waiting, not working. <b>Thumbnails</b> are CPU-bound: decoding and resizing keep a core "
      "busy, so wall time falls with the number of cores and CPU time stays about the same. In "
      "C++ threads run in parallel (there is no GIL), so threads scale like processes, without "
      "their start-up and copying.</p>\n",
      report.repeat, report.repeat > 1 ? " runs; the smallest and largest in brackets" : " run");
}

std::string contact_section(const ContactSheet& sheet, size_t given) {
  if (given == 0) return "";
  std::string out = "<h2>Contact sheet</h2>\n";
  if (sheet.shown == 0) {
    return out + "<p>No contact sheet: none of the " + std::to_string(given) +
           " thumbnails could be read (" + escape_markup(sheet.first_problem) + ").</p>\n";
  }
  std::string caption = fmt::format("{} thumbnail{}", sheet.shown, sheet.shown == 1 ? "" : "s");
  if (given > static_cast<size_t>(kContactLimit))
    caption += fmt::format(", the first of {}", given);
  if (sheet.unreadable > 0) {
    caption +=
        fmt::format("; {} could not be read (first: {})", sheet.unreadable, sheet.first_problem);
  }
  return out + fmt::format(
                   "<p>{}.</p>\n<img class=\"sheet\" src=\"contact.jpg\" width=\"{}\" "
                   "height=\"{}\" alt=\"Contact sheet of the thumbnails\">\n",
                   escape_markup(caption), sheet.width, sheet.height);
}

}  // namespace

std::string render_index_html(const BenchReport& report, std::string_view chart_svg,
                              const ContactSheet& sheet, size_t thumbnails_given) {
  std::string out = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>{0}</title>\n<style>{1}</style>\n</head>\n<body>\n<main>\n<h1>{0}</h1>\n"
      "<p class=\"meta\"><b>Machine:</b> {2}<br>\n<b>Source:</b> {3}<br>\n"
      "<b>Runs:</b> {4} per approach</p>\n",
      escape_markup(report.title), kStyle, escape_markup(report.machine),
      escape_markup(report.source), report.repeat);
  out += "<h2>Results</h2>\n" + results_table(report);
  out +=
      "<p class=\"files\">The same results: <a href=\"report.md\">report.md</a> "
      "<a href=\"results.csv\">results.csv</a> <a href=\"results.json\">results.json</a> "
      "<a href=\"chart.svg\">chart.svg</a> <a href=\"chart.png\">chart.png</a></p>\n";
  out += "<h2>Chart</h2>\n<figure class=\"chart\">\n";
  out += chart_svg;
  out += "</figure>\n";
  out += how_to_read(report);
  out += contact_section(sheet, thumbnails_given);
  return out + "</main>\n</body>\n</html>\n";
}

}  // namespace thumbfetch
