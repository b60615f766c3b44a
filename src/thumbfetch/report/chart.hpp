#pragma once
// The bench chart: one horizontal bar per approach, as SVG, and that SVG rendered to PNG by
// libvips (librsvg), so the PNG looks exactly like the SVG a browser shows.

#include <string>
#include <string_view>
#include <vector>

#include "thumbfetch/report/bench_table.hpp"
#include "thumbfetch/util/error.hpp"

namespace thumbfetch {

// Horizontal bars of the median wall time per approach, grouped by step (one colour per step,
// a heading per group), the value written after each bar ("1.23 s", "⚠" for rows with failures
// or a mismatch), a title and an x axis labelled "seconds (median of N runs)". A standalone SVG
// document with width/height attributes, generic fonts (sans-serif) and all text escaped.
std::string render_bar_chart_svg(const BenchReport& report);

// The colour of a step's bars ("#4e79a7" for "download"); the HTML table marks steps with it.
std::string step_colour(const std::string& step);

// PNG bytes of `svg`, rendered by libvips' SVG loader (librsvg). ErrorKind::unsupported when
// this libvips has no SVG loader; ErrorKind::internal when it cannot render the document.
// Meant for SVG that thumbfetch wrote itself: see chart.cpp on libvips' untrusted-loader block.
Result<std::vector<unsigned char>> svg_to_png(std::string_view svg);

}  // namespace thumbfetch
