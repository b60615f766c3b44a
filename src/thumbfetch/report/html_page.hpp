#pragma once
// The index.html of a bench report folder, as text.

#include <cstddef>
#include <string>
#include <string_view>

#include "thumbfetch/report/bench_table.hpp"
#include "thumbfetch/report/contact_sheet.hpp"

namespace thumbfetch {

// A complete HTML document: title, machine, source, the results table, `chart_svg` inline, a
// "how to read this" section and the contact sheet (an <img class="sheet" src="contact.jpg">
// when `sheet` shows any thumbnail; `thumbnails_given` is how many the caller passed). All text
// is escaped; nothing is loaded from the network.
std::string render_index_html(const BenchReport& report, std::string_view chart_svg,
                              const ContactSheet& sheet, size_t thumbnails_given);

}  // namespace thumbfetch
