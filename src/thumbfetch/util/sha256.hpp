#pragma once
// SHA-256, incremental, for the download manifest: a file's digest is computed while it streams
// in, so it is never read back. OpenSSL's libcrypto does the work (SHA extensions where the CPU
// has them: several times faster than portable code).

#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace thumbfetch {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void reset();
  void update(std::span<const unsigned char> bytes);
  void update(std::string_view text) {
    update({reinterpret_cast<const unsigned char*>(text.data()), text.size()});
  }
  // The digest as 64 lowercase hex digits. The object must be reset() before reuse.
  std::string hex_digest();

 private:
  struct ContextFree {
    void operator()(void* ctx) const;
  };
  std::unique_ptr<void, ContextFree> ctx_;  // an EVP_MD_CTX
};

// SHA-256 of `text`, hex.
std::string sha256_hex(std::string_view text);

// SHA-256 of a regular file's contents, read in pieces, hex; "" when it cannot be read or is
// not a regular file.
std::string file_sha256(const std::filesystem::path& path);

}  // namespace thumbfetch
