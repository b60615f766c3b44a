#pragma once
// Text made safe for HTML and SVG (XML) documents.

#include <string>
#include <string_view>

namespace thumbfetch {

// Escapes & < > " ' for element text and attribute values alike. Invalid UTF-8 becomes U+FFFD
// and control characters that XML forbids are dropped, so the document always parses.
std::string escape_markup(std::string_view text);

// The number of code points in UTF-8 text: its width in a terminal for the text we print.
size_t display_width(std::string_view text);

}  // namespace thumbfetch
