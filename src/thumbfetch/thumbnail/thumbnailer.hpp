#pragma once
// Turns one image into one thumbnail: read, recognise, decode (JPEG fast path or libvips),
// resample, encode, write atomically. One Thumbnailer per worker thread: it owns codec handles.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "thumbfetch/thumbnail/options.hpp"
#include "thumbfetch/thumbnail/turbojpeg.hpp"
#include "thumbfetch/util/error.hpp"
#include "thumbfetch/util/sha256.hpp"

namespace thumbfetch {

struct Thumbnail {
  Size size;
  Size source;                               // the upright size of the image it was made from
  OutputFormat format = OutputFormat::jpeg;  // never `automatic`
  Decoder decoder = Decoder::libvips;
  std::vector<unsigned char> bytes;
};

struct ThumbDone {
  std::filesystem::path output;  // the file written
  Size size;
  Size source;  // the upright size of the input
  std::uint64_t bytes = 0;
  Decoder decoder = Decoder::libvips;
};

class Thumbnailer {
 public:
  explicit Thumbnailer(ThumbOptions options);

  // The thumbnail of an image held in memory.
  Result<Thumbnail> render(std::string_view data);

  // Reads `input`, renders it and writes `output_stem` + the format's extension atomically.
  // (With --format auto the extension is known only once the image is decoded.)
  // `input_sha256`, when given, receives the SHA-256 (hex) of the bytes read, whatever becomes
  // of the image after that, or "" when the file could not be read: the manifest's digest of
  // exactly what was thumbnailed, without reading the file a second time.
  Result<ThumbDone> make(const std::filesystem::path& input,
                         const std::filesystem::path& output_stem,
                         std::string* input_sha256 = nullptr);

  const ThumbOptions& options() const { return options_; }

 private:
  ThumbOptions options_;
  TurboJpeg jpeg_;
  std::string input_;  // the input's bytes, reused from image to image (read_file_into)
  Sha256 sha_;
};

// The most bytes an input may have: 4 per pixel that --max-pixels allows (an 8-bit RGBA image
// stored uncompressed, more than any photo's JPEG, PNG or WebP needs), and never under 256 MiB
// (a photo with large metadata); 400 MB with the default 100 MP. A larger input is refused
// before a byte of it is read, so a 20 GB file is one failed image, not 20 GB of memory.
std::uint64_t max_input_bytes(const ThumbOptions& options);

// The file extension for a resolved output format ("jpg", "png", "webp").
std::string_view output_extension(OutputFormat format);

}  // namespace thumbfetch
