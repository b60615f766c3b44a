// libFuzzer target for our BMP decoder (thumbnail/bmp.hpp), which reads files of unknown origin.
// Seeds: fuzz/corpus/bmp/ (fuzz/make_bmp_seeds.py). Each input is decoded strictly and with
// --allow-truncated; a success must be a whole, consistent image within the pixel cap.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "thumbfetch/thumbnail/bmp.hpp"

namespace {

// Small enough that a hostile header cannot make one run allocate much; large enough for every
// layout (the cap itself is what is under test, not the memory).
constexpr std::uint64_t kMaxPixels = 1u << 20;

void check(const thumbfetch::Result<thumbfetch::Pixels>& result) {
  if (!result) return;
  const thumbfetch::Pixels& p = *result;
  const bool bands_ok = p.bands == 1 || p.bands == 3 || p.bands == 4;
  if (!bands_ok || p.width <= 0 || p.height <= 0 ||
      std::uint64_t(p.width) * std::uint64_t(p.height) > kMaxPixels ||
      p.data.size() != std::size_t(p.width) * p.height * p.bands) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  thumbfetch::BmpLimits limits;
  limits.max_pixels = kMaxPixels;
  check(thumbfetch::decode_bmp(bytes, limits));
  limits.allow_truncated = true;
  check(thumbfetch::decode_bmp(bytes, limits));
  return 0;
}
