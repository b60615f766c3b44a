#include "thumbfetch/util/hash.hpp"

#include <fmt/format.h>

namespace thumbfetch {

std::uint64_t fnv1a64(std::string_view data) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string short_hash_hex(std::string_view data) {
  return fmt::format("{:08x}", static_cast<std::uint32_t>(fnv1a64(data) >> 32));
}

}  // namespace thumbfetch
