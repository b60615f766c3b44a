// The bench results for programs: CSV read back by a strict RFC 4180 reader, JSON parsed by
// nlohmann, both for a report with failures, a mismatch and texts that need quoting.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "support/report_fixtures.hpp"
#include "thumbfetch/report/bench_table.hpp"

using namespace thumbfetch;

namespace {

// A strict RFC 4180 reader: CRLF records, quoted fields with doubled quotes.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> records(1);
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      EXPECT_TRUE(field.empty()) << "quote inside an unquoted field";
      quoted = true;
    } else if (c == ',') {
      records.back().push_back(field);
      field.clear();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      records.back().push_back(field);
      field.clear();
      records.emplace_back();
      ++i;
    } else {
      EXPECT_NE(c, '\n') << "bare LF in CSV";
      field += c;
    }
  }
  EXPECT_FALSE(quoted) << "unterminated quoted field";
  EXPECT_TRUE(records.back().empty() && field.empty()) << "last record not ended by CRLF";
  records.pop_back();
  return records;
}

}  // namespace

TEST(ReportCsv, ParsesBackToTheRows) {
  const BenchReport report = test::sample_bench_report();
  const auto records = parse_csv(format_csv(report));
  ASSERT_EQ(records.size(), 8u);
  const std::vector<std::string> header = {
      "step",    "approach",      "strategy",    "workers",    "items",        "ok",
      "failed",  "wall_median_s", "wall_min_s",  "wall_max_s", "cpu_median_s", "images_per_s",
      "speedup", "mismatch",      "wall_runs_s", "cpu_runs_s"};
  EXPECT_EQ(records[0], header);
  for (size_t i = 1; i < records.size(); ++i) {
    ASSERT_EQ(records[i].size(), header.size()) << i;
    EXPECT_EQ(records[i][0], report.rows[i - 1].step);
    EXPECT_EQ(records[i][1], report.rows[i - 1].approach);
    EXPECT_EQ(records[i][13], report.rows[i - 1].mismatch);
  }
  EXPECT_EQ(records[5][1], "Thumbnails, 2 \"worker\" threads");
  EXPECT_EQ(records[5][13], "3 thumbnails differ (a.jpg, b.jpg, c.jpg)");
  EXPECT_EQ(records[3][5], "98");
  EXPECT_EQ(records[3][6], "2");
  EXPECT_EQ(records[3][14], "1;1.1;0.9");
  EXPECT_NEAR(std::stod(records[2][7]), 2.1, 1e-9);
  EXPECT_NEAR(std::stod(records[2][12]), 11 / 2.1, 1e-5);
  EXPECT_NEAR(std::stod(records[7][12]), 3.0, 1e-9);
}

TEST(ReportJson, MetadataRowsRunsAndFigures) {
  BenchReport report = test::sample_bench_report();
  report.rows.push_back({"other", "bad \xff bytes", "threads", 2, {1}, {1}, 1, 1, 0, ""});
  const nlohmann::json doc = nlohmann::json::parse(format_json(report));
  EXPECT_EQ(doc["title"], "thumbfetch bench");
  EXPECT_EQ(doc["machine"], report.machine);
  EXPECT_EQ(doc["source"], report.source);
  EXPECT_EQ(doc["repeat"], 3);
  ASSERT_EQ(doc["rows"].size(), 8u);
  const auto& async = doc["rows"][2];
  EXPECT_EQ(async["step"], "download");
  EXPECT_EQ(async["strategy"], "async");
  EXPECT_EQ(async["workers"], 64);
  EXPECT_EQ(async["ok"], 98);
  EXPECT_EQ(async["failed"], 2);
  EXPECT_EQ(async["wall_runs"], nlohmann::json({1.0, 1.1, 0.9}));
  // Figures to 6 significant digits: no float noise in the text.
  BenchReport noisy = report;
  noisy.rows[2].cpu_runs = {8.300000000000061e-05, 0.1 + 0.2};
  const std::string text = format_json(noisy);
  EXPECT_EQ(nlohmann::json::parse(text)["rows"][2]["cpu_runs"], nlohmann::json({8.3e-05, 0.3}));
  EXPECT_EQ(text.find("000000000"), std::string::npos) << text;
  EXPECT_DOUBLE_EQ(async["figures"]["wall_median"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(async["figures"]["speedup"].get<double>(), 11.0);
  EXPECT_EQ(doc["rows"][4]["mismatch"], "3 thumbnails differ (a.jpg, b.jpg, c.jpg)");
  EXPECT_DOUBLE_EQ(doc["rows"][6]["figures"]["speedup"].get<double>(), 3.0);
  EXPECT_TRUE(doc["rows"][7]["figures"]["speedup"].is_null());  // no serial "other" row
  EXPECT_EQ(doc["rows"][7]["approach"], "bad \xEF\xBF\xBD bytes");
}
