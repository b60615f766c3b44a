#include "thumbfetch/report/html_report.hpp"

#include <fmt/format.h>

#include <span>
#include <string>
#include <system_error>

#include "thumbfetch/report/chart.hpp"
#include "thumbfetch/report/contact_sheet.hpp"
#include "thumbfetch/report/html_page.hpp"
#include "thumbfetch/util/atomic_file.hpp"

namespace thumbfetch {

namespace {

std::span<const unsigned char> bytes_of(const std::string& text) {
  return {reinterpret_cast<const unsigned char*>(text.data()), text.size()};
}

// The files of one report folder, and what went wrong making them.
class ReportWriter {
 public:
  explicit ReportWriter(std::filesystem::path dir) : dir_(std::move(dir)) {}

  void write(const char* name, std::span<const unsigned char> bytes) {
    if (Status st = write_file_atomically(dir_ / name, bytes); !st) problem(name, st.error());
  }
  void write(const char* name, const std::string& text) { write(name, bytes_of(text)); }
  void problem(const char* name, const Error& error) {
    if (problems_.empty()) kind_ = error.kind;
    if (!problems_.empty()) problems_ += "; ";
    problems_ += fmt::format("{}: {}", name, error.message);
  }
  Status status() const {
    if (problems_.empty()) return Ok{};
    return make_error(kind_, "report in " + dir_.string() + " incomplete: " + problems_);
  }

 private:
  std::filesystem::path dir_;
  std::string problems_;
  ErrorKind kind_ = ErrorKind::internal;
};

}  // namespace

Status write_report_dir(const BenchReport& report, const std::filesystem::path& dir,
                        const std::vector<std::filesystem::path>& thumbnails) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return make_error(ErrorKind::write, "cannot create " + dir.string() + ": " + ec.message());
  }

  ReportWriter out(dir);
  out.write("report.md", format_markdown(report));
  out.write("results.csv", format_csv(report));
  out.write("results.json", format_json(report));
  const std::string svg = render_bar_chart_svg(report);
  out.write("chart.svg", svg);
  if (auto png = svg_to_png(svg)) {
    out.write("chart.png", *png);
  } else {
    out.problem("chart.png", png.error());
  }

  ContactSheet sheet;
  if (auto made = make_contact_sheet(thumbnails); !made) {
    out.problem("contact.jpg", made.error());
  } else if (!made->jpeg.empty()) {
    sheet = std::move(made).value();
    out.write("contact.jpg", sheet.jpeg);
  } else if (!thumbnails.empty()) {
    sheet = std::move(made).value();
    out.problem("contact.jpg",
                make_error(ErrorKind::io,
                           "none of the " + std::to_string(thumbnails.size()) +
                               " thumbnails could be read (first: " + sheet.first_problem + ")"));
  }
  // Last, so that what it links to is already there.
  out.write("index.html", render_index_html(report, svg, sheet, thumbnails.size()));
  return out.status();
}

}  // namespace thumbfetch
