// The report folder, checked down to a real browser: Chromium renders index.html and the
// screenshot must show the chart and the contact sheet.
#include <gtest/gtest.h>

#include <vips/vips8>

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/image_fixtures.hpp"
#include "support/report_fixtures.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"
#include "thumbfetch/report/chart.hpp"
#include "thumbfetch/report/html_report.hpp"
#include "thumbfetch/util/atomic_file.hpp"

using namespace thumbfetch;
using vips::VImage;
namespace fs = std::filesystem;

namespace {

int count_of(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// Thumbnails of several shapes, as a thumbnail run would leave them.
std::vector<fs::path> make_thumbnails(const fs::path& dir) {
  fs::create_directories(dir);
  std::vector<fs::path> paths;
  const std::vector<std::pair<int, int>> sizes = {{256, 192}, {192, 256}, {200, 200}, {256, 100}};
  for (size_t i = 0; i < sizes.size(); ++i) {
    paths.push_back(dir / ("thumb" + std::to_string(i) + ".jpg"));
    test::write_quadrant_jpeg(paths.back(), sizes[i].first, sizes[i].second);
  }
  paths.push_back(dir / "alpha.png");
  test::write_quadrant_png(paths.back(), 160, 120, {.alpha = true});
  paths.push_back(dir / "small.jpg");
  test::write_quadrant_jpeg(paths.back(), 64, 48);
  return paths;
}

}  // namespace

TEST(ReportHtml, WritesEveryFile) {
  test::TempDir tmp;
  const auto thumbnails = make_thumbnails(tmp / "thumbs");
  const fs::path dir = tmp.path() / "new" / "report";
  const Status st = write_report_dir(test::sample_bench_report(), dir, thumbnails);
  ASSERT_TRUE(st.ok()) << st.error().message;
  for (const char* name : {"report.md", "results.csv", "results.json", "chart.svg", "chart.png",
                           "contact.jpg", "index.html"}) {
    EXPECT_GT(fs::file_size(dir / name), 100u) << name;
  }
  for (const auto& entry : fs::directory_iterator(dir)) {
    EXPECT_FALSE(is_temp_file_name(entry.path().filename().string())) << entry.path();
  }
  VImage sheet = VImage::new_from_file((dir / "contact.jpg").c_str());
  EXPECT_EQ(sheet.width(), 6 * 136);
  EXPECT_EQ(sheet.height(), 136);

  const std::string html = read_file(dir / "index.html").value();
  EXPECT_TRUE(test::well_formed_markup(html.substr(html.find("<html"))));
  EXPECT_NE(html.find("<h1>thumbfetch bench</h1>"), std::string::npos);
  EXPECT_NE(html.find("2 cores, Test CPU &lt;fast&gt; &amp; cool, Linux 6.1"), std::string::npos);
  EXPECT_NE(html.find("<td>Thumbnails, 2 &quot;worker&quot; threads</td>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">98/2</td>"), std::string::npos);
  EXPECT_NE(html.find("⚠ differs from serial: 3 thumbnails differ (a.jpg, b.jpg, c.jpg)"),
            std::string::npos);
  EXPECT_EQ(count_of(html, "<tr class=\"warn\">"), 2);
  EXPECT_NE(html.find("<svg xmlns"), std::string::npos);
  EXPECT_NE(html.find("src=\"contact.jpg\" width=\"816\" height=\"136\""), std::string::npos);
  EXPECT_NE(html.find("How to read this"), std::string::npos);
  EXPECT_NE(html.find("no GIL"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));  // nothing remote
  EXPECT_EQ(read_file(dir / "chart.svg").value(),
            render_bar_chart_svg(test::sample_bench_report()));
}

TEST(ReportHtml, NoThumbnailsNoSheet) {
  test::TempDir tmp;
  ASSERT_TRUE(write_report_dir(test::sample_bench_report(), tmp.path(), {}).ok());
  EXPECT_FALSE(fs::exists(tmp / "contact.jpg"));
  EXPECT_TRUE(fs::exists(tmp / "index.html"));
  EXPECT_EQ(read_file(tmp / "index.html").value().find("contact.jpg"), std::string::npos);
}

TEST(ReportHtml, UnreadableThumbnailsAreNamed) {
  test::TempDir tmp;
  test::write_quadrant_jpeg(tmp / "good.jpg", 100, 80);
  test::write_text(tmp / "bad.jpg", "<html>not an image</html>");
  const fs::path dir = tmp / "report";
  ASSERT_TRUE(
      write_report_dir(test::sample_bench_report(), dir, {tmp / "bad.jpg", tmp / "good.jpg"}).ok());
  EXPECT_EQ(VImage::new_from_file((dir / "contact.jpg").c_str()).width(), 136);
  const std::string html = read_file(dir / "index.html").value();
  EXPECT_NE(html.find("1 could not be read (first: " + (tmp / "bad.jpg").string()),
            std::string::npos);

  // None readable: every other file is written, and the error says what is missing.
  const fs::path dir2 = tmp / "report2";
  const Status st =
      write_report_dir(test::sample_bench_report(), dir2, {tmp / "bad.jpg", tmp / "gone.jpg"});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("contact.jpg: none of the 2 thumbnails could be read"),
            std::string::npos)
      << st.error().message;
  EXPECT_TRUE(fs::exists(dir2 / "index.html"));
  EXPECT_TRUE(fs::exists(dir2 / "chart.png"));
  EXPECT_FALSE(fs::exists(dir2 / "contact.jpg"));
}

namespace {

std::string find_chromium() {
  for (const char* path : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (::access(path, X_OK) == 0) return path;
  }
  return "";
}

// Chromium's screenshot of `html` at 1200x1600, in a fresh profile, or a 1x1 black image (and a
// test failure) when it cannot be made.
VImage screenshot(const std::string& chromium, const fs::path& html, const fs::path& png) {
  test::TempDir profile;
  const test::CommandResult run = test::run_command(
      {"/usr/bin/timeout", "60", chromium, "--headless", "--no-sandbox", "--disable-gpu",
       "--hide-scrollbars", "--user-data-dir=" + profile.path().string(),
       "--screenshot=" + png.string(), "--window-size=1200,1600", "file://" + html.string()});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  if (run.exit_code != 0 || !fs::exists(png)) return VImage::black(1, 1);
  return VImage::new_from_file(png.c_str()).copy_memory();
}

// `html` with the first match of `from` ... `to` (both kept) emptied in between.
std::string empty_between(std::string html, const std::string& from, const std::string& to) {
  const size_t start = html.find('>', html.find(from)) + 1;
  html.erase(start, html.find(to, start) - start);
  return html;
}

void write_text_file(const fs::path& path, const std::string& text) {
  test::write_text(path, text);
}

// The mean absolute difference of two screenshots of the same size.
double difference(const VImage& a, const VImage& b) {
  EXPECT_EQ(a.width(), b.width());
  EXPECT_EQ(a.height(), b.height());
  if (a.width() != b.width() || a.height() != b.height()) return 0;
  return (a.extract_band(0, VImage::option()->set("n", 3)) -
          b.extract_band(0, VImage::option()->set("n", 3)))
      .abs()
      .avg();
}

}  // namespace

TEST(ReportHtml, ChromiumShowsTableChartAndSheet) {
  const std::string chromium = find_chromium();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed";
  test::TempDir tmp;
  const fs::path dir = tmp / "report";
  ASSERT_TRUE(
      write_report_dir(test::sample_bench_report(), dir, make_thumbnails(tmp / "thumbs")).ok());
  const std::string html = read_file(dir / "index.html").value();

  // The same page with an empty chart (same size), and with a blank image as the sheet.
  write_text_file(dir / "no_chart.html", empty_between(html, "<svg xmlns", "</svg>"));
  VImage white = VImage::black(816, 136, VImage::option()->set("bands", 3)) + 255;
  white.cast(VIPS_FORMAT_UCHAR).write_to_file((dir / "white.jpg").c_str());
  std::string no_sheet = html;
  no_sheet.replace(no_sheet.find("src=\"contact.jpg\""), 17, "src=\"white.jpg\"");
  write_text_file(dir / "no_sheet.html", no_sheet);

  const VImage page = screenshot(chromium, dir / "index.html", tmp / "page.png");
  ASSERT_EQ(page.width(), 1200);
  ASSERT_EQ(page.height(), 1600);
  EXPECT_GT(page.deviate(), 30) << "a blank page";
  const VImage no_chart_page = screenshot(chromium, dir / "no_chart.html", tmp / "no_chart.png");
  const VImage no_sheet_page = screenshot(chromium, dir / "no_sheet.html", tmp / "no_sheet.png");
  EXPECT_GT(difference(page, no_chart_page), 1.0) << "the chart does not show";
  EXPECT_GT(difference(page, no_sheet_page), 1.0) << "the contact sheet does not show";
}
