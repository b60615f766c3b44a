#pragma once
// The two PNG decoders behind decode_png_fast (decoded.hpp). libspng reads the header and every
// chunk before the image data in both. Then either the whole-buffer path (png_whole.cpp):
// libdeflate inflates all IDAT data in one call and rows are unfiltered here, about twice as fast
// as zlib's streaming inflate; or libspng's own streaming decode, the path of record, which
// keeps every PNG the whole-buffer path declines (interlaced, or anything unusual: a bad CRC, a
// chunk cut short, more or less image data than the header announces) as it was. Damage that
// both libspng and libpng refuse (a bad IDAT CRC that libspng reads, an unknown filter type)
// fails with its reason instead of libpng's "read error".

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "thumbfetch/thumbnail/decoded.hpp"

namespace thumbfetch {

// What the whole-buffer path needs of the header, as libspng read it.
struct PngLayout {
  int width = 0;
  int height = 0;
  int bit_depth = 0;    // 1, 2, 4, 8 or 16
  int colour_type = 0;  // 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA
  int bands = 0;        // of the output: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA
  bool apply_trns = false;
  // The tRNS colour, compared with the samples as stored (grey: the first entry).
  std::array<std::uint16_t, 3> trns_colour{};
  // RGBA per index, tRNS alpha applied; zeros past the palette's entries, as libspng leaves them.
  std::array<std::uint8_t, 256 * 4> palette{};
};

// Which decoders decode_png may use.
enum class PngPath { whole_first, libspng_only };

// decode_png_fast with a choice of path; `took_whole` (when given) says whether the whole-buffer
// path made the pixels. Tests hold the two paths against each other with it.
Result<Decoded> decode_png(std::string_view data, const ThumbOptions& options, PngPath path,
                           bool* took_whole = nullptr);

// The whole-buffer decode of a non-interlaced PNG whose chunks before the image data libspng
// has read without complaint. ErrorKind::unsupported: declined, for libspng to decide;
// `bad_idat_crc_at` (when given) receives where an IDAT chunk failing its CRC starts (0: none),
// for libspng's verdict to name. A final error (ErrorKind::corrupt, not with --allow-truncated):
// a row with an unknown filter type, which libspng and libpng refuse too.
Result<Pixels> decode_png_whole(std::string_view data, const PngLayout& layout,
                                const ThumbOptions& options, size_t* bad_idat_crc_at = nullptr);

}  // namespace thumbfetch
