#include "thumbfetch/thumbnail/vips_runtime.hpp"

#include <vips/vips8>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace thumbfetch {

namespace {

constexpr const char* kUnknown = "unknown libvips error";

thread_local std::vector<std::string>* t_warnings = nullptr;

void collect_warning(const gchar*, GLogLevelFlags, const gchar* message, gpointer) {
  // Keep a few per image: a corrupt file can produce thousands.
  if (t_warnings && t_warnings->size() < 8 && message) t_warnings->emplace_back(message);
}

// Where images meet in libvips. Any number of images run side by side; an image that must run
// alone waits for those inside to finish and keeps new ones out until it is done (new ones wait
// as soon as it asks, so it cannot be starved).
class VipsGate {
 public:
  struct Ticket {
    std::uint64_t number = 0;
    bool others_inside = false;  // another image was in libvips when this one entered
  };

  Ticket enter() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !alone_ && waiting_alone_ == 0; });
    Ticket ticket{++tickets_, inside_ > 0};
    ++inside_;
    return ticket;
  }

  // Leaves; true when another image was in libvips at some moment of this one's run.
  bool leave(const Ticket& ticket) {
    std::lock_guard lock(mutex_);
    --inside_;
    const bool overlapped = ticket.others_inside || tickets_ != ticket.number;
    changed_.notify_all();
    return overlapped;
  }

  void enter_alone() {
    std::unique_lock lock(mutex_);
    ++waiting_alone_;
    changed_.wait(lock, [&] { return !alone_ && inside_ == 0; });
    --waiting_alone_;
    alone_ = true;
  }

  void leave_alone() {
    std::lock_guard lock(mutex_);
    alone_ = false;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int inside_ = 0;
  int waiting_alone_ = 0;
  bool alone_ = false;
  std::uint64_t tickets_ = 0;
};

VipsGate& gate() {
  static VipsGate g;
  return g;
}

thread_local int t_depth = 0;  // run_attributed calls active on this thread

struct DepthGuard {
  DepthGuard() { ++t_depth; }
  ~DepthGuard() { --t_depth; }
  DepthGuard(const DepthGuard&) = delete;
  DepthGuard& operator=(const DepthGuard&) = delete;
};

// One attempt: the buffer emptied first (unless nested), warnings captured, and the VError's own
// text (the buffer as it was when thrown) reduced to its first line.
bool attempt_once(const std::function<void()>& attempt, VipsFailure& failure, bool clear_first) {
  if (clear_first) vips_error_clear();
  VipsWarningCapture warnings;
  DepthGuard depth;
  try {
    attempt();
    return true;
  } catch (const vips::VError& e) {
    failure.message = take_vips_error(e.what());
    failure.warnings = warnings.warnings();
    if (failure.message == kUnknown && !failure.warnings.empty()) {
      failure.message = failure.warnings.front();
    }
    return false;
  }
}

}  // namespace

// vips_init() sets VIPSHOME with setenv() when it is not set. init_vips() runs lazily, on
// whichever thread first needs libvips, and a setenv() that adds a variable reallocates
// `environ` under other threads' getenv() (libcurl's proxy look-up) and posix_spawn() (worker
// processes): TSan saw a pool thread spawning a worker from the array being reallocated. So
// VIPSHOME is settled here, at load time, while the process has one thread; libvips then
// only reads it.
[[maybe_unused]] const char* const kVipsHome = vips_guess_prefix("thumbfetch", "VIPSHOME");

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
  return line.empty() ? kUnknown : line;
}

void pull_pixels(const vips::VImage& image, unsigned char* out) {
  if (image.format() != VIPS_FORMAT_UCHAR) {
    throw vips::VError("pull_pixels: the image is not 8-bit");
  }
  int tile_width = 0, tile_height = 0, lines = 0;
  vips_get_tile_size(image.get_image(), &tile_width, &tile_height, &lines);
  lines = std::max(lines, 1);
  const int width = image.width(), height = image.height();
  const size_t row_bytes = size_t(width) * image.bands();
  vips::VRegion region = image.region();
  for (int top = 0; top < height; top += lines) {
    const int rows = std::min(lines, height - top);
    region.prepare(0, top, width, rows);  // top to bottom: fine for sequential loaders
    for (int y = top; y < top + rows; ++y) {
      std::memcpy(out + size_t(y) * row_bytes, region.addr(0, y), row_bytes);
    }
  }
}

namespace detail {

bool run_attributed(const std::function<void()>& attempt, VipsFailure& failure) {
  if (t_depth > 0) return attempt_once(attempt, failure, /*clear_first=*/false);  // nested

  VipsGate& g = gate();
  const VipsGate::Ticket ticket = g.enter();
  bool ok = false;
  try {
    ok = attempt_once(attempt, failure, /*clear_first=*/true);
  } catch (...) {
    g.leave(ticket);
    throw;
  }
  const bool overlapped = g.leave(ticket);
  if (ok || !overlapped) return ok;

  // Another image was in libvips meanwhile: its messages may be in ours, or ours gone with its
  // clearing. Run again alone for the true message.
  g.enter_alone();
  failure = {};
  try {
    ok = attempt_once(attempt, failure, /*clear_first=*/true);
  } catch (...) {
    g.leave_alone();
    throw;
  }
  g.leave_alone();
  return ok;
}

}  // namespace detail

}  // namespace thumbfetch
