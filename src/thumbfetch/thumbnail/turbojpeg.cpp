#include "thumbfetch/thumbnail/turbojpeg.hpp"

#include <turbojpeg.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include <fmt/format.h>

namespace thumbfetch {

namespace {

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

struct TjFree {
  void operator()(unsigned char* p) const { tjFree(p); }
};

std::string error_text(tjhandle handle) {
  return tjGetErrorStr2(handle);
}

// libjpeg's words for data that stops early: inside the scan, or before the scan begins.
bool is_truncation(const std::string& message) {
  return message.find("Premature end") != std::string::npos ||
         message.find("missing SOS marker") != std::string::npos;
}

// TurboJPEG 2.1 reports TJERR_WARNING once any warning was raised, even when a fatal error
// ended the decode after it (rows left unwritten): the message, libjpeg's own text for each of
// its warnings (JWRN_* in jerror.h), tells them apart.
bool is_only_a_warning(tjhandle handle, const std::string& message) {
  static constexpr std::string_view kWarnings[] = {
      "Corrupt JPEG data",
      "Premature end of JPEG file",
      "Inconsistent progression",
      "Invalid SOS parameters for sequential",
      "Unknown Adobe color",
      "Warning: unknown JFIF",
      "Application transferred too many",
  };
  if (tjGetErrorCode(handle) != TJERR_WARNING) return false;
  for (std::string_view warning : kWarnings) {
    if (message.starts_with(warning)) return true;
  }
  return false;
}

// libjpeg reports only its first warning, so after "N extraneous bytes before marker" a later
// "Premature end of JPEG file" goes unsaid. So look: data cut inside a scan ends inside its
// entropy-coded segment, where 0xFF is only ever followed by 0x00 (stuffing), a restart marker
// (0xD0-0xD7) or more 0xFF; a scan that is whole ends at a marker (EOI, or the next segment).
// A JPEG holds no 0xFF 0xDA in entropy-coded data, so the last one starts the last scan.
bool ends_inside_a_scan(std::string_view jpeg) {
  const size_t sos = jpeg.rfind("\xFF\xDA");
  if (sos == std::string_view::npos) return false;
  if (sos + 4 > jpeg.size()) return true;
  const size_t header =
      (static_cast<unsigned char>(jpeg[sos + 2]) << 8) | static_cast<unsigned char>(jpeg[sos + 3]);
  for (size_t i = sos + 2 + header; i + 1 < jpeg.size(); ++i) {
    if (static_cast<unsigned char>(jpeg[i]) != 0xFF) continue;
    const auto next = static_cast<unsigned char>(jpeg[i + 1]);
    if (next != 0x00 && next != 0xFF && (next < 0xD0 || next > 0xD7)) return false;
  }
  return true;
}

struct TjDestroy {
  void operator()(void* handle) const { tjDestroy(handle); }
};
using Decompressor = std::unique_ptr<void, TjDestroy>;

// A decompressor that has seen no other image (turbojpeg.hpp says why).
Result<Decompressor> fresh_decompressor() {
  Decompressor handle(tjInitDecompress());
  if (!handle) {
    return make_error(ErrorKind::internal, "cannot create a JPEG decoder: " + error_text(nullptr));
  }
  return handle;
}

}  // namespace

void TurboJpeg::Destroy::operator()(void* handle) const {
  tjDestroy(handle);
}

Result<JpegHeader> TurboJpeg::read_header(std::string_view jpeg) {
  auto decompressor = fresh_decompressor();
  if (!decompressor) return decompressor.error();
  tjhandle handle = decompressor->get();
  int w = 0, h = 0, subsamp = 0, colorspace = 0;
  if (tjDecompressHeader3(handle, bytes_of(jpeg), jpeg.size(), &w, &h, &subsamp, &colorspace) !=
      0) {
    std::string why = error_text(handle);
    // TurboJPEG 2.1 returns -1 for a mere warning too ("N extraneous bytes before marker"),
    // with the header read in full: libjpeg, Pillow and browsers go on, and so do we.
    const bool warning_only = is_only_a_warning(handle, why);
    if (is_truncation(why)) {
      return make_error(ErrorKind::truncated, "truncated JPEG: the file ends inside its header");
    }
    if (why.find("Could not determine subsampling") != std::string::npos) {
      // A sampling layout TurboJPEG has no name for; libjpeg itself (libvips) decodes it.
      return make_error(ErrorKind::unsupported, "JPEG with an unusual chroma subsampling");
    }
    if (!warning_only) return make_error(ErrorKind::corrupt, "corrupt JPEG header: " + why);
  }
  if (w <= 0 || h <= 0) {  // libjpeg-turbo accepts a file that ends before its frame header
    return make_error(ErrorKind::truncated, "truncated JPEG: the file ends inside its header");
  }
  JpegHeader header{w, h, colorspace == TJCS_GRAY,
                    colorspace == TJCS_CMYK || colorspace == TJCS_YCCK};
  return header;
}

int dct_scale_eighths(double min_scale) {
  // Times 8 is exact in floating point: the smallest N with N/8 >= min_scale.
  const int n = static_cast<int>(std::ceil(min_scale * 8));
  return std::clamp(n, 1, 8);
}

Result<Pixels> TurboJpeg::decode(std::string_view jpeg, const JpegHeader& header, int eighths,
                                 bool allow_truncated) {
  const tjscalingfactor chosen{eighths, 8};
  auto decompressor = fresh_decompressor();
  if (!decompressor) return decompressor.error();
  tjhandle handle = decompressor->get();
  Pixels out(TJSCALED(header.width, chosen), TJSCALED(header.height, chosen), header.grey ? 1 : 3);
  const int pixel_format = header.grey ? TJPF_GRAY : TJPF_RGB;
  if (tjDecompress2(handle, bytes_of(jpeg), jpeg.size(), out.data.data(), out.width,
                    static_cast<int>(out.stride()), out.height, pixel_format,
                    TJFLAG_LIMITSCANS) != 0) {  // a hostile progressive file: 500 scans at most
    std::string why = error_text(handle);
    const bool warning_only = is_only_a_warning(handle, why);
    if (warning_only && (is_truncation(why) || ends_inside_a_scan(jpeg))) {
      if (!allow_truncated) {
        return make_error(ErrorKind::truncated,
                          "truncated JPEG: the data ends before the image does "
                          "(--allow-truncated keeps what decodes)");
      }
    } else if (!warning_only) {
      if (is_truncation(why)) {
        return make_error(ErrorKind::truncated, "truncated JPEG: " + why);
      }
      return make_error(ErrorKind::corrupt, "corrupt JPEG data: " + why);
    }
    // Other warnings (extraneous bytes, a bad restart marker) still give a usable image,
    // as in Pillow and every browser.
  }
  return out;
}

Result<std::vector<unsigned char>> TurboJpeg::encode(const Pixels& image, int quality) {
  if (!compressor_) compressor_.reset(tjInitCompress());
  if (!compressor_) {
    return make_error(ErrorKind::internal, "cannot create a JPEG encoder: " + error_text(nullptr));
  }
  unsigned char* raw = nullptr;
  unsigned long size = 0;
  const bool grey = image.bands == 1;
  const int rc =
      tjCompress2(compressor_.get(), image.data.data(), image.width,
                  static_cast<int>(image.stride()), image.height, grey ? TJPF_GRAY : TJPF_RGB, &raw,
                  &size, grey ? TJSAMP_GRAY : TJSAMP_420, quality, 0);
  std::unique_ptr<unsigned char, TjFree> owned(raw);
  if (rc != 0) {
    std::string why = error_text(compressor_.get());
    compressor_.reset();  // the next image gets a new one
    return make_error(ErrorKind::internal, "JPEG encoder failed: " + why);
  }
  return std::vector<unsigned char>(owned.get(), owned.get() + size);
}

}  // namespace thumbfetch
