#pragma once
// Human-friendly quantities on the command line: "1.5s", "250ms", "2m", "50MB", "512KiB".

#include <cstdint>
#include <string_view>

#include "thumbfetch/util/error.hpp"

namespace thumbfetch {

// Seconds from "30", "30s", "250ms", "2m", "1h". Negative values are refused.
Result<double> parse_duration_seconds(std::string_view text);

// Bytes from "1000", "64k"/"64kB" (1000), "64KiB" (1024), "50MB", "50MiB", "1G"/"1GB"/"1GiB".
Result<std::uint64_t> parse_byte_size(std::string_view text);

}  // namespace thumbfetch
