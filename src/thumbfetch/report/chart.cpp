#include "thumbfetch/report/chart.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "thumbfetch/report/bench_cells.hpp"
#include "thumbfetch/report/markup.hpp"

namespace thumbfetch {

namespace {

constexpr int kWidth = 960;
constexpr int kMargin = 16;
constexpr int kValueRoom = 96;  // right of the longest bar, for "12.34 s ⚠"
constexpr int kTop = 64;        // below the title and subtitle
constexpr int kGroupHeading = 26;
constexpr int kRowHeight = 26;
constexpr int kBarHeight = 18;
constexpr double kCharWidth = 7.3;  // average advance of a 13 px sans-serif character
constexpr size_t kMaxLabel = 52;    // longer approach names are cut, the full name in a tooltip

// Cuts `text` to `max` code points, ending in "…" when cut.
std::string shorten(const std::string& text, size_t max) {
  if (display_width(text) <= max) return text;
  size_t points = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && points++ == max - 1) {
      return text.substr(0, i) + "…";
    }
  }
  return text;
}

// Gridline spacing of 1, 2 or 5 times a power of ten giving about five intervals.
struct Axis {
  double max = 1;
  double step = 0.2;
  int decimals = 1;
};
Axis nice_axis(double largest) {
  Axis axis;
  if (!(largest > 0) || !std::isfinite(largest)) return axis;
  const double raw = largest / 5;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / magnitude;
  axis.step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * magnitude;
  axis.max = std::ceil(largest / axis.step - 1e-9) * axis.step;
  axis.decimals = std::max(0, -static_cast<int>(std::floor(std::log10(axis.step) + 1e-9)));
  return axis;
}

struct Layout {
  int label_width = 0;  // the approach names, right-aligned against the bars
  int bars_left = 0;
  int bars_width = 0;
  int height = 0;
  Axis axis;
  double x_of(double seconds) const { return bars_left + bars_width * seconds / axis.max; }
};

Layout make_layout(const BenchReport& report, const std::vector<StepGroup>& groups) {
  Layout layout;
  size_t longest = 0;
  double slowest = 0;
  for (size_t i = 0; i < report.rows.size(); ++i) {
    longest = std::max(longest, display_width(shorten(report.rows[i].approach, kMaxLabel)));
    slowest = std::max(slowest, figures(report, i).wall_median);
  }
  layout.label_width = std::clamp(static_cast<int>(longest * kCharWidth) + 12, 120, 400);
  layout.bars_left = kMargin + layout.label_width;
  layout.bars_width = kWidth - layout.bars_left - kValueRoom - kMargin;
  layout.axis = nice_axis(slowest);
  const int body = static_cast<int>(groups.size()) * kGroupHeading +
                   static_cast<int>(report.rows.size()) * kRowHeight;
  layout.height = kTop + std::max(body, kRowHeight) + 64;
  return layout;
}

std::string draw_axis(const Layout& layout, int axis_y, int runs) {
  std::string out;
  for (double t = 0; t <= layout.axis.max + layout.axis.step / 2; t += layout.axis.step) {
    const double x = layout.x_of(t);
    out += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#dddddd\"/>\n"
        "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\" font-size=\"12\" "
        "fill=\"#444444\">{4:.{5}f}</text>\n",
        x, kTop - 4, axis_y, axis_y + 16, t, layout.axis.decimals);
  }
  out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"#888888\"/>\n",
                     layout.bars_left, axis_y, layout.bars_left + layout.bars_width);
  out += fmt::format(
      "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"13\" fill=\"#222222\">"
      "seconds (median of {} run{})</text>\n",
      layout.bars_left + layout.bars_width / 2, axis_y + 40, runs, runs == 1 ? "" : "s");
  return out;
}

std::string draw_bar(const BenchReport& report, size_t i, const Layout& layout, int y) {
  const BenchRow& row = report.rows[i];
  const double median = figures(report, i).wall_median;
  const double seconds = std::isfinite(median) && median > 0 ? median : 0;
  const double end = layout.x_of(seconds);
  const std::string warn = bench_note(row).empty() ? "" : " ⚠";
  return fmt::format(
      "<g><title>{2}</title><text x=\"{0}\" y=\"{1}\" text-anchor=\"end\" font-size=\"13\" "
      "fill=\"#222222\">{3}</text></g>\n"
      "<rect x=\"{4}\" y=\"{5}\" width=\"{6:.1f}\" height=\"{7}\" fill=\"{8}\"/>\n"
      "<text x=\"{9:.1f}\" y=\"{1}\" font-size=\"13\" fill=\"#222222\">{10} s{11}</text>\n",
      layout.bars_left - 8, y + 17, escape_markup(row.approach),
      escape_markup(shorten(row.approach, kMaxLabel)), layout.bars_left, y + 4,
      std::max(0.0, end - layout.bars_left), kBarHeight, step_colour(row.step), end + 6,
      format_seconds(seconds), warn);
}

}  // namespace

std::string step_colour(const std::string& step) {
  if (step == "download") return "#4e79a7";
  if (step == "thumbnails") return "#e8742a";
  if (step == "pipeline") return "#59a14f";
  return "#8c6d5a";
}

std::string render_bar_chart_svg(const BenchReport& report) {
  const std::vector<StepGroup> groups = group_by_step(report);
  const Layout layout = make_layout(report, groups);
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" role=\"img\">\n"
      "<rect width=\"{0}\" height=\"{1}\" fill=\"#ffffff\"/>\n"
      "<text x=\"{2}\" y=\"28\" font-size=\"18\" font-weight=\"bold\" fill=\"#111111\">{3}</text>\n"
      "<text x=\"{2}\" y=\"48\" font-size=\"12\" fill=\"#555555\">Median wall time per approach "
      "(shorter is faster)</text>\n",
      kWidth, layout.height, kMargin, escape_markup(report.title));
  int y = kTop;
  const int axis_y = kTop + std::max(static_cast<int>(groups.size()) * kGroupHeading +
                                         static_cast<int>(report.rows.size()) * kRowHeight,
                                     kRowHeight);
  out += draw_axis(layout, axis_y, report.repeat);
  if (groups.empty()) {
    out += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"13\">no results</text>\n",
                       layout.bars_left, kTop + 18);
  }
  for (const StepGroup& group : groups) {
    out += fmt::format(
        "<text x=\"{}\" y=\"{}\" font-size=\"13\" font-weight=\"bold\" fill=\"{}\">{}</text>\n",
        kMargin, y + 18, step_colour(group.step), escape_markup(group.step));
    y += kGroupHeading;
    for (size_t i : group.rows) {
      out += draw_bar(report, i, layout, y);
      y += kRowHeight;
    }
  }
  return out + "</svg>\n";
}

}  // namespace thumbfetch
