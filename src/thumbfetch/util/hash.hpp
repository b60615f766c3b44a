#pragma once
// Small, stable, non-cryptographic hashes for naming things (not for security).

#include <cstdint>
#include <string>
#include <string_view>

namespace thumbfetch {

// SplitMix64's output function: a well-mixed 64-bit value of `x`, for reproducible
// pseudo-randomness from a seed and a counter.
std::uint64_t mix64(std::uint64_t x);

// The next value of a SplitMix64 stream; advances `state`.
std::uint64_t splitmix64_next(std::uint64_t& state);

// 64-bit FNV-1a.
std::uint64_t fnv1a64(std::string_view data);

// The first 8 hex digits of fnv1a64(data): a short, stable suffix for file names.
std::string short_hash_hex(std::string_view data);

}  // namespace thumbfetch
