#pragma once
// Small string helpers every part of the project needs.

#include <string>
#include <string_view>

namespace thumbfetch {

// A lowercase copy, ASCII letters only (locale-independent: names, headers, schemes).
std::string ascii_lower(std::string_view text);

}  // namespace thumbfetch
