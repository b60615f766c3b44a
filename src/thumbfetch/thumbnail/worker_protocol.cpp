#include "thumbfetch/thumbnail/worker_protocol.hpp"

#include <unistd.h>

#include <cerrno>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

namespace thumbfetch {

namespace {

// Splits off "header\n" + payload of `payload_size(header)` bytes when all of it is there.
template <typename PayloadSize>
std::optional<std::pair<std::string, std::string>> take_message(std::string& buffer,
                                                                PayloadSize payload_size) {
  const size_t newline = buffer.find('\n');
  if (newline == std::string::npos) return std::nullopt;
  std::string header = buffer.substr(0, newline);
  const size_t need = payload_size(header);
  if (buffer.size() < newline + 1 + need) return std::nullopt;
  std::string payload = buffer.substr(newline + 1, need);
  buffer.erase(0, newline + 1 + need);
  return std::make_pair(std::move(header), std::move(payload));
}

[[noreturn]] void malformed(const std::string& header) {
  throw std::runtime_error("malformed worker message: " + header.substr(0, 80));
}

}  // namespace

std::string encode_request(const ThumbJob& job) {
  const std::string in = job.input.string(), stem = job.output_stem.string();
  return fmt::format("J {} {}\n", in.size(), stem.size()) + in + stem;
}

std::string encode_response(const ThumbResult& r) {
  const std::string out = r.done.output.string();
  return fmt::format("R {} {} {} {} {} {} {} {} {} {} {}\n", static_cast<int>(r.state),
                     r.done.size.width, r.done.size.height, r.done.source.width,
                     r.done.source.height, r.done.bytes, static_cast<int>(r.done.decoder),
                     static_cast<int>(r.error.kind), out.size(), r.error.message.size(),
                     static_cast<long long>(r.seconds * 1e6)) +
         out + r.error.message;
}

std::optional<ThumbJob> take_request(std::string& buffer) {
  size_t in_len = 0, stem_len = 0;
  auto message = take_message(buffer, [&](const std::string& header) {
    std::istringstream s(header);
    char tag = 0;
    if (!(s >> tag >> in_len >> stem_len) || tag != 'J') malformed(header);
    return in_len + stem_len;
  });
  if (!message) return std::nullopt;
  return ThumbJob{message->second.substr(0, in_len), message->second.substr(in_len, stem_len)};
}

std::optional<ThumbResult> take_response(std::string& buffer) {
  ThumbResult r;
  int state = 0, decoder = 0, kind = 0;
  size_t out_len = 0, msg_len = 0;
  long long usec = 0;
  auto message = take_message(buffer, [&](const std::string& header) {
    std::istringstream s(header);
    char tag = 0;
    if (!(s >> tag >> state >> r.done.size.width >> r.done.size.height >> r.done.source.width >>
          r.done.source.height >> r.done.bytes >> decoder >> kind >> out_len >> msg_len >> usec) ||
        tag != 'R') {
      malformed(header);
    }
    return out_len + msg_len;
  });
  if (!message) return std::nullopt;
  r.state = static_cast<ThumbResult::State>(state);
  r.done.decoder = static_cast<Decoder>(decoder);
  r.done.output = message->second.substr(0, out_len);
  r.error = Error{static_cast<ErrorKind>(kind), message->second.substr(out_len, msg_len)};
  r.seconds = usec / 1e6;
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
