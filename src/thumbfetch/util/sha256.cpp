#include "thumbfetch/util/sha256.hpp"

#include "thumbfetch/util/atomic_file.hpp"
#include "thumbfetch/util/strings.hpp"

#include <openssl/evp.h>

#include <unistd.h>

#include <cerrno>
#include <memory>
#include <stdexcept>

namespace thumbfetch {

namespace {

EVP_MD_CTX* as_ctx(void* p) {
  return static_cast<EVP_MD_CTX*>(p);
}

}  // namespace

void Sha256::ContextFree::operator()(void* ctx) const {
  EVP_MD_CTX_free(as_ctx(ctx));
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_) throw std::bad_alloc();
  reset();
}

Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::reset() {
  if (EVP_DigestInit_ex(as_ctx(ctx_.get()), EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL cannot start a SHA-256 digest");
  }
}

void Sha256::update(std::span<const unsigned char> bytes) {
  EVP_DigestUpdate(as_ctx(ctx_.get()), bytes.data(), bytes.size());
}

std::string Sha256::hex_digest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(as_ctx(ctx_.get()), digest, &length);
  return hex_bytes(std::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string sha256_hex(std::string_view text) {
  Sha256 sha;
  sha.update(text);
  return sha.hex_digest();
}

std::string file_sha256(const std::filesystem::path& path) {
  // In pieces: a file of any size costs a buffer, never its size in memory. 64 KiB, left
  // uninitialised: small enough to come from the heap (a 1 MiB one was a fresh mmap, zeroed
  // and faulted in, per file) and large enough that the reads cost little.
  auto fd = open_regular_file(path);
  if (!fd) return {};
  Sha256 sha;
  constexpr std::size_t kChunk = std::size_t{1} << 16;
  const auto chunk = std::make_unique_for_overwrite<unsigned char[]>(kChunk);
  for (;;) {
    const ssize_t n = ::read(fd->get(), chunk.get(), kChunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return {};
    if (n == 0) break;
    sha.update(std::span(chunk.get(), static_cast<std::size_t>(n)));
  }
  return sha.hex_digest();
}

}  // namespace thumbfetch
