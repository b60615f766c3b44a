#pragma once
// JSON strings are UTF-8, but file names and URLs are bytes. A field keeps the text readable
// (invalid sequences become U+FFFD when dumped with error_handler_t::replace) and, only when the
// bytes are not valid UTF-8, gets a "<key>_hex" twin holding the exact bytes, which readers
// prefer: a resumed run matches the same file or URL, and no dump throws after all the work.

#include <optional>
#include <string>
#include <string_view>

#include "thumbfetch/util/strings.hpp"  // hex_bytes, unhex_bytes

namespace thumbfetch {

// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF).
bool is_valid_utf8(std::string_view text);

// j[key] = bytes, plus j[key + "_hex"] when the bytes are not valid UTF-8.
template <typename Json>
void put_bytes(Json& j, const std::string& key, const std::string& bytes) {
  j[key] = bytes;
  if (!is_valid_utf8(bytes)) j[key + "_hex"] = hex_bytes(bytes);
}

// The bytes put_bytes stored: key + "_hex" when it is there and well-formed, else j[key] ("" when
// missing or not a string: rows from other runs are read tolerantly).
template <typename Json>
std::string get_bytes(const Json& j, const std::string& key) {
  if (!j.is_object()) return {};
  if (auto it = j.find(key + "_hex"); it != j.end() && it->is_string()) {
    if (auto bytes = unhex_bytes(it->template get<std::string>())) return *bytes;
  }
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->template get<std::string>() : std::string();
}

}  // namespace thumbfetch
