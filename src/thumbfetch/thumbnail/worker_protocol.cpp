#include "thumbfetch/thumbnail/worker_protocol.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace thumbfetch {

namespace {

// No path or message we send comes near this; a larger length is a garbled worker, and keeping
// lengths this small means no sum of them can wrap.
constexpr std::size_t kMaxField = std::size_t{16} << 20;

[[noreturn]] void malformed(std::string_view header, std::string_view why) {
  throw std::runtime_error(
      fmt::format("malformed worker message ({}): {}", why, header.substr(0, 80)));
}

// The header's space-separated fields after `tag`, each a non-negative decimal number, exactly
// `count` of them; anything else throws. (istream >> size_t would take "-1" as 2^64 - 1.)
std::vector<long long> header_numbers(std::string_view header, char tag, std::size_t count) {
  if (header.size() < 2 || header[0] != tag || header[1] != ' ') malformed(header, "tag");
  std::vector<long long> numbers;
  std::string_view rest = header.substr(2);
  for (;;) {  // an empty field (double or trailing space) is malformed
    const std::size_t space = rest.find(' ');
    const std::string_view field = rest.substr(0, space);
    long long value = 0;
    const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
    if (field.empty() || ec != std::errc() || end != field.data() + field.size() || value < 0) {
      malformed(header, "field");
    }
    numbers.push_back(value);
    if (space == std::string_view::npos) break;
    rest.remove_prefix(space + 1);
  }
  if (numbers.size() != count) malformed(header, "field count");
  return numbers;
}

std::size_t field_length(std::string_view header, long long value) {
  if (value < 0 || static_cast<unsigned long long>(value) > kMaxField) {
    malformed(header, "length");
  }
  return static_cast<std::size_t>(value);
}

// Splits off "header\n" + payload when all of it is there; `parse` reads the header and says
// how long the payload is (at most 2 x kMaxField, so nothing below can wrap). A first byte other
// than `tag` is garbage at once: a worker that writes a stray byte and then goes quiet is caught
// now, not waited for.
template <typename Parse>
std::optional<std::pair<std::string, std::string>> take_message(std::string& buffer, char tag,
                                                                Parse parse) {
  if (!buffer.empty() && buffer[0] != tag) malformed(std::string_view(buffer), "tag");
  const std::size_t newline = buffer.find('\n');
  if (newline == std::string::npos) {
    if (buffer.size() > 1024) malformed(std::string_view(buffer), "header too long");
    return std::nullopt;
  }
  std::string header = buffer.substr(0, newline);
  const std::size_t need = parse(std::string_view(header));
  if (buffer.size() - (newline + 1) < need) return std::nullopt;
  std::string payload = buffer.substr(newline + 1, need);
  buffer.erase(0, newline + 1 + need);
  return std::make_pair(std::move(header), std::move(payload));
}

constexpr long long kSha256HexLength = 64;

bool is_lower_hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool known(ThumbResult::State state) {
  // A worker only ever answers done or failed; skipped is the parent's own word.
  return state == ThumbResult::State::done || state == ThumbResult::State::failed;
}

// Decoders and error kinds are checked through their to_string, which names every enumerator
// and has a fallback for any other value ("libvips", "unknown"): no list here to fall behind
// the enums as decoders and kinds are added.
bool known(Decoder decoder) {
  return decoder == Decoder::libvips || to_string(decoder) != to_string(Decoder::libvips);
}

bool known(ErrorKind kind) {
  return to_string(kind) != "unknown";
}

// The value of an enum sent as a number, or a throw when it names none of ours.
template <typename Enum>
Enum enum_field(std::string_view header, long long value) {
  if (value < 0 || value > 255 || !known(static_cast<Enum>(value))) malformed(header, "enum");
  return static_cast<Enum>(value);
}

}  // namespace

std::string encode_request(const ThumbJob& job) {
  const std::string in = job.input.string(), stem = job.output_stem.string();
  return fmt::format("J {} {} {}\n", in.size(), stem.size(), job.hash == HashInput::yes ? 1 : 0) +
         in + stem;
}

std::string encode_response(const ThumbResult& r) {
  const std::string out = r.done.output.string();
  return fmt::format("R {} {} {} {} {} {} {} {} {} {} {} {}\n", static_cast<int>(r.state),
                     r.done.size.width, r.done.size.height, r.done.source.width,
                     r.done.source.height, r.done.bytes, static_cast<int>(r.done.decoder),
                     static_cast<int>(r.error.kind), out.size(), r.error.message.size(),
                     static_cast<long long>(r.seconds * 1e6), r.input_sha256.size()) +
         out + r.error.message + r.input_sha256;
}

std::optional<ThumbJob> take_request(std::string& buffer) {
  std::size_t in_len = 0, stem_len = 0;
  HashInput hash = HashInput::no;
  auto message = take_message(buffer, 'J', [&](std::string_view header) {
    const auto n = header_numbers(header, 'J', 3);
    in_len = field_length(header, n[0]);
    stem_len = field_length(header, n[1]);
    if (n[2] > 1) malformed(header, "hash");
    hash = n[2] == 1 ? HashInput::yes : HashInput::no;
    return in_len + stem_len;
  });
  if (!message) return std::nullopt;
  return ThumbJob{message->second.substr(0, in_len), message->second.substr(in_len, stem_len),
                  hash};
}

std::optional<ThumbResult> take_response(std::string& buffer) {
  ThumbResult r;
  std::size_t out_len = 0, msg_len = 0, sha_len = 0;
  auto message = take_message(buffer, 'R', [&](std::string_view header) {
    const auto n = header_numbers(header, 'R', 12);
    r.state = enum_field<ThumbResult::State>(header, n[0]);
    constexpr long long kIntMax = std::numeric_limits<int>::max();
    if (n[1] > kIntMax || n[2] > kIntMax || n[3] > kIntMax || n[4] > kIntMax) {
      malformed(header, "size");
    }
    r.done.size = Size{static_cast<int>(n[1]), static_cast<int>(n[2])};
    r.done.source = Size{static_cast<int>(n[3]), static_cast<int>(n[4])};
    r.done.bytes = static_cast<std::uint64_t>(n[5]);
    r.done.decoder = enum_field<Decoder>(header, n[6]);
    r.error.kind = enum_field<ErrorKind>(header, n[7]);
    out_len = field_length(header, n[8]);
    msg_len = field_length(header, n[9]);
    r.seconds = static_cast<double>(n[10]) / 1e6;
    if (n[11] != 0 && n[11] != kSha256HexLength) malformed(header, "digest length");
    sha_len = static_cast<std::size_t>(n[11]);
    return out_len + msg_len + sha_len;
  });
  if (!message) return std::nullopt;
  r.done.output = message->second.substr(0, out_len);
  r.error.message = message->second.substr(out_len, msg_len);
  r.input_sha256 = message->second.substr(out_len + msg_len, sha_len);
  if (!is_lower_hex(r.input_sha256)) malformed(message->first, "digest");
  return r;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace thumbfetch
