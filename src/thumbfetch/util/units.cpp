#include "thumbfetch/util/units.hpp"

#include <charconv>
#include <cmath>
#include <string>

namespace thumbfetch {

namespace {

// Splits "12.5ms" into 12.5 and "ms" (suffix lowercased).
bool split_number(std::string_view text, double& number, std::string& suffix) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || !std::isfinite(number)) return false;
  suffix.clear();
  for (const char* p = end; p != text.data() + text.size(); ++p) {
    if (*p == ' ') continue;
    suffix.push_back(static_cast<char>(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p));
  }
  return true;
}

}  // namespace

Result<double> parse_duration_seconds(std::string_view text) {
  double n = 0;
  std::string unit;
  if (!split_number(text, n, unit) || n < 0) {
    return make_error(ErrorKind::refused, "expected a duration such as 30s, 250ms or 2m");
  }
  if (unit.empty() || unit == "s") return n;
  if (unit == "ms") return n / 1000;
  if (unit == "m" || unit == "min") return n * 60;
  if (unit == "h") return n * 3600;
  return make_error(ErrorKind::refused, "unknown duration unit '" + unit + "' (ms, s, m, h)");
}

Result<std::uint64_t> parse_byte_size(std::string_view text) {
  double n = 0;
  std::string unit;
  if (!split_number(text, n, unit) || n < 0) {
    return make_error(ErrorKind::refused, "expected a size such as 50MB, 512KiB or 1000");
  }
  double scale = 0;
  if (unit.empty() || unit == "b")
    scale = 1;
  else if (unit == "k" || unit == "kb")
    scale = 1e3;
  else if (unit == "kib")
    scale = 1024;
  else if (unit == "m" || unit == "mb")
    scale = 1e6;
  else if (unit == "mib")
    scale = 1024.0 * 1024;
  else if (unit == "g" || unit == "gb")
    scale = 1e9;
  else if (unit == "gib")
    scale = 1024.0 * 1024 * 1024;
  else
    return make_error(ErrorKind::refused,
                      "unknown size unit '" + unit + "' (kB, KiB, MB, MiB, GB)");
  const double bytes = std::floor(n * scale);
  if (bytes > 1e18) return make_error(ErrorKind::refused, "size too large");
  return static_cast<std::uint64_t>(bytes);
}

}  // namespace thumbfetch
