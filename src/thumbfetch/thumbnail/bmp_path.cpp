// BMP through our own decoder (bmp.hpp), handed to the common stage like the other decoders.
#include "thumbfetch/thumbnail/bmp.hpp"
#include "thumbfetch/thumbnail/decoded.hpp"

namespace thumbfetch {

Result<Decoded> decode_bmp_whole(std::string_view data, const ThumbOptions& options) {
  const BmpLimits limits{options.max_pixels, options.allow_truncated};
  auto pixels = decode_bmp(data, limits);
  if (!pixels) return pixels.error();
  Decoded out;
  out.decoder = Decoder::bmp;
  out.source = pixels->size();  // BMP has no orientation tag
  out.plan = plan_thumbnail(out.source, options);
  out.pixels = std::move(pixels).value();
  return out;
}

}  // namespace thumbfetch
