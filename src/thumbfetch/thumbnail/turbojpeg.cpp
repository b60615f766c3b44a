#include "thumbfetch/thumbnail/turbojpeg.hpp"

#include <turbojpeg.h>

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

}  // namespace

TurboJpeg::TurboJpeg() : decompressor_(tjInitDecompress()), compressor_(tjInitCompress()) {}

TurboJpeg::TurboJpeg(TurboJpeg&& other) noexcept
    : decompressor_(std::exchange(other.decompressor_, nullptr)),
      compressor_(std::exchange(other.compressor_, nullptr)) {}

TurboJpeg::~TurboJpeg() {
  if (decompressor_) tjDestroy(decompressor_);
  if (compressor_) tjDestroy(compressor_);
}

Result<JpegHeader> TurboJpeg::read_header(std::string_view jpeg) {
  int w = 0, h = 0, subsamp = 0, colorspace = 0;
  if (tjDecompressHeader3(decompressor_, bytes_of(jpeg), jpeg.size(), &w, &h, &subsamp,
                          &colorspace) != 0) {
    std::string why = error_text(decompressor_);
    if (is_truncation(why)) {
      return make_error(ErrorKind::truncated, "truncated JPEG: the file ends inside its header");
    }
    return make_error(ErrorKind::corrupt, "corrupt JPEG header: " + why);
  }
  if (w <= 0 || h <= 0) {  // libjpeg-turbo accepts a file that ends before its frame header
    return make_error(ErrorKind::truncated, "truncated JPEG: the file ends inside its header");
  }
  JpegHeader header{w, h, colorspace == TJCS_GRAY,
                    colorspace == TJCS_CMYK || colorspace == TJCS_YCCK};
  return header;
}

Result<Pixels> TurboJpeg::decode(std::string_view jpeg, const JpegHeader& header, double min_scale,
                                 bool allow_truncated) {
  // The list goes from large to small; keep the smallest that is still large enough.
  int count = 0;
  const tjscalingfactor* factors = tjGetScalingFactors(&count);
  tjscalingfactor chosen{1, 1};
  double chosen_value = 1.0;
  for (int i = 0; i < count; ++i) {
    double value = static_cast<double>(factors[i].num) / factors[i].denom;
    if (value >= min_scale && value < chosen_value) {
      chosen = factors[i];
      chosen_value = value;
    }
  }
  Pixels out(TJSCALED(header.width, chosen), TJSCALED(header.height, chosen), header.grey ? 1 : 3);
  const int pixel_format = header.grey ? TJPF_GRAY : TJPF_RGB;
  if (tjDecompress2(decompressor_, bytes_of(jpeg), jpeg.size(), out.data.data(), out.width,
                    static_cast<int>(out.stride()), out.height, pixel_format,
                    TJFLAG_LIMITSCANS) != 0) {  // a hostile progressive file: 500 scans at most
    std::string why = error_text(decompressor_);
    const bool warning_only = tjGetErrorCode(decompressor_) == TJERR_WARNING;
    if (warning_only && is_truncation(why)) {
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
  unsigned char* raw = nullptr;
  unsigned long size = 0;
  const bool grey = image.bands == 1;
  if (tjCompress2(compressor_, image.data.data(), image.width, static_cast<int>(image.stride()),
                  image.height, grey ? TJPF_GRAY : TJPF_RGB, &raw, &size,
                  grey ? TJSAMP_GRAY : TJSAMP_420, quality, 0) != 0) {
    std::unique_ptr<unsigned char, TjFree> guard(raw);
    return make_error(ErrorKind::internal, "JPEG encoder failed: " + error_text(compressor_));
  }
  std::unique_ptr<unsigned char, TjFree> owned(raw);
  return std::vector<unsigned char>(owned.get(), owned.get() + size);
}

}  // namespace thumbfetch
