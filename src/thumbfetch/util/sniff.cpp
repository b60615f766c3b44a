#include "thumbfetch/util/sniff.hpp"
#include "thumbfetch/util/strings.hpp"

#include <algorithm>
#include <cctype>

namespace thumbfetch {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.starts_with(prefix);
}

// ISO-BMFF ("....ftypXXXX"): AVIF and HEIF share the container and differ by brand.
ImageFormat sniff_isobmff(std::string_view head) {
  if (head.size() < 12 || head.substr(4, 4) != "ftyp") return ImageFormat::unknown;
  std::string_view brand = head.substr(8, 4);
  if (brand == "avif" || brand == "avis") return ImageFormat::avif;
  if (brand == "heic" || brand == "heix" || brand == "mif1" || brand == "msf1" || brand == "heim" ||
      brand == "heis" || brand == "hevc") {
    return ImageFormat::heif;
  }
  return ImageFormat::unknown;
}

}  // namespace

ImageFormat sniff_image_format(std::string_view head) {
  if (starts_with(head, "\xFF\xD8\xFF")) return ImageFormat::jpeg;
  if (starts_with(head, "\x89PNG\r\n\x1A\n")) return ImageFormat::png;
  if (starts_with(head, "GIF87a") || starts_with(head, "GIF89a")) return ImageFormat::gif;
  if (head.size() >= 12 && starts_with(head, "RIFF") && head.substr(8, 4) == "WEBP") {
    return ImageFormat::webp;
  }
  if (starts_with(head, "BM") && head.size() >= 14) return ImageFormat::bmp;
  // Classic TIFF (42) and BigTIFF (43, 64-bit offsets), little- and big-endian.
  if (starts_with(head, std::string_view("II*\0", 4)) ||
      starts_with(head, std::string_view("MM\0*", 4)) ||
      starts_with(head, std::string_view("II+\0", 4)) ||
      starts_with(head, std::string_view("MM\0+", 4))) {
    return ImageFormat::tiff;
  }
  return sniff_isobmff(head);
}

std::string_view format_name(ImageFormat format) {
  switch (format) {
    case ImageFormat::jpeg:
      return "jpeg";
    case ImageFormat::png:
      return "png";
    case ImageFormat::gif:
      return "gif";
    case ImageFormat::webp:
      return "webp";
    case ImageFormat::avif:
      return "avif";
    case ImageFormat::heif:
      return "heif";
    case ImageFormat::bmp:
      return "bmp";
    case ImageFormat::tiff:
      return "tiff";
    case ImageFormat::unknown:
      break;
  }
  return "unknown";
}

std::string_view format_extension(ImageFormat format) {
  switch (format) {
    case ImageFormat::jpeg:
      return "jpg";
    case ImageFormat::tiff:
      return "tif";
    default:
      return format_name(format);
  }
}

std::string describe_non_image(std::string_view head) {
  if (head.empty()) return "empty file";
  size_t skip = 0;
  if (starts_with(head, "\xEF\xBB\xBF")) skip = 3;  // UTF-8 byte order mark
  while (skip < head.size() && std::isspace(static_cast<unsigned char>(head[skip]))) ++skip;
  std::string start = ascii_lower(head.substr(skip, 64));
  if (starts_with(start, "<!doctype html") || starts_with(start, "<html") ||
      starts_with(start, "<head") || starts_with(start, "<body")) {
    return "text/html";
  }
  if (starts_with(start, "<?xml") || starts_with(start, "<svg")) {
    return start.find("<svg") != std::string::npos ? "image/svg+xml" : "text/xml";
  }
  if (starts_with(start, "{") || starts_with(start, "[")) return "application/json";
  if (starts_with(head, "%PDF")) return "application/pdf";
  if (starts_with(head, "PK\x03\x04")) return "application/zip";
  if (starts_with(head, "\x1F\x8B")) return "application/gzip";
  bool printable = std::all_of(head.begin(), head.end(), [](unsigned char c) {
    return c >= 0x20 || c == '\n' || c == '\r' || c == '\t';
  });
  return printable ? "text/plain" : "data";
}

}  // namespace thumbfetch
