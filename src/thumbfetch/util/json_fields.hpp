#pragma once
// Integer fields of a JSON row read back from disk (a manifest that an earlier run, a kill -9 or
// an editor left). nlohmann's value<T>() converts whatever number it finds with a plain cast: a
// float out of T's range (1e300 as an HTTP code) is undefined behaviour, a negative integer
// wraps into a huge byte count. Our writers put integers there; anything else is not our row.

#include <concepts>
#include <cstdint>
#include <stdexcept>
#include <utility>

#include <nlohmann/json.hpp>

namespace thumbfetch {

// A row the readers skip: a field is not what our writer puts there.
struct ForeignRow : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The integer `key` of `row`: `fallback` when absent; throws ForeignRow when it is not an
// integer (a string, a fraction) or out of T's range.
template <std::integral T>
T json_integer(const nlohmann::json& row, const char* key, T fallback) {
  auto it = row.find(key);
  if (it == row.end()) return fallback;
  if (it->is_number_unsigned()) {
    const auto v = it->get<std::uint64_t>();
    if (std::in_range<T>(v)) return static_cast<T>(v);
  } else if (it->is_number_integer()) {
    const auto v = it->get<std::int64_t>();
    if (std::in_range<T>(v)) return static_cast<T>(v);
  }
  throw ForeignRow(std::string("field ") + key + ": not an integer in range");
}

}  // namespace thumbfetch
