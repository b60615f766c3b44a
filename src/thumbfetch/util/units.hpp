#pragma once
// Human-friendly quantities on the command line: "1.5s", "250ms", "2m", "50MB", "512KiB",
// "50M" (a count), "10/s" (a rate), "256x" (a box). The one home of these parsers: every flag
// that takes a duration, size, count, rate or box goes through them, so the forms and the
// messages are the same everywhere. Negative values are refused with a readable message.

#include <cstdint>
#include <string_view>

#include "thumbfetch/util/error.hpp"

namespace thumbfetch {

// Seconds from "30", "30s", "250ms", "2m", "1h". Negative values are refused.
Result<double> parse_duration_seconds(std::string_view text);

// Bytes from "1000", "64k"/"64kB" (1000), "64KiB" (1024), "50MB", "50MiB", "1G"/"1GB"/"1GiB".
Result<std::uint64_t> parse_byte_size(std::string_view text);

// A count from "1000", "50k", "50M", "2G" (decimal: 1e3, 1e6, 1e9), "1.5M"; whole numbers only.
Result<std::uint64_t> parse_count(std::string_view text);

// Events per second from "10/s", "10", "600/m", "1/min", "3600/h", "0.5/s".
Result<double> parse_rate_per_second(std::string_view text);

// A box in vipsthumbnail's forms: "N" (NxN), "WxH", "Wx" (width only), "xH" (height only).
// A side not given is 0 (unconstrained); each given side is 1..max_side.
struct BoxSides {
  int width = 0;
  int height = 0;
};
Result<BoxSides> parse_box(std::string_view text, int max_side);

}  // namespace thumbfetch
