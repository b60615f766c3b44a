#pragma once
// Tolerant reads of JSON written by other runs or other versions (manifests, shard records): a
// field that is missing or of another type gives the fallback instead of throwing, so one odd row
// is skipped or defaulted, never the end of a run.

#include <filesystem>
#include <string>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "thumbfetch/util/atomic_file.hpp"

namespace thumbfetch {

template <typename T, typename JsonT>
T json_field(const JsonT& j, const char* name, T fallback) {
  if (!j.is_object()) return fallback;
  const auto it = j.find(name);
  if (it == j.end()) return fallback;
  if constexpr (std::is_same_v<T, std::string>) {
    return it->is_string() ? it->template get<std::string>() : fallback;
  } else if constexpr (std::is_same_v<T, bool>) {
    return it->is_boolean() ? it->template get<bool>() : fallback;
  } else {
    return it->is_number() ? it->template get<T>() : fallback;
  }
}

// A whole file parsed as one JSON value; a discarded (null) value when missing or malformed.
inline nlohmann::ordered_json read_json_file(const std::filesystem::path& path) {
  auto text = read_file(path);
  if (!text) return nlohmann::ordered_json();
  return nlohmann::ordered_json::parse(*text, nullptr, /*allow_exceptions=*/false);
}

}  // namespace thumbfetch
