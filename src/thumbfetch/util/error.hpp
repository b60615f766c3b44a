#pragma once
// Per-item errors as values: every image or URL that fails carries one of these, so a batch
// can report it, count it by kind and go on. Exceptions are kept for "cannot continue".

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace thumbfetch {

// What went wrong, coarse enough for a summary line ("3 not an image, 1 timeout").
enum class ErrorKind {
  io,               // the input could not be read
  not_an_image,     // the bytes are not an image at all (HTML, text, empty)
  unsupported,      // an image, but in a format we do not handle
  truncated,        // the data ends before the image does
  corrupt,          // the decoder rejected the data
  too_many_pixels,  // the header announces more pixels than allowed
  write,            // the output could not be written
  no_space,         // the output's file system is full (ENOSPC, EDQUOT): the run stops
  worker_crashed,   // a worker process died while holding the item
  timeout,          // the item took longer than allowed
  network,          // connection, DNS, TLS
  http_status,      // the server answered with an error status
  too_large,        // more bytes than allowed
  refused,          // a policy refused it (scheme, redirect, bad URL)
  cancelled,        // the run was interrupted before the item finished
  internal,         // a bug or an unexpected library failure
};

// A short, stable, human name for the kind ("not an image").
std::string_view to_string(ErrorKind kind);
// The kind named by to_string or by its identifier ("not an image", "not_an_image"), as manifests
// store it; nullopt for any other text (a row from a newer or foreign run).
std::optional<ErrorKind> error_kind_from_string(std::string_view text);

struct Error {
  ErrorKind kind = ErrorKind::internal;
  std::string message;  // what a person reads after "FILE: "
};

// What a failure line says after "ITEM: ": the message, led by its kind's name unless it already
// starts with it ("corrupt JPEG data: ...", "network error: Failed to connect ..."), so the
// line and the summary's "N corrupt" use the same words.
std::string describe(const Error& error);

// `error` with " (after N attempts)" appended when it took more than one attempt.
Error after_attempts(Error error, int attempts);

// An expected-like value: either a T or an Error. Kept tiny on purpose.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<Error>(v_); }

 private:
  std::variant<T, Error> v_;
};

// For operations that produce nothing but may fail.
struct Ok {};
using Status = Result<Ok>;

inline Error make_error(ErrorKind kind, std::string message) {
  return Error{kind, std::move(message)};
}

// The kind for a failed write with this errno: a full file system is no_space, the rest write.
ErrorKind write_error_kind(int err);

}  // namespace thumbfetch
