#pragma once
// libvips set up the way thumbfetch needs it: one thread per worker and no operation cache (so
// strategies compare fairly and memory stays bounded), untrusted loaders blocked (no
// ImageMagick or PDF for files from the internet), and warnings captured per image instead of
// printed.

#include <vips/vips8>

#include <memory>
#include <string>
#include <vector>

namespace thumbfetch {

// Initialises libvips once per process; later calls do nothing. Throws if libvips cannot start.
// Called lazily by the code that needs libvips, so JPEG-only work never pays its start-up.
void init_vips(const char* argv0);

// While alive, libvips warnings raised on this thread are collected here, not printed.
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

}  // namespace thumbfetch
