#pragma once
// Small string helpers every part of the project needs.

#include <optional>
#include <string>
#include <string_view>

namespace thumbfetch {

// A lowercase copy, ASCII letters only (locale-independent: names, headers, schemes).
std::string ascii_lower(std::string_view text);

// All of `text` as a decimal int ("-12"); nullopt for anything else ("", "1x", " 1", overflow).
std::optional<int> parse_int(std::string_view text);

}  // namespace thumbfetch
