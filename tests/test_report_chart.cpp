// The bench chart: SVG text checked for structure, values and escaping; the PNG rendered from
// it by libvips' SVG loader, decoded and looked at; the untrusted-loader block left in place.
#include <gtest/gtest.h>

#include <vips/vips8>

#include <algorithm>
#include <string>
#include <vector>

#include "support/report_fixtures.hpp"
#include "thumbfetch/report/chart.hpp"

using namespace thumbfetch;
using vips::VImage;

namespace {

int count_of(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

VImage load_png(const std::vector<unsigned char>& png) {
  return VImage::new_from_buffer(png.data(), png.size(), "").copy_memory();
}

}  // namespace

TEST(ReportChart, SvgIsWellFormedAndShowsTheValues) {
  const std::string svg = render_bar_chart_svg(test::sample_bench_report());
  ASSERT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"960\" height=\"", 0), 0u)
      << svg.substr(0, 200);
  EXPECT_TRUE(test::well_formed_markup(svg));
  EXPECT_EQ(count_of(svg, "<svg"), 1);
  EXPECT_EQ(count_of(svg, "<rect"), 8);  // the background and one bar per row
  for (const char* value :
       {">11.00 s<", ">2.10 s<", ">1.00 s ⚠<", ">4.00 s<", ">2.00 s ⚠<", ">0.50 s<", ">5.00 s<"}) {
    EXPECT_NE(svg.find(value), std::string::npos) << value;
  }
  EXPECT_NE(svg.find("seconds (median of 3 runs)"), std::string::npos);
  EXPECT_NE(svg.find("font-family=\"sans-serif\""), std::string::npos);
  EXPECT_NE(svg.find(">Thumbnails, 2 &quot;worker&quot; threads<"), std::string::npos);
  EXPECT_NE(svg.find(">Download | thumbnail, 64 transfers + 2 threads<"), std::string::npos);
  EXPECT_EQ(svg.find("\"worker\""), std::string::npos);
  for (const char* step : {">download<", ">thumbnails<", ">pipeline<"}) {
    EXPECT_NE(svg.find(step), std::string::npos) << step;
  }
  EXPECT_TRUE(test::well_formed_markup(render_bar_chart_svg(BenchReport{})));  // no rows at all
}

TEST(ReportChart, PngIsRenderedAndTheSvgBlockStays) {
  const std::string svg = render_bar_chart_svg(test::sample_bench_report());
  auto png = svg_to_png(svg);
  ASSERT_TRUE(png.ok()) << png.error().message;
  const std::vector<unsigned char> signature = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  ASSERT_GT(png->size(), signature.size());
  EXPECT_TRUE(std::equal(signature.begin(), signature.end(), png->begin()));
  VImage image = load_png(*png);
  EXPECT_EQ(image.width(), 960);
  EXPECT_GT(image.height(), 300);
  EXPECT_GT(image.deviate(), 20);  // bars and text on white, not a blank page
  ASSERT_GE(image.bands(), 3);
  EXPECT_GT((image[2] - image[0]).max(), 60);   // the blue download bars (#4e79a7)
  EXPECT_GT((image[0] - image[2]).max(), 150);  // the orange thumbnail bars (#e8742a)

  // The project's block of untrusted loaders is back in force for everything else.
  EXPECT_THROW(VImage::new_from_buffer(svg.data(), svg.size(), ""), vips::VError);
  vips_error_clear();
  EXPECT_FALSE(svg_to_png("<svg this is not svg").ok());
}

TEST(ReportChart, LongNamesAreCutAndOneRunIsSaid) {
  BenchReport report;
  report.title = "one run";
  report.repeat = 1;
  const std::string name(80, 'a');
  report.rows.push_back(test::bench_row("download", name + " ⚠⚠", "serial", 1, {0.123}, {0.1}));
  const std::string svg = render_bar_chart_svg(report);
  EXPECT_TRUE(test::well_formed_markup(svg));
  EXPECT_NE(svg.find("<title>" + name + " ⚠⚠</title>"), std::string::npos);  // the full name
  EXPECT_NE(svg.find(">" + name.substr(0, 51) + "…</text>"), std::string::npos);
  EXPECT_NE(svg.find(">0.12 s<"), std::string::npos);
  EXPECT_NE(svg.find("seconds (median of 1 run)"), std::string::npos);
  EXPECT_NE(svg.find(">0.14<"), std::string::npos) << "axis ticks of 0.02 s";
}
