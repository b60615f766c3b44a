#pragma once
// Checks every command makes on its flags before any work: values parsed through util/units
// (so every duration, size and count takes the same forms and gives the same messages), ranges
// printed readably, and warnings for flags that are given but have no effect.

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace thumbfetch {

// A number within [lo, hi], refused with "X is out of range: LO to HI" (no 300-digit bounds);
// CLI11's conversion to the option's integer type refuses fractions.
CLI::Validator whole_range(long long lo, long long hi);
// A number within [lo, hi], the bounds printed as they were written.
CLI::Validator number_range(double lo, double hi);
// 0 or more; `zero_means` says what 0 does ("no limit").
CLI::Validator not_negative(const std::string& zero_means);

// Seconds from a duration flag ("30", "30s", "250ms", "2m"). `zero` says whether 0 is allowed
// (it then means no limit). Throws CLI::ValidationError naming the flag.
enum class ZeroAllowed { no, yes };
double duration_flag(const std::string& flag, const std::string& text, ZeroAllowed zero);
// A count flag ("1000", "50M", "2G"). Throws CLI::ValidationError naming the flag.
std::uint64_t count_flag(const std::string& flag, const std::string& text);

// True when the user gave `flag` on the command line (not just its default).
bool given(const CLI::App& command, const std::string& flag);

// "thumbfetch: warning: ..." on stderr, for a flag that has no effect where it was given.
void warn_usage(std::string_view message);

// Throws CLI::ValidationError: two flags that cannot both hold.
[[noreturn]] void conflict(const std::string& flags, const std::string& why);

}  // namespace thumbfetch
