#include "thumbfetch/cli/checks.hpp"

#include <fmt/format.h>

#include <charconv>

#include "thumbfetch/util/units.hpp"

namespace thumbfetch {

namespace {

// Parses the whole of `text` as a number; CLI11 has already checked that it converts.
bool to_number(const std::string& text, double& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

CLI::Validator whole_range(long long lo, long long hi) {
  return number_range(static_cast<double>(lo), static_cast<double>(hi));
}

CLI::Validator number_range(double lo, double hi) {
  const std::string bounds = fmt::format("{:g} to {:g}", lo, hi);
  return CLI::Validator(
      [lo, hi, bounds](std::string& text) -> std::string {
        double n = 0;
        if (!to_number(text, n)) return fmt::format("{} is not a number ({})", text, bounds);
        if (n < lo || n > hi) return fmt::format("{} is out of range: {}", text, bounds);
        return {};
      },
      "[" + bounds + "]");
}

CLI::Validator not_negative(const std::string& zero_means) {
  return CLI::Validator(
      [zero_means](std::string& text) -> std::string {
        double n = 0;
        if (!to_number(text, n)) return fmt::format("{} is not a number", text);
        if (n < 0) return fmt::format("{} is negative; give 0 or more (0: {})", text, zero_means);
        return {};
      },
      ">= 0");
}

double duration_flag(const std::string& flag, const std::string& text, ZeroAllowed zero) {
  auto v = parse_duration_seconds(text);
  if (!v) throw CLI::ValidationError(flag, v.error().message);
  if (*v == 0 && zero == ZeroAllowed::no) throw CLI::ValidationError(flag, "must be more than 0");
  return *v;
}

std::uint64_t count_flag(const std::string& flag, const std::string& text) {
  auto v = parse_count(text);
  if (!v) throw CLI::ValidationError(flag, v.error().message);
  return *v;
}

bool given(const CLI::App& command, const std::string& flag) {
  const CLI::Option* option = command.get_option_no_throw(flag);
  return option != nullptr && option->count() > 0;
}

void warn_usage(std::string_view message) {
  fmt::print(stderr, "thumbfetch: warning: {}\n", message);
}

void conflict(const std::string& flags, const std::string& why) {
  throw CLI::ValidationError(flags, why);
}

}  // namespace thumbfetch
