#pragma once
// Whether a JPEG or PNG that streams in actually reaches its end. A body can be complete by
// HTTP (Content-Length met, or the connection closed) and still hold a cut-off image: a server
// that lies about the length, a file truncated on the server's disk. Looking at the last bytes
// is not enough (cameras and editors append trailers after the end marker, and an EXIF thumbnail
// carries an end marker of its own), so the scanner walks the structure as the bytes arrive, in
// O(1) memory: JPEG segments by their lengths, entropy-coded data up to the next real marker,
// until EOI; PNG chunks by their lengths until IEND. What follows the end is ignored.
// Other formats are not checked.

#include <array>
#include <cstdint>
#include <string_view>

#include "thumbfetch/util/sniff.hpp"

namespace thumbfetch {

class ImageEndScanner {
 public:
  enum class Verdict {
    unchecked,   // a format this scanner does not walk
    incomplete,  // so far so good, but the end has not been seen (truncated if the data stops)
    complete,    // the end marker was reached
    broken,      // the structure is not JPEG/PNG at `offset()` (corrupt)
  };

  explicit ImageEndScanner(ImageFormat format = ImageFormat::unknown);

  // The next bytes of the file, in order, in chunks of any size.
  void feed(std::string_view bytes);
  Verdict verdict() const { return verdict_; }
  ImageFormat format() const { return format_; }
  // Bytes fed so far; for a broken file, where the structure broke.
  std::uint64_t offset() const { return offset_; }

 private:
  enum class State {
    // JPEG
    marker_ff,    // expecting the 0xFF that starts a marker
    marker_code,  // after 0xFF: the marker's code (more 0xFF are fill)
    length,       // the 2-byte segment length
    entropy,      // entropy-coded data after SOS
    entropy_ff,   // 0xFF inside entropy-coded data: stuffing, restart or a real marker
    // PNG
    chunk_header,  // the 4-byte length and 4-byte type of the next chunk
  };

  void on_marker(std::uint8_t code);
  void fail() { verdict_ = Verdict::broken; }

  ImageFormat format_;
  Verdict verdict_;
  State state_ = State::marker_ff;
  std::uint64_t skip_ = 0;  // bytes to pass over before looking again (signature, payloads)
  std::uint64_t offset_ = 0;
  std::uint8_t marker_ = 0;     // the marker whose length is being read
  bool at_last_chunk_ = false;  // PNG: skipping IEND's data and CRC
  std::array<std::uint8_t, 8> field_{};
  std::size_t field_size_ = 0;
};

}  // namespace thumbfetch
