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

// "-5 is negative; expected ..." for a negative number, else "expected ...".
Error refused(std::string_view text, double number, bool parsed, std::string_view expected) {
  if (parsed && number < 0) {
    return Error{ErrorKind::refused,
                 std::string(text) + " is negative; expected " + std::string(expected)};
  }
  return Error{ErrorKind::refused, "expected " + std::string(expected)};
}

}  // namespace

Result<double> parse_duration_seconds(std::string_view text) {
  double n = 0;
  std::string unit;
  const bool parsed = split_number(text, n, unit);
  if (!parsed || n < 0) {
    return refused(text, n, parsed, "a duration such as 30 (seconds), 30s, 250ms or 2m");
  }
  double scale = 0;
  if (unit.empty() || unit == "s")
    scale = 1;
  else if (unit == "ms")
    scale = 1e-3;
  else if (unit == "m" || unit == "min")
    scale = 60;
  else if (unit == "h")
    scale = 3600;
  else
    return make_error(ErrorKind::refused, "unknown duration unit '" + unit + "' (ms, s, m, h)");
  // Checked after scaling: 1e308h is infinite, and no timeout needs more than ~30 years.
  const double seconds = n * scale;
  if (!(seconds <= 1e9)) return make_error(ErrorKind::refused, "duration too long");
  return seconds;
}

Result<std::uint64_t> parse_byte_size(std::string_view text) {
  double n = 0;
  std::string unit;
  const bool parsed = split_number(text, n, unit);
  if (!parsed || n < 0) return refused(text, n, parsed, "a size such as 50MB, 512KiB or 1000");
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

Result<std::uint64_t> parse_count(std::string_view text) {
  double n = 0;
  std::string unit;
  const bool parsed = split_number(text, n, unit);
  if (!parsed || n < 0) return refused(text, n, parsed, "a count such as 1000, 50k, 50M or 2G");
  double scale = 0;
  if (unit.empty())
    scale = 1;
  else if (unit == "k")
    scale = 1e3;
  else if (unit == "m")
    scale = 1e6;
  else if (unit == "g")
    scale = 1e9;
  else
    return make_error(ErrorKind::refused, "unknown count unit '" + unit + "' (k, M, G)");
  const double count = n * scale;
  if (count > 1e18) return make_error(ErrorKind::refused, "count too large");
  if (count != std::floor(count)) {
    return make_error(ErrorKind::refused, "expected a whole number, not " + std::string(text));
  }
  return static_cast<std::uint64_t>(count);
}

Result<double> parse_rate_per_second(std::string_view text) {
  const auto slash = text.find('/');
  double n = 0;
  std::string unit;
  const bool parsed = split_number(text.substr(0, slash), n, unit);
  if (!parsed || n < 0 || !unit.empty()) {
    return refused(text, n, parsed && unit.empty(), "a rate such as 10/s, 600/m or 1/h");
  }
  const std::string_view per = slash == std::string_view::npos ? "s" : text.substr(slash + 1);
  if (per == "s" || per == "sec") return n;
  if (per == "m" || per == "min") return n / 60;
  if (per == "h") return n / 3600;
  return make_error(ErrorKind::refused,
                    "unknown rate unit '/" + std::string(per) + "' (/s, /m, /h)");
}

Result<BoxSides> parse_box(std::string_view text, int max_side) {
  const std::string expected =
      "N, WxH, Wx or xH with each side 1.." + std::to_string(max_side) + ", e.g. 128 or 256x";
  auto side = [&](std::string_view s, int& out) {
    if (s.empty()) return true;  // not given: unconstrained
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size() && out >= 1 && out <= max_side;
  };
  BoxSides box;
  const auto x = text.find_first_of("xX");
  bool ok = false;
  if (x == std::string_view::npos) {
    ok = !text.empty() && side(text, box.width);
    box.height = box.width;
  } else {
    ok = side(text.substr(0, x), box.width) && side(text.substr(x + 1), box.height) &&
         (box.width > 0 || box.height > 0);
  }
  if (!ok) {
    return make_error(ErrorKind::refused,
                      "invalid size '" + std::string(text) + "': expected " + expected);
  }
  return box;
}

}  // namespace thumbfetch
