#include "thumbfetch/serve/media_assets.hpp"

#include <algorithm>
#include <stdexcept>

#include "thumbfetch/util/hash.hpp"

namespace thumbfetch {

namespace {

void put_u16(std::string& out, unsigned v) {
  out += static_cast<char>(v & 0xff);
  out += static_cast<char>((v >> 8) & 0xff);
}

// Packs variable-width LZW codes LSB-first, then cuts them into GIF sub-blocks of <= 255 bytes.
class GifCodeWriter {
 public:
  void put(unsigned code, int width) {
    acc_ |= static_cast<std::uint64_t>(code) << bits_;
    bits_ += width;
    while (bits_ >= 8) {
      bytes_ += static_cast<char>(acc_ & 0xff);
      acc_ >>= 8;
      bits_ -= 8;
    }
  }
  std::string finish() {
    if (bits_ > 0) bytes_ += static_cast<char>(acc_ & 0xff);
    std::string out;
    for (std::size_t i = 0; i < bytes_.size(); i += 255) {
      std::size_t n = std::min<std::size_t>(255, bytes_.size() - i);
      out += static_cast<char>(n);
      out.append(bytes_, i, n);
    }
    out += '\0';  // block terminator
    return out;
  }

 private:
  std::uint64_t acc_ = 0;
  int bits_ = 0;
  std::string bytes_;
};

}  // namespace

std::string make_animated_gif(int width, int height, int frames, std::uint64_t seed) {
  if (width < 1 || height < 1 || width > 512 || height > 512 || frames < 2) {
    throw std::invalid_argument("make_animated_gif: bad size or frame count");
  }
  std::string out = "GIF89a";
  put_u16(out, static_cast<unsigned>(width));
  put_u16(out, static_cast<unsigned>(height));
  out += static_cast<char>(0xF7);  // global colour table, 8 bits colour resolution, 256 entries
  out += '\0';                     // background colour index
  out += '\0';                     // pixel aspect ratio
  std::uint64_t state = seed;
  for (int i = 0; i < 256; ++i) {
    std::uint64_t r = splitmix64_next(state);
    out += static_cast<char>(r & 0xff);
    out += static_cast<char>((r >> 8) & 0xff);
    out += static_cast<char>((r >> 16) & 0xff);
  }
  // NETSCAPE2.0 application extension: loop forever.
  out += std::string("\x21\xFF\x0BNETSCAPE2.0\x03\x01\x00\x00\x00", 19);
  for (int f = 0; f < frames; ++f) {
    // Graphic control extension: 10/100 s per frame.
    out += std::string("\x21\xF9\x04\x00\x0A\x00\x00\x00", 8);
    out += ',';  // image descriptor
    put_u16(out, 0);
    put_u16(out, 0);
    put_u16(out, static_cast<unsigned>(width));
    put_u16(out, static_cast<unsigned>(height));
    out += '\0';  // no local colour table, not interlaced
    constexpr int kMinCodeSize = 8;
    constexpr unsigned kClear = 256;
    constexpr unsigned kEnd = 257;
    out += static_cast<char>(kMinCodeSize);
    // Every pixel is sent as a literal; a clear code before the table would grow past 511 keeps
    // every code 9 bits wide, which every decoder accepts.
    GifCodeWriter writer;
    writer.put(kClear, 9);
    int since_clear = 0;
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        if (since_clear == 254) {
          writer.put(kClear, 9);
          since_clear = 0;
        }
        unsigned pixel =
            static_cast<unsigned>((x + y + f * 16) * 255 / (width + height + 48)) & 0xff;
        writer.put(pixel, 9);
        ++since_clear;
      }
    }
    writer.put(kEnd, 9);
    out += writer.finish();
  }
  out += ';';  // trailer
  return out;
}

std::string make_fake_mp4(std::size_t size) {
  std::string out(
      "\x00\x00\x00\x20"
      "ftypisom\x00\x00\x02\x00"
      "isomiso2avc1mp41",
      32);
  if (size > out.size()) out.append(size - out.size(), '\0');
  return out;
}

std::string jpeg_preamble() {
  // SOI, APP0 "JFIF" 1.01, no thumbnail.
  return std::string("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", 20);
}

}  // namespace thumbfetch
