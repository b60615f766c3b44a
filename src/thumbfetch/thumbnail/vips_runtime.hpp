#pragma once
// libvips set up the way thumbfetch needs it: one thread per worker and no operation cache (so
// strategies compare fairly and memory stays bounded), untrusted loaders blocked (no
// ImageMagick or PDF for files from the internet), warnings captured per image instead of
// printed, and every libvips message reported for the image that caused it.

#include <vips/vips8>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "thumbfetch/util/error.hpp"

namespace thumbfetch {

// Initialises libvips once per process; later calls do nothing. Throws if libvips cannot start.
// Called lazily by the code that needs libvips, so JPEG-only work never pays its start-up.
void init_vips(const char* argv0);

// While alive, libvips warnings raised on this thread are collected here (a few), not printed.
// Warnings raised on a thread with no capture are dropped.
class VipsWarningCapture {
 public:
  VipsWarningCapture();
  ~VipsWarningCapture();
  VipsWarningCapture(const VipsWarningCapture&) = delete;
  VipsWarningCapture& operator=(const VipsWarningCapture&) = delete;

  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  std::vector<std::string> warnings_;
  std::vector<std::string>* previous_;
};

// Memory that libvips (GLib) allocated and we must g_free.
struct GFree {
  void operator()(void* p) const;
};
using GlibMemory = std::unique_ptr<void, GFree>;

// Encodes `image` with libvips' saver for `suffix` (".png", ".webp", ...) into bytes.
std::vector<unsigned char> save_to_bytes(const vips::VImage& image, const char* suffix,
                                         vips::VOption* options);

// The last error libvips recorded, reduced to one readable line, and the buffer cleared.
std::string take_vips_error(const std::string& what);

// Why one image's libvips work failed: the first line libvips wrote for it, and the warnings it
// raised (a few).
struct VipsFailure {
  std::string message;
  std::vector<std::string> warnings;
};

// Runs `work`, one image's libvips work on this thread, so that every message is that image's.
//
// libvips keeps ONE error buffer per process, shared by all threads, and a vips::VError carries
// a copy of the whole buffer as it was when thrown. Complaints left by an earlier image that
// succeeded, or written by another thread's image at the same time, would be read as this
// image's message (a truncated GIF reported with a TIFF's "Fax4Decode: Bad code word"). So the
// buffer is emptied as the image starts, and when the image fails while another image was in
// libvips at any moment of its run, it is run again alone (images on other threads wait at a
// gate until it is done) and its message is taken from that run: the message a serial run
// gives. Only failures pay for this, and only when images overlap.
//
// `work` returns a Result (its own failures stay as they are) or throws vips::VError, which
// becomes `on_failure(failure)`. Warnings reach the image's capture only when raised on this
// thread: pull pixels with `pull_pixels`, not with libvips' sinks (savers still use them; their
// warnings are dropped, never printed). Nested calls on one thread run `work` directly, as part
// of the outer image.
template <typename T>
Result<T> run_vips_image(const std::function<Result<T>()>& work,
                         const std::function<Error(const VipsFailure&)>& on_failure);

// Computes `image` (8-bit) on the calling thread, strip by strip, into `out` (width x height x
// bands bytes, rows packed). libvips' own sinks compute on worker threads, whose warnings reach
// no image's capture. Throws vips::VError.
void pull_pixels(const vips::VImage& image, unsigned char* out);

namespace detail {
// The untyped part of run_vips_image: runs `attempt` (which may throw vips::VError) once, or
// again alone as described there. True when the last attempt returned; else `failure` is set.
bool run_attributed(const std::function<void()>& attempt, VipsFailure& failure);
}  // namespace detail

template <typename T>
Result<T> run_vips_image(const std::function<Result<T>()>& work,
                         const std::function<Error(const VipsFailure&)>& on_failure) {
  std::optional<Result<T>> result;
  VipsFailure failure;
  if (detail::run_attributed([&] { result.emplace(work()); }, failure)) {
    return std::move(*result);
  }
  return on_failure(failure);
}

}  // namespace thumbfetch
