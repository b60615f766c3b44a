// svg_to_png: the chart rendered by libvips' SVG loader (librsvg).
//
// libvips (8.14 here) marks its SVG loaders untrusted, and init_vips() blocks untrusted
// operations (vips_block_untrusted_set). The block is enforced when an operation is built, so
// it refuses a direct svgload_buffer call as well ("operation is blocked"), not only format
// detection. The narrowest way through: lift the block for the buffer SVG loader alone
// (VipsForeignLoadSvgBuffer: svgload and svgload_source stay blocked), only while rendering,
// under a lock, and put it back afterwards. Another thread could load an SVG buffer during that
// window; downloads never reach libvips as SVG, because Thumbnailer::render sniffs the bytes and
// refuses SVG before any loader runs.
#include <vips/vips8>

#include <memory>
#include <mutex>

#include "thumbfetch/report/chart.hpp"
#include "thumbfetch/thumbnail/vips_runtime.hpp"

namespace thumbfetch {

namespace {

constexpr const char* kSvgBufferLoader = "VipsForeignLoadSvgBuffer";

bool operation_blocked(const char* type_name) {
  const GType type = g_type_from_name(type_name);
  if (type == 0) return false;
  gpointer klass = g_type_class_ref(type);
  const bool blocked = (VIPS_OPERATION_CLASS(klass)->flags & VIPS_OPERATION_BLOCKED) != 0;
  g_type_class_unref(klass);
  return blocked;
}

// While alive, libvips may load SVG from memory; the block, if there was one, returns after.
class SvgBufferLoaderUnblocked {
 public:
  SvgBufferLoaderUnblocked() : lock_(mutex()), was_blocked_(operation_blocked(kSvgBufferLoader)) {
    if (was_blocked_) vips_operation_block_set(kSvgBufferLoader, FALSE);
  }
  ~SvgBufferLoaderUnblocked() {
    if (was_blocked_) vips_operation_block_set(kSvgBufferLoader, TRUE);
  }
  SvgBufferLoaderUnblocked(const SvgBufferLoaderUnblocked&) = delete;
  SvgBufferLoaderUnblocked& operator=(const SvgBufferLoaderUnblocked&) = delete;

 private:
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  std::lock_guard<std::mutex> lock_;
  bool was_blocked_;
};

struct BlobUnref {
  void operator()(VipsBlob* blob) const { vips_area_unref(VIPS_AREA(blob)); }
};

}  // namespace

Result<std::vector<unsigned char>> svg_to_png(std::string_view svg) {
  init_vips(nullptr);
  if (vips_type_find("VipsOperation", "svgload_buffer") == 0) {
    return make_error(ErrorKind::unsupported,
                      "cannot render the chart to PNG: this libvips has no SVG loader "
                      "(svgload_buffer, built with librsvg)");
  }
  VipsWarningCapture warnings;  // librsvg's complaints stay out of the terminal
  try {
    SvgBufferLoaderUnblocked unblocked;
    std::unique_ptr<VipsBlob, BlobUnref> blob(vips_blob_new(nullptr, svg.data(), svg.size()));
    vips::VImage image = vips::VImage::svgload_buffer(blob.get());
    if (image.has_alpha()) {
      image = image.flatten(vips::VImage::option()->set("background", std::vector<double>{255}));
    }
    return save_to_bytes(image, ".png", vips::VImage::option()->set("compression", 9));
  } catch (const vips::VError& e) {
    return make_error(ErrorKind::internal,
                      "cannot render the chart to PNG: " + take_vips_error(e.what()));
  }
}

}  // namespace thumbfetch
