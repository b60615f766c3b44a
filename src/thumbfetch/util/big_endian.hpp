#pragma once
// Reading the big-endian integers of file formats (PNG chunk lengths and CRCs) from raw bytes.
#include <cstdint>

namespace thumbfetch {

inline std::uint32_t big_endian32(const void* at) {
  const auto* p = static_cast<const std::uint8_t*>(at);
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

}  // namespace thumbfetch
