#pragma once
// Tolerant reads of JSON written by other runs or other versions (manifests, shard records): a
// field that is missing or of another type gives the fallback instead of throwing, so one odd row
// is skipped or defaulted, never the end of a run.

#include <concepts>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include <nlohmann/json.hpp>

#include "thumbfetch/util/atomic_file.hpp"

namespace thumbfetch {

// Integers need care: nlohmann's get<T>() converts whatever number it finds with a plain cast, so a
// float out of T's range (1e300 as an HTTP code) is undefined behaviour and a negative integer
// wraps into a huge byte count. Our writers put integers there; anything else is not our row.

// A row the readers skip: a field is not what our writer puts there.
struct ForeignRow : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The integer `key` of `row`, if it is one within T's range.
template <std::integral T, typename JsonT>
std::optional<T> json_integer_if(const JsonT& row, const char* key) {
  const auto it = row.find(key);
  if (it == row.end()) return std::nullopt;
  if (it->is_number_unsigned()) {
    const auto v = it->template get<std::uint64_t>();
    if (std::in_range<T>(v)) return static_cast<T>(v);
  } else if (it->is_number_integer()) {
    const auto v = it->template get<std::int64_t>();
    if (std::in_range<T>(v)) return static_cast<T>(v);
  }
  return std::nullopt;
}

// Strict: `fallback` when absent; throws ForeignRow when it is not an integer in T's range.
template <std::integral T, typename JsonT>
T json_integer(const JsonT& row, const char* key, T fallback) {
  if (row.find(key) == row.end()) return fallback;
  if (auto v = json_integer_if<T>(row, key)) return *v;
  throw ForeignRow(std::string("field ") + key + ": not an integer in range");
}

template <typename T, typename JsonT>
T json_field(const JsonT& j, const char* name, T fallback) {
  if (!j.is_object()) return fallback;
  const auto it = j.find(name);
  if (it == j.end()) return fallback;
  if constexpr (std::is_same_v<T, std::string>) {
    return it->is_string() ? it->template get<std::string>() : fallback;
  } else if constexpr (std::is_same_v<T, bool>) {
    return it->is_boolean() ? it->template get<bool>() : fallback;
  } else if constexpr (std::is_integral_v<T>) {
    return json_integer_if<T>(j, name).value_or(fallback);
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
