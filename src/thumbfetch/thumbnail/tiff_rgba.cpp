// TIFF layouts libvips refuses (YCbCr with chroma subsampling outside JPEG compression, old-style
// JPEG, ...) through libtiff's RGBA interface, which converts every layout libtiff knows (strips
// or tiles, contiguous or separate planes, YCbCr, palette, 1-16 bits) to 8-bit RGBA. libtiff is
// already in the process (libvips reads TIFF with it); here it reads from our memory buffer, its
// allocations are capped, and its messages go to this image alone (libtiff 4.5's per-handle
// handlers), never to the terminal or to libvips' shared error buffer.
#include <tiffio.h>

#include <cstdarg>
#include <cstring>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "thumbfetch/thumbnail/decoded.hpp"

namespace thumbfetch {

namespace {

// The file in memory, as libtiff's client I/O sees it.
struct MemoryFile {
  std::string_view data;
  toff_t position = 0;
  std::string error;  // libtiff's first error about this image
};

tmsize_t read_proc(thandle_t handle, void* buffer, tmsize_t size) {
  auto* file = static_cast<MemoryFile*>(handle);
  if (size < 0 || file->position >= file->data.size()) return 0;
  const auto n = std::min<toff_t>(toff_t(size), file->data.size() - file->position);
  std::memcpy(buffer, file->data.data() + file->position, n);
  file->position += n;
  return tmsize_t(n);
}

tmsize_t write_proc(thandle_t, void*, tmsize_t) {
  return -1;  // read-only
}

toff_t seek_proc(thandle_t handle, toff_t offset, int whence) {
  auto* file = static_cast<MemoryFile*>(handle);
  const toff_t base = whence == SEEK_CUR   ? file->position
                      : whence == SEEK_END ? file->data.size()
                                           : 0;
  if (offset > ~toff_t(0) - base) return toff_t(-1);
  file->position = base + offset;  // past the end is allowed; reads there return nothing
  return file->position;
}

int close_proc(thandle_t) {
  return 0;
}

toff_t size_proc(thandle_t handle) {
  return static_cast<MemoryFile*>(handle)->data.size();
}

// The bytes are in memory already: libtiff reads them in place, as from a mapped file (read-only
// opens never write there). libtiff 4.5.0's unmapped path misreads tiles of separate planes.
int map_proc(thandle_t handle, void** base, toff_t* size) {
  auto* file = static_cast<MemoryFile*>(handle);
  *base = const_cast<char*>(file->data.data());
  *size = file->data.size();
  return 1;
}

void unmap_proc(thandle_t, void*, toff_t) {}

int on_error(TIFF*, void* user_data, const char* module, const char* format, va_list args) {
  auto* file = static_cast<MemoryFile*>(user_data);
  if (file->error.empty()) {
    char text[512];
    std::vsnprintf(text, sizeof text, format, args);
    file->error = module && *module ? std::string(module) + ": " + text : std::string(text);
  }
  return 1;  // handled: nothing reaches the global handlers (stderr, libvips' buffer)
}

int on_warning(TIFF*, void*, const char*, const char*, va_list) {
  return 1;  // warnings do not fail an image, and are nobody else's business
}

struct OptionsFree {
  void operator()(TIFFOpenOptions* o) const { TIFFOpenOptionsFree(o); }
};
struct TiffClose {
  void operator()(TIFF* t) const { TIFFClose(t); }
};
using Tiff = std::unique_ptr<TIFF, TiffClose>;

// libtiff may allocate this much at once (a strip, a tile, a colour map), no more.
constexpr tmsize_t kMaxSingleAllocation = 256 << 20;

Tiff open_tiff(MemoryFile& file) {
  std::unique_ptr<TIFFOpenOptions, OptionsFree> options(TIFFOpenOptionsAlloc());
  if (!options) return nullptr;
  TIFFOpenOptionsSetMaxSingleMemAlloc(options.get(), kMaxSingleAllocation);
  TIFFOpenOptionsSetErrorHandlerExtR(options.get(), on_error, &file);
  TIFFOpenOptionsSetWarningHandlerExtR(options.get(), on_warning, &file);
  return Tiff(TIFFClientOpenExt("image", "r", &file, read_proc, write_proc, seek_proc, close_proc,
                                size_proc, map_proc, unmap_proc, options.get()));
}

std::string compression_name(int compression) {
  switch (compression) {
    case COMPRESSION_NONE:
      return "uncompressed";
    case COMPRESSION_OJPEG:
      return "old-style JPEG";
    case COMPRESSION_JPEG:
      return "JPEG";
    case COMPRESSION_LZW:
      return "LZW";
    case COMPRESSION_ADOBE_DEFLATE:
    case COMPRESSION_DEFLATE:
      return "Deflate";
    case COMPRESSION_PACKBITS:
      return "PackBits";
    case COMPRESSION_CCITTFAX3:
    case COMPRESSION_CCITTFAX4:
    case COMPRESSION_CCITTRLE:
      return "CCITT fax";
    default:
      return fmt::format("compression {}", compression);
  }
}

// "old-style JPEG, YCbCr 2x2 subsampled, tiled, 3 x 8-bit samples": for messages.
std::string describe_tiff_layout(TIFF* tif) {
  std::uint16_t compression = 1, photometric = 0, planar = 1, bits = 1, samples = 1;
  std::uint16_t sub_h = 1, sub_v = 1;
  TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &compression);
  TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric);
  TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &samples);
  std::string layout = compression_name(compression);
  if (photometric == PHOTOMETRIC_YCBCR) {
    TIFFGetFieldDefaulted(tif, TIFFTAG_YCBCRSUBSAMPLING, &sub_h, &sub_v);
    layout += fmt::format(", YCbCr {}x{} subsampled", sub_h, sub_v);
  } else {
    layout += fmt::format(", photometric {}", photometric);
  }
  layout += TIFFIsTiled(tif) ? ", tiled" : ", strips";
  layout += planar == PLANARCONFIG_SEPARATE ? ", separate planes" : "";
  return layout + fmt::format(", {} x {}-bit samples", samples, bits);
}

}  // namespace

Result<Decoded> decode_tiff_rgba(std::string_view data, const ThumbOptions& options) {
  MemoryFile file{data};
  Tiff tif = open_tiff(file);
  if (!tif) {
    return make_error(
        ErrorKind::corrupt,
        "corrupt TIFF: " + (file.error.empty() ? "libtiff gave no reason" : file.error));
  }
  std::uint32_t width = 0, height = 0;
  std::uint16_t orientation = ORIENTATION_TOPLEFT;
  TIFFGetField(tif.get(), TIFFTAG_IMAGEWIDTH, &width);
  TIFFGetField(tif.get(), TIFFTAG_IMAGELENGTH, &height);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_ORIENTATION, &orientation);
  if (width == 0 || height == 0 || width > INT32_MAX || height > INT32_MAX) {
    return make_error(ErrorKind::corrupt,
                      fmt::format("corrupt TIFF: bad size {}x{}", width, height));
  }
  const Size raw{int(width), int(height)};
  if (auto st = check_pixel_limit(raw, options.max_pixels); !st) return st.error();
  const std::string layout = describe_tiff_layout(tif.get());

  char why[1024] = "";
  TIFFRGBAImage image{};
  if (!TIFFRGBAImageOK(tif.get(), why) || !TIFFRGBAImageBegin(&image, tif.get(), 1, why)) {
    return make_error(ErrorKind::unsupported,
                      fmt::format("unsupported TIFF layout ({}): {}", layout, why));
  }
  // Rows as stored (no flip); the orientation is applied below, like every other decoder's.
  image.req_orientation = image.orientation;
  std::vector<std::uint32_t> raster(std::size_t(width) * height);
  const int ok = TIFFRGBAImageGet(&image, raster.data(), width, height);
  const bool alpha = image.alpha != 0;
  TIFFRGBAImageEnd(&image);
  if (!ok) {
    std::string message = fmt::format("TIFF ({}) could not be decoded: {}", layout,
                                      file.error.empty() ? "libtiff gave no reason" : file.error);
    return make_error(ErrorKind::corrupt, std::move(message));
  }
  // The RGBA interface premultiplies alpha; the common stage wants it straight.
  Pixels pixels(raw.width, raw.height, alpha ? 4 : 3);
  std::uint8_t* out = pixels.data.data();
  for (std::uint32_t abgr : raster) {
    *out++ = TIFFGetR(abgr);
    *out++ = TIFFGetG(abgr);
    *out++ = TIFFGetB(abgr);
    if (alpha) *out++ = TIFFGetA(abgr);
  }
  if (alpha) unpremultiply_alpha(pixels);
  Decoded decoded;
  decoded.decoder = Decoder::libtiff;
  decoded.source = orientation_swaps_axes(orientation) ? Size{raw.height, raw.width} : raw;
  decoded.plan = plan_thumbnail(decoded.source, options);
  decoded.pixels = apply_orientation(std::move(pixels), orientation);
  return decoded;
}

}  // namespace thumbfetch
