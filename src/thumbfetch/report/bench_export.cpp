// format_csv and format_json: the bench results for programs, to 6 significant digits (never
// 8.300000000000061e-05).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "thumbfetch/report/bench_table.hpp"

namespace thumbfetch {

namespace {

// RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csv_number(double value) {
  return fmt::format("{:.6g}", value);
}

// A figure for the JSON: the CSV's 6 significant digits, as a number.
double six_digits(double value) {
  return std::stod(csv_number(value));
}

std::vector<double> six_digits(const std::vector<double>& values) {
  std::vector<double> out;
  for (double v : values) out.push_back(six_digits(v));
  return out;
}

std::string csv_runs(const std::vector<double>& runs) {
  std::string out;
  for (double run : runs) {
    if (!out.empty()) out += ';';
    out += csv_number(run);
  }
  return out;
}

std::string csv_line(const std::vector<std::string>& fields) {
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) line += ',';
    line += csv_field(fields[i]);
  }
  line += "\r\n";
  return line;
}

nlohmann::ordered_json json_row(const BenchReport& report, size_t i) {
  const BenchRow& row = report.rows[i];
  const RowFigures f = figures(report, i);
  nlohmann::ordered_json figures_json = {
      {"wall_median", six_digits(f.wall_median)},   {"wall_min", six_digits(f.wall_min)},
      {"wall_max", six_digits(f.wall_max)},         {"cpu_median", six_digits(f.cpu_median)},
      {"images_per_s", six_digits(f.images_per_s)},
  };
  figures_json["speedup"] = f.speedup > 0 ? nlohmann::ordered_json(six_digits(f.speedup))
                                          : nlohmann::ordered_json(nullptr);
  return {{"step", row.step},
          {"approach", row.approach},
          {"strategy", row.strategy},
          {"workers", row.workers},
          {"items", row.items},
          {"ok", row.ok},
          {"failed", row.failed},
          {"mismatch", row.mismatch},
          {"wall_runs", six_digits(row.wall_runs)},
          {"cpu_runs", six_digits(row.cpu_runs)},
          {"figures", figures_json}};
}

}  // namespace

std::string format_csv(const BenchReport& report) {
  std::string out = csv_line({"step", "approach", "strategy", "workers", "items", "ok", "failed",
                              "wall_median_s", "wall_min_s", "wall_max_s", "cpu_median_s",
                              "images_per_s", "speedup", "mismatch", "wall_runs_s", "cpu_runs_s"});
  for (size_t i = 0; i < report.rows.size(); ++i) {
    const BenchRow& row = report.rows[i];
    const RowFigures f = figures(report, i);
    out += csv_line({row.step, row.approach, row.strategy, std::to_string(row.workers),
                     std::to_string(row.items), std::to_string(row.ok), std::to_string(row.failed),
                     csv_number(f.wall_median), csv_number(f.wall_min), csv_number(f.wall_max),
                     csv_number(f.cpu_median), csv_number(f.images_per_s),
                     f.speedup > 0 ? csv_number(f.speedup) : "", row.mismatch,
                     csv_runs(row.wall_runs), csv_runs(row.cpu_runs)});
  }
  return out;
}

std::string format_json(const BenchReport& report) {
  nlohmann::ordered_json doc = {{"title", report.title},
                                {"machine", report.machine},
                                {"source", report.source},
                                {"repeat", report.repeat},
                                {"rows", nlohmann::ordered_json::array()}};
  for (size_t i = 0; i < report.rows.size(); ++i) doc["rows"].push_back(json_row(report, i));
  return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace thumbfetch
