#include "thumbfetch/util/error.hpp"

#include <fmt/format.h>
#include <cerrno>

namespace thumbfetch {

ErrorKind write_error_kind(int err) {
  return err == ENOSPC || err == EDQUOT ? ErrorKind::no_space : ErrorKind::write;
}

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::io:
      return "unreadable";
    case ErrorKind::not_an_image:
      return "not an image";
    case ErrorKind::unsupported:
      return "unsupported format";
    case ErrorKind::truncated:
      return "truncated";
    case ErrorKind::corrupt:
      return "corrupt";
    case ErrorKind::too_many_pixels:
      return "too many pixels";
    case ErrorKind::write:
      return "write error";
    case ErrorKind::no_space:
      return "no space left on device";
    case ErrorKind::worker_crashed:
      return "worker crashed";
    case ErrorKind::timeout:
      return "timeout";
    case ErrorKind::network:
      return "network error";
    case ErrorKind::http_status:
      return "HTTP error";
    case ErrorKind::too_large:
      return "too large";
    case ErrorKind::refused:
      return "refused";
    case ErrorKind::cancelled:
      return "cancelled";
    case ErrorKind::internal:
      return "internal error";
  }
  return "unknown";
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
