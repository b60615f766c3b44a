#include "thumbfetch/thumbnail/vips_runtime.hpp"

#include <vips/vips8>

#include <mutex>
#include <stdexcept>

namespace thumbfetch {

namespace {

thread_local std::vector<std::string>* t_warnings = nullptr;

void collect_warning(const gchar*, GLogLevelFlags, const gchar* message, gpointer) {
  // Keep a few per image: a corrupt file can produce thousands.
  if (t_warnings && t_warnings->size() < 8 && message) t_warnings->emplace_back(message);
}

}  // namespace

void init_vips(const char* argv0) {
  static std::once_flag once;
  std::call_once(once, [argv0] {
    if (VIPS_INIT(argv0 ? argv0 : "thumbfetch") != 0) {
      throw std::runtime_error("cannot initialise libvips: " + std::string(vips_error_buffer()));
    }
    vips_concurrency_set(1);
    vips_cache_set_max(0);
    vips_cache_set_max_mem(0);
    vips_block_untrusted_set(TRUE);
    g_log_set_handler("VIPS",
                      static_cast<GLogLevelFlags>(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE),
                      collect_warning, nullptr);
  });
}

VipsWarningCapture::VipsWarningCapture() : previous_(t_warnings) {
  t_warnings = &warnings_;
}

VipsWarningCapture::~VipsWarningCapture() {
  t_warnings = previous_;
}

void GFree::operator()(void* p) const {
  g_free(p);
}

std::vector<unsigned char> save_to_bytes(const vips::VImage& image, const char* suffix,
                                         vips::VOption* options) {
  void* raw = nullptr;
  size_t size = 0;
  image.write_to_buffer(suffix, &raw, &size, options);
  GlibMemory owned(raw);
  const auto* p = static_cast<const unsigned char*>(raw);
  return std::vector<unsigned char>(p, p + size);
}

std::string take_vips_error(const std::string& what) {
  vips_error_clear();
  // libvips stacks "domain: message" lines, most specific first; keep the first real one.
  std::string line;
  size_t start = 0;
  while (start < what.size()) {
    size_t end = what.find('\n', start);
    if (end == std::string::npos) end = what.size();
    line = what.substr(start, end - start);
    if (!line.empty()) break;
    start = end + 1;
  }
  return line.empty() ? "unknown libvips error" : line;
}

}  // namespace thumbfetch
