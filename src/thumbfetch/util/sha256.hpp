#pragma once
// SHA-256 (FIPS 180-4), incremental, for the download manifest: a file's digest is computed
// while it streams in, so it is never read back. Small and dependency-free on purpose.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace thumbfetch {

class Sha256 {
 public:
  Sha256() { reset(); }
  void reset();
  void update(std::span<const unsigned char> bytes);
  void update(std::string_view text) {
    update({reinterpret_cast<const unsigned char*>(text.data()), text.size()});
  }
  // The digest as 64 lowercase hex digits. The object must be reset() before reuse.
  std::string hex_digest();

 private:
  void block(const unsigned char* p);

  std::array<std::uint32_t, 8> h_{};
  std::array<unsigned char, 64> buf_{};
  std::size_t buf_len_ = 0;
  std::uint64_t total_ = 0;
};

// SHA-256 of `text`, hex.
std::string sha256_hex(std::string_view text);

}  // namespace thumbfetch
