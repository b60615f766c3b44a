#pragma once
// Small string helpers every part of the project needs.

#include <optional>
#include <string>
#include <string_view>

namespace thumbfetch {

// A lowercase copy, ASCII letters only (locale-independent: names, headers, schemes).
std::string ascii_lower(std::string_view text);

// The value of one hex digit (either case), -1 for anything else.
int hex_value(char c);

// Lower-case hex of each byte, and back (nothing for odd lengths or non-hex digits).
std::string hex_bytes(std::string_view bytes);
std::optional<std::string> unhex_bytes(std::string_view hex);

// "%XX" escapes decoded to their bytes; a '%' not followed by two hex digits stays as it is.
std::string percent_decode(std::string_view text);

// All of `text` as a decimal int ("-12"); nullopt for anything else ("", "1x", " 1", overflow).
std::optional<int> parse_int(std::string_view text);

}  // namespace thumbfetch
