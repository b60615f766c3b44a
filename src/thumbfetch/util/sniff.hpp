#pragma once
// Recognises image formats by their magic bytes, never by file name or Content-Type: an HTML
// error page saved as "photo.jpg" is still HTML.

#include <string>
#include <string_view>

namespace thumbfetch {

enum class ImageFormat { unknown, jpeg, png, gif, webp, avif, heif, bmp, tiff };

// Detects the format from the first bytes (16 are enough).
ImageFormat sniff_image_format(std::string_view head);

// "jpeg", "png", ...; "unknown" for ImageFormat::unknown.
std::string_view format_name(ImageFormat format);

// The usual file extension without the dot: "jpg", "png", ...
std::string_view format_extension(ImageFormat format);

// For bytes that are not an image: a MIME-like guess for the error message ("text/html",
// "empty file", "application/pdf", "data").
std::string describe_non_image(std::string_view head);

}  // namespace thumbfetch
