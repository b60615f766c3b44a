#include <vips/vips8>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "thumbfetch/thumbnail/decoded.hpp"
#include "thumbfetch/thumbnail/jpeg_markers.hpp"
#include "thumbfetch/thumbnail/resample.hpp"
#include "thumbfetch/thumbnail/vips_runtime.hpp"
#include "thumbfetch/util/sniff.hpp"
#include "thumbfetch/util/strings.hpp"

namespace thumbfetch {

using vips::VError;
using vips::VImage;

namespace {

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

Error classify_vips_error(const VipsFailure& failure) {
  const std::string& line = failure.message;
  const std::string lower = ascii_lower(line);
  if (contains(lower, "truncat") || contains(lower, "premature end") ||
      contains(lower, "unexpected end") || contains(lower, "out of order read") ||
      contains(lower, "read error") || contains(lower, "not enough data")) {
    return make_error(ErrorKind::truncated, "truncated or corrupt image data: " + line +
                                                " (--allow-truncated keeps what decodes)");
  }
  return make_error(ErrorKind::corrupt, "corrupt image: " + line);
}

// libvips' tiff2vips refuses some layouts libtiff reads ("subsampled images not supported").
bool is_layout_refusal(const Error& error) {
  return error.kind == ErrorKind::corrupt &&
         (contains(error.message, "not supported") || contains(error.message, "unsupported"));
}

VImage load(std::string_view data, VipsFailOn fail_on, vips::VOption* extra = nullptr) {
  vips::VOption* options = extra ? extra : VImage::option();
  options->set("access", VIPS_ACCESS_SEQUENTIAL)->set("fail_on", fail_on);
  return VImage::new_from_buffer(data.data(), data.size(), "", options);
}

bool has_srgb_profile(const VImage& image) {
  size_t length = 0;
  const void* blob = image.get_blob("icc-profile-data", &length);
  return icc_profile_is_srgb(std::string_view(static_cast<const char*>(blob), length));
}

// Converts any colour space, depth and band layout to 8-bit sRGB or grey, alpha kept.
VImage to_srgb_uchar(VImage image) {
  if (image.get_typeof("icc-profile-data") != 0 && !has_srgb_profile(image)) {
    try {
      image = image.icc_transform(
          "srgb", VImage::option()->set("embedded", true)->set("intent", VIPS_INTENT_PERCEPTUAL));
    } catch (const VError&) {
      vips_error_clear();  // a broken profile: fall back to the interpretation below
    }
  }
  const bool grey = image.bands() <= 2 && image.interpretation() != VIPS_INTERPRETATION_CMYK;
  image = image.colourspace(grey ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB);
  if (image.format() != VIPS_FORMAT_UCHAR) {
    image = image.cast(VIPS_FORMAT_UCHAR, VImage::option()->set("shift", true));
  }
  const int colour = grey ? 1 : 3;
  const int wanted = colour + (image.has_alpha() ? 1 : 0);
  if (image.bands() > wanted) {
    // Keep the colour bands and the last band as alpha (extra channels are dropped).
    VImage colour_bands = image.extract_band(0, VImage::option()->set("n", colour));
    image = image.has_alpha() ? colour_bands.bandjoin(image[image.bands() - 1]) : colour_bands;
  }
  return image;
}

// Largest integer box shrink that keeps `have` pixels above the reducing gap over `need`.
int box_factor(int have, double need, double gap) {
  return std::max(1, static_cast<int>(std::floor(have / (need * gap))));
}

// Computed on this thread (pull_pixels), so the image's warnings stay with it.
Pixels to_pixels(const VImage& image) {
  Pixels out(image.width(), image.height(), image.bands());
  pull_pixels(image, out.data.data());
  return out;
}

}  // namespace

namespace {

// The decode itself; throws vips::VError.
Result<Decoded> load_and_convert(std::string_view data, const ThumbOptions& options) {
  const VipsFailOn fail_on = options.allow_truncated ? VIPS_FAIL_ON_NONE : VIPS_FAIL_ON_TRUNCATED;
  // Loaders libvips marks untrusted (ImageMagick, PDF) are blocked: to us the format is
  // simply unsupported.
  const char* loader = vips_foreign_find_load_buffer(data.data(), data.size());
  if (!loader || std::string_view(loader).find("Magick") != std::string_view::npos) {
    vips_error_clear();
    return make_error(ErrorKind::unsupported,
                      fmt::format("unsupported image format ({})",
                                  format_name(sniff_image_format(data.substr(0, 64)))));
  }
  VImage image = load(data, fail_on);
  const int orientation = image.get_typeof("orientation") != 0 ? image.get_int("orientation") : 1;
  const Size raw{image.width(), image.height()};
  if (auto st = check_pixel_limit(raw, options.max_pixels); !st) return st.error();

  const bool swap = orientation_swaps_axes(orientation);
  Decoded out;
  out.source = swap ? Size{raw.height, raw.width} : raw;
  out.plan = plan_thumbnail(out.source, options);

  // Shrink on load where the format allows it, never below the reducing gap.
  const double min_scale = min_decode_scale(out.plan, options);
  const std::string_view name(loader);
  if (name.starts_with("VipsForeignLoadJpeg")) {
    int shrink = 1;
    for (int s : {8, 4, 2}) {
      if (1.0 / s >= min_scale) {
        shrink = s;
        break;
      }
    }
    if (shrink > 1) image = load(data, fail_on, VImage::option()->set("shrink", shrink));
  } else if (name.starts_with("VipsForeignLoadWebp") && min_scale < 1.0) {
    image = load(data, fail_on, VImage::option()->set("scale", min_scale));
  }
  image = to_srgb_uchar(image);

  // Images of ordinary size are decoded whole and box-reduced by the common stage, which is
  // faster than libvips' streaming shrink; only very large ones are shrunk while streaming,
  // so memory stays bounded.
  if (std::uint64_t(image.width()) * image.height() > kWholeDecodeMaxPixels) {
    const ThumbPlan& plan = out.plan;
    const double need_x = plan.resized.width / plan.crop_w;
    const double need_y = plan.resized.height / plan.crop_h;
    const int fx =
        box_factor(image.width(), (swap ? need_y : need_x) * raw.width, options.reducing_gap);
    const int fy =
        box_factor(image.height(), (swap ? need_x : need_y) * raw.height, options.reducing_gap);
    if (fx > 1 || fy > 1) image = image.shrink(fx, fy);
  }

  out.pixels = apply_orientation(to_pixels(image), orientation);
  return out;
}

}  // namespace

Result<Decoded> decode_with_vips(std::string_view data, const ThumbOptions& options) {
  init_vips(nullptr);  // lazily: a run of JPEGs never pays libvips' start-up
  // Messages and warnings stay with this image, never on the terminal or on another image.
  auto decoded =
      run_vips_image<Decoded>([&] { return load_and_convert(data, options); }, classify_vips_error);
  if (!decoded && is_layout_refusal(decoded.error()) &&
      sniff_image_format(data.substr(0, 64)) == ImageFormat::tiff) {
    // A layout libvips refuses, not a broken file. Run as an image in libvips: libtiff code that
    // still reports through the global handler writes into libvips' shared error buffer, and the
    // other images must know this one was there.
    return run_vips_image<Decoded>([&] { return decode_tiff_rgba(data, options); },
                                   classify_vips_error);
  }
  return decoded;
}

}  // namespace thumbfetch
