#include "thumbfetch/util/hash.hpp"

#include <fmt/format.h>

namespace thumbfetch {

namespace {

constexpr std::uint64_t kGoldenGamma = 0x9e3779b97f4a7c15ULL;

}  // namespace

std::uint64_t mix64(std::uint64_t x) {
  x += kGoldenGamma;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t splitmix64_next(std::uint64_t& state) {
  const std::uint64_t out = mix64(state);
  state += kGoldenGamma;
  return out;
}

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
