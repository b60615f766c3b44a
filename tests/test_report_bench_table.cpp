// The bench tables for people: figures() arithmetic, and the terminal and Markdown forms of a
// hand-made report with three steps, a row with failures and a row that differs from serial.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "support/report_fixtures.hpp"
#include "thumbfetch/report/bench_table.hpp"
#include "thumbfetch/report/markup.hpp"

using namespace thumbfetch;

namespace {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The terminal column at which `needle` ends in `line` (code points), or 0 when absent.
size_t end_column(const std::string& line, const std::string& needle) {
  const size_t at = line.find(needle);
  return at == std::string::npos ? 0 : display_width(line.substr(0, at + needle.size()));
}

const std::string* line_with(const std::vector<std::string>& lines, const std::string& needle) {
  for (const auto& line : lines) {
    if (line.find(needle) != std::string::npos) return &line;
  }
  return nullptr;
}

// The number of '|' in a Markdown table line that are not escaped as "\|".
int unescaped_pipes(const std::string& line) {
  int count = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '|' && (i == 0 || line[i - 1] != '\\')) ++count;
  }
  return count;
}

}  // namespace

TEST(ReportFigures, MediansRatesAndSpeedups) {
  const BenchReport r = test::sample_bench_report();
  RowFigures serial = figures(r, 0);
  EXPECT_DOUBLE_EQ(serial.wall_median, 11);
  EXPECT_DOUBLE_EQ(serial.wall_min, 10);
  EXPECT_DOUBLE_EQ(serial.wall_max, 12);
  EXPECT_DOUBLE_EQ(serial.cpu_median, 1.1);
  EXPECT_DOUBLE_EQ(serial.images_per_s, 100.0 / 11);
  EXPECT_DOUBLE_EQ(serial.speedup, 1.0);

  RowFigures threads = figures(r, 1);
  EXPECT_DOUBLE_EQ(threads.wall_median, 2.1);
  EXPECT_DOUBLE_EQ(threads.cpu_median, 1.2);
  EXPECT_DOUBLE_EQ(threads.speedup, 11 / 2.1);

  RowFigures async = figures(r, 2);
  EXPECT_DOUBLE_EQ(async.images_per_s, 98.0);  // ok items only, not failed ones
  EXPECT_DOUBLE_EQ(async.speedup, 11.0);

  EXPECT_DOUBLE_EQ(figures(r, 5).speedup, 8.0);  // against the thumbnails serial row
  EXPECT_DOUBLE_EQ(figures(r, 5).images_per_s, 200.0);
  EXPECT_DOUBLE_EQ(figures(r, 6).speedup, 3.0);  // pipeline: 5 s against 11 s + 4 s
}

TEST(ReportFigures, EvenCountsMissingReferencesAndNoRuns) {
  BenchReport r;
  r.rows = {{"download", "threads", "threads", 4, {4, 1, 3, 2}, {1, 2}, 10, 10, 0, ""},
            {"pipeline", "run", "run", 4, {2}, {}, 10, 10, 0, ""},
            {"thumbnails", "nothing measured", "serial", 1, {}, {}, 10, 0, 0, ""}};
  RowFigures f = figures(r, 0);
  EXPECT_DOUBLE_EQ(f.wall_median, 2.5);
  EXPECT_DOUBLE_EQ(f.cpu_median, 1.5);
  EXPECT_DOUBLE_EQ(f.speedup, 0);  // no serial download row
  EXPECT_DOUBLE_EQ(figures(r, 1).speedup, 0);
  RowFigures none = figures(r, 2);
  EXPECT_DOUBLE_EQ(none.wall_median, 0);
  EXPECT_DOUBLE_EQ(none.images_per_s, 0);
  EXPECT_DOUBLE_EQ(none.speedup, 0);

  // The pipeline needs both serial references.
  r.rows.push_back({"download", "serial", "serial", 1, {6}, {1}, 10, 10, 0, ""});
  EXPECT_DOUBLE_EQ(figures(r, 1).speedup, 0);
  r.rows[2].wall_runs = {4};
  EXPECT_DOUBLE_EQ(figures(r, 1).speedup, 5.0);
  EXPECT_DOUBLE_EQ(figures(r, 0).speedup, 6 / 2.5);
}

TEST(ReportTextTable, AlignedRoundedAndWarnings) {
  const std::string table = format_text_table(test::sample_bench_report());
  const auto lines = split_lines(table);
  ASSERT_EQ(lines.size(), 11u) << table;  // header, rule, 3 + blank + 3 + blank + 1
  EXPECT_TRUE(lines[5].empty());
  EXPECT_TRUE(lines[9].empty());
  for (const char* header : {"approach", "strategy", "workers", "wall s (median, min–max)", "CPU s",
                             "ok/failed", "images/s", "speed-up vs serial", "notes"}) {
    EXPECT_NE(lines[0].find(header), std::string::npos) << header;
  }
  EXPECT_NE(table.find("11.00 (10.00–12.00)"), std::string::npos) << table;
  EXPECT_NE(table.find("2.10 (2.00–2.20)"), std::string::npos);

  const std::string* async = line_with(lines, "(async)");
  ASSERT_TRUE(async);
  EXPECT_NE(async->find(" 98/2 "), std::string::npos) << *async;
  EXPECT_NE(async->find("98.0"), std::string::npos);
  EXPECT_NE(async->find("11.0x"), std::string::npos);
  EXPECT_NE(async->find("⚠ 2 failed"), std::string::npos);
  const std::string* differs = line_with(lines, "\"worker\" threads");
  ASSERT_TRUE(differs);
  EXPECT_NE(differs->find("⚠ differs from serial: 3 thumbnails differ (a.jpg, b.jpg, c.jpg)"),
            std::string::npos)
      << *differs;
  EXPECT_NE(line_with(lines, "worker processes")->find(" 200 "), std::string::npos);

  // Numbers are right-aligned: each column ends at the same place on every line.
  const size_t speedup_end = end_column(lines[0], "speed-up vs serial");
  EXPECT_EQ(end_column(*line_with(lines, "16 threads"), "5.2x"), speedup_end);
  EXPECT_EQ(end_column(*async, "11.0x"), speedup_end);
  EXPECT_EQ(end_column(*line_with(lines, "Download |"), "3.0x"), speedup_end);
  const size_t rate_end = end_column(lines[0], "images/s");
  EXPECT_EQ(end_column(*line_with(lines, "16 threads"), "47.6"), rate_end);
  EXPECT_EQ(end_column(*line_with(lines, "worker processes"), "200"), rate_end);
}

TEST(ReportTextTable, NoNotesColumnWhenAllIsWell) {
  BenchReport r = test::sample_bench_report();
  r.rows[2].failed = 0;
  r.rows[4].mismatch.clear();
  const std::string table = format_text_table(r);
  EXPECT_EQ(table.find("notes"), std::string::npos);
  EXPECT_EQ(table.find("⚠"), std::string::npos);
  r.repeat = 1;
  for (auto& row : r.rows) row.wall_runs.resize(1);
  const std::string single = format_text_table(r);
  EXPECT_EQ(single.find("min–max"), std::string::npos);
  EXPECT_NE(split_lines(single)[2].find("10.00"), std::string::npos) << single;
}

TEST(ReportMarkdown, HeadingMetadataAndTable) {
  const std::string md = format_markdown(test::sample_bench_report());
  const auto lines = split_lines(md);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], "# thumbfetch bench");
  EXPECT_NE(md.find("**Machine:** 2 cores, Test CPU &lt;fast&gt; &amp; cool, Linux 6.1"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("**Source:** 100 images from thumbfetch serve"), std::string::npos);
  EXPECT_NE(md.find("| approach | strategy | workers | wall s (median, min–max) | CPU s | "
                    "ok/failed | images/s | speed-up vs serial | notes |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| :--- | :--- | ---: | ---: | ---: | ---: | ---: | ---: | :--- |"),
            std::string::npos);
  int table_lines = 0;
  for (const auto& line : lines) {
    if (line.empty() || line[0] != '|') continue;
    ++table_lines;
    EXPECT_EQ(unescaped_pipes(line), 10) << line;
  }
  EXPECT_EQ(table_lines, 9);  // header, alignment, 7 rows
  EXPECT_NE(md.find("Download \\| thumbnail"), std::string::npos);
  const std::string* async = line_with(lines, "(async)");
  ASSERT_TRUE(async);
  EXPECT_NE(async->find("| 98/2 |"), std::string::npos) << *async;
  EXPECT_NE(async->find("| ⚠ 2 failed |"), std::string::npos);
  EXPECT_NE(md.find("| ⚠ differs from serial: 3 thumbnails differ"), std::string::npos);
  EXPECT_NE(md.find("![Median wall time per approach](chart.png)"), std::string::npos);
}

TEST(ReportMarkup, EscapesAndRepairsText) {
  EXPECT_EQ(escape_markup("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  EXPECT_EQ(escape_markup("ok ⚠ – fine"), "ok ⚠ – fine");
  EXPECT_EQ(escape_markup("bad\xff\xc3"), "bad\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(escape_markup(std::string("nul\0bell\x07", 9)), "nulbell");
  EXPECT_EQ(escape_markup("\xed\xa0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(display_width("10.00–12.00 ⚠"), 13u);
}
