#pragma once
// What a thumbnail should look like: size, fit mode, output format. Shared by every strategy
// and by the worker processes (which receive it on their command line).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "thumbfetch/util/error.hpp"

namespace thumbfetch {

struct Size {
  int width = 0;
  int height = 0;
  bool operator==(const Size&) const = default;
};

enum class FitMode {
  fit,      // keep aspect, fit inside the box, never enlarge (Pillow's Image.thumbnail)
  cover,    // fill the box and centre-crop: exactly the box
  pad,      // fit, then letterbox onto the background: exactly the box
  stretch,  // exactly the box, aspect ignored
};

enum class OutputFormat { jpeg, png, webp, automatic };

// Which decoder read an image: the JPEG and PNG fast paths, our own BMP decoder, libtiff for
// TIFF layouts libvips refuses, or libvips for everything else. (Sent as a number by worker
// processes: new values go at the end.)
enum class Decoder { libjpeg_turbo, libspng, libvips, bmp, libtiff };
std::string_view to_string(Decoder decoder);

struct Rgb {
  std::uint8_t r = 255, g = 255, b = 255;
  bool operator==(const Rgb&) const = default;
};

// How much of a progressive JPEG the fast path decodes: only the scans its DCT scale needs
// (progressive_jpeg.hpp), or every scan (what TurboJPEG does; tests and bench/ compare the two).
// Not a command-line flag: worker processes always get `needed`.
enum class ProgressiveScans { needed, all };

struct ThumbOptions {
  Size box{128, 128};
  FitMode mode = FitMode::fit;
  OutputFormat format = OutputFormat::jpeg;
  int quality = 85;
  Rgb background{};                        // letterbox colour, and what alpha is flattened on
  std::uint64_t max_pixels = 100'000'000;  // checked from the header, before decoding; 0: none
  bool allow_truncated = false;            // keep what decodes of a truncated file
  // How much larger than the target the image stays before the final bicubic filter (Pillow's
  // reducing_gap, 2.0): JPEG DCT scaling and box reduction never go below it, so the filter sees
  // enough source pixels for a smooth result. 1.0 is faster, with a little more aliasing.
  double reducing_gap = 2.0;
  ProgressiveScans progressive = ProgressiveScans::needed;
};

// The largest side a thumbnail may have; also the bound of a side --size leaves free.
inline constexpr int kMaxSide = 16384;

// vipsthumbnail's forms: "128" (128x128), "128x96", "128x" (width only), "x96" (height only).
Result<Size> parse_size(std::string_view text);
Result<FitMode> parse_fit_mode(std::string_view text);  // "fit" ...
Result<OutputFormat> parse_output_format(std::string_view text);
Result<Rgb> parse_color(std::string_view text);  // "white", "#rrggbb", "r,g,b"

std::string to_string(FitMode mode);
std::string to_string(OutputFormat format);
std::string to_string(Rgb color);  // "#rrggbb"

// The command-line flags that reproduce `options` (for worker processes).
std::vector<std::string> to_cli_args(const ThumbOptions& options);

}  // namespace thumbfetch
