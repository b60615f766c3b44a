#include "thumbfetch/util/image_end.hpp"

#include <algorithm>
#include <cstring>

#include "thumbfetch/util/big_endian.hpp"

namespace thumbfetch {

namespace {

constexpr std::uint8_t kSos = 0xDA;
constexpr std::uint8_t kEoi = 0xD9;

// Markers that stand alone, without a length: TEM and the restart markers RST0-7 (SOI is
// consumed with the signature).
bool standalone_marker(std::uint8_t code) {
  return code == 0x01 || (code >= 0xD0 && code <= 0xD7);
}

}  // namespace

ImageEndScanner::ImageEndScanner(ImageFormat format) : format_(format) {
  switch (format) {
    case ImageFormat::jpeg:
      verdict_ = Verdict::incomplete;
      state_ = State::marker_ff;
      skip_ = 2;  // SOI, already recognised by sniff_image_format
      break;
    case ImageFormat::png:
      verdict_ = Verdict::incomplete;
      state_ = State::chunk_header;
      skip_ = 8;  // the signature
      break;
    default:
      verdict_ = Verdict::unchecked;
      break;
  }
}

void ImageEndScanner::on_marker(std::uint8_t code) {
  if (code == kEoi) {
    verdict_ = Verdict::complete;
  } else if (code == 0x00) {
    fail();  // 0xFF 0x00 is stuffing, only valid inside entropy-coded data
  } else if (standalone_marker(code)) {
    state_ = State::marker_ff;
  } else {
    marker_ = code;
    field_size_ = 0;
    state_ = State::length;
  }
}

void ImageEndScanner::feed(std::string_view bytes) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  const auto* const end = p + bytes.size();
  while (p < end && verdict_ == Verdict::incomplete) {
    if (skip_ > 0) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(skip_, end - p));
      skip_ -= n;
      p += n;
      offset_ += n;
      if (skip_ == 0 && at_last_chunk_) verdict_ = Verdict::complete;
      continue;
    }
    if (state_ == State::entropy) {
      // Most of a JPEG is here: jump to the next 0xFF instead of looking at every byte.
      const auto* ff = static_cast<const std::uint8_t*>(std::memchr(p, 0xFF, end - p));
      const std::size_t n = ff == nullptr ? end - p : ff - p + 1;
      p += n;
      offset_ += n;
      if (ff != nullptr) state_ = State::entropy_ff;
      continue;
    }
    const std::uint8_t b = *p;
    switch (state_) {
      case State::marker_ff:
        if (b != 0xFF) fail();
        state_ = State::marker_code;
        break;
      case State::marker_code:
        if (b != 0xFF) on_marker(b);  // 0xFF: fill before the code
        break;
      case State::entropy_ff:
        if (b == 0x00 || (b >= 0xD0 && b <= 0xD7)) {
          state_ = State::entropy;  // a stuffed 0xFF data byte, or a restart marker
        } else if (b != 0xFF) {
          on_marker(b);
        }
        break;
      case State::length:
        field_[field_size_++] = b;
        if (field_size_ < 2) break;
        {
          const unsigned length = (unsigned{field_[0]} << 8) | field_[1];
          if (length < 2) {
            fail();
            break;
          }
          skip_ = length - 2;
          // After SOS's header comes entropy-coded data (progressive files have several scans,
          // each met again as a marker inside it).
          state_ = marker_ == kSos ? State::entropy : State::marker_ff;
        }
        break;
      case State::chunk_header:
        field_[field_size_++] = b;
        if (field_size_ < 8) break;
        field_size_ = 0;
        {
          const std::uint32_t length = big_endian32(field_.data());
          if (length > 0x7FFFFFFFu) {  // the PNG limit
            fail();
            break;
          }
          // The image is whole once IEND's CRC is in.
          at_last_chunk_ = std::memcmp(field_.data() + 4, "IEND", 4) == 0;
          skip_ = std::uint64_t{length} + 4;  // data and CRC
        }
        break;
      case State::entropy:
        break;  // handled above
    }
    if (verdict_ == Verdict::broken) break;  // offset_ stays on the byte that broke it
    ++p;
    ++offset_;
  }
}

}  // namespace thumbfetch
