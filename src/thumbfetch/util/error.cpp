#include "thumbfetch/util/error.hpp"

#include <fmt/format.h>
#include <cerrno>

namespace thumbfetch {

ErrorKind write_error_kind(int err) {
  return err == ENOSPC || err == EDQUOT ? ErrorKind::no_space : ErrorKind::write;
}

namespace {

// One table for both directions: the kind, its identifier and its human name.
struct KindName {
  ErrorKind kind;
  std::string_view id, name;
};
constexpr KindName kKindNames[] = {
    {ErrorKind::io, "io", "unreadable"},
    {ErrorKind::not_an_image, "not_an_image", "not an image"},
    {ErrorKind::unsupported, "unsupported", "unsupported format"},
    {ErrorKind::truncated, "truncated", "truncated"},
    {ErrorKind::corrupt, "corrupt", "corrupt"},
    {ErrorKind::too_many_pixels, "too_many_pixels", "too many pixels"},
    {ErrorKind::write, "write", "write error"},
    {ErrorKind::no_space, "no_space", "no space left on device"},
    {ErrorKind::worker_crashed, "worker_crashed", "worker crashed"},
    {ErrorKind::timeout, "timeout", "timeout"},
    {ErrorKind::network, "network", "network error"},
    {ErrorKind::http_status, "http_status", "HTTP error"},
    {ErrorKind::too_large, "too_large", "too large"},
    {ErrorKind::refused, "refused", "refused"},
    {ErrorKind::cancelled, "cancelled", "cancelled"},
    {ErrorKind::internal, "internal", "internal error"},
};

}  // namespace

std::string_view to_string(ErrorKind kind) {
  for (const KindName& k : kKindNames) {
    if (k.kind == kind) return k.name;
  }
  return "unknown";
}

std::optional<ErrorKind> error_kind_from_string(std::string_view text) {
  for (const KindName& k : kKindNames) {
    if (text == k.name || text == k.id) return k.kind;
  }
  return std::nullopt;
}

std::string describe(const Error& error) {
  const std::string_view kind = to_string(error.kind);
  const std::string_view first_word = kind.substr(0, kind.find(' '));
  if (error.message.starts_with(first_word)) return error.message;
  if (error.message.empty()) return std::string(kind);
  return fmt::format("{}: {}", kind, error.message);
}

Error after_attempts(Error error, int attempts) {
  // Built anew rather than appended: GCC 12 warns falsely (-Wrestrict) on string += here.
  if (attempts > 1) error.message = fmt::format("{} (after {} attempts)", error.message, attempts);
  return error;
}

}  // namespace thumbfetch
