#pragma once
// A bench report as a folder a person can open offline: index.html with the table, the chart
// and a contact sheet, plus the same results as Markdown, CSV, JSON, SVG and PNG.

#include <filesystem>
#include <vector>

#include "thumbfetch/report/bench_table.hpp"
#include "thumbfetch/util/error.hpp"

namespace thumbfetch {

// Writes into `dir` (created if missing), each file atomically: report.md, results.csv,
// results.json, chart.svg, chart.png, contact.jpg (the first 200 `thumbnails` on a grid; not
// written when the list is empty or none can be read) and index.html (self-contained, the chart
// inline, contact.jpg beside it), which is written last. A file that cannot be made does not stop
// the others: the error names every one that is missing (ErrorKind of the first problem).
Status write_report_dir(const BenchReport& report, const std::filesystem::path& dir,
                        const std::vector<std::filesystem::path>& thumbnails);

}  // namespace thumbfetch
