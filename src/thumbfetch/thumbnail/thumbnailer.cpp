#include "thumbfetch/thumbnail/thumbnailer.hpp"

#include <algorithm>
#include <limits>

#include <vips/vips8>

#include <cmath>
#include <memory>

#include "thumbfetch/thumbnail/decoded.hpp"
#include "thumbfetch/thumbnail/resample.hpp"
#include "thumbfetch/thumbnail/vips_runtime.hpp"
#include "thumbfetch/util/atomic_file.hpp"
#include "thumbfetch/util/sniff.hpp"

namespace thumbfetch {

namespace {

OutputFormat resolve_format(OutputFormat requested, bool has_alpha) {
  if (requested != OutputFormat::automatic) return requested;
  return has_alpha ? OutputFormat::png : OutputFormat::jpeg;
}

int reduce_factor(double region_pixels, int target_pixels, double gap) {
  return std::max(1, static_cast<int>(std::floor(region_pixels / target_pixels / gap)));
}

// The stage both decoders share: crop, box-reduce to the gap, bicubic, pad.
Pixels resize_to_plan(Pixels image, const Decoded& decoded, bool keep_alpha,
                      const ThumbOptions& options) {
  const Rgb background = options.background;
  const ThumbPlan& plan = decoded.plan;
  if (image.has_alpha() && !keep_alpha) image = flatten(image, background);
  if (image.has_alpha()) premultiply_alpha(image);

  // The plan is in full-size pixels; the decoder may have shrunk the image already.
  const double rx = static_cast<double>(image.width) / decoded.source.width;
  const double ry = static_cast<double>(image.height) / decoded.source.height;
  double x = plan.crop_x * rx, y = plan.crop_y * ry, w = plan.crop_w * rx, h = plan.crop_h * ry;
  const int fx = reduce_factor(w, plan.resized.width, options.reducing_gap);
  const int fy = reduce_factor(h, plan.resized.height, options.reducing_gap);
  if (fx > 1 || fy > 1) {
    image = reduce_box(image, fx, fy);
    x /= fx, w /= fx, y /= fy, h /= fy;
  }
  Pixels out = resample_bicubic(image, x, y, w, h, plan.resized);
  if (out.has_alpha()) unpremultiply_alpha(out);
  if (plan.canvas != plan.resized) {
    out = place_on_canvas(out, plan.canvas, plan.offset_x, plan.offset_y, background);
  }
  return out;
}

Result<std::vector<unsigned char>> encode_with_vips(const Pixels& image, OutputFormat format,
                                                    int quality) {
  using vips::VImage;
  init_vips(nullptr);
  using Bytes = std::vector<unsigned char>;
  return run_vips_image<Bytes>(
      [&]() -> Result<Bytes> {
        VImage vimage =
            VImage::new_from_memory(const_cast<std::uint8_t*>(image.data.data()), image.data.size(),
                                    image.width, image.height, image.bands, VIPS_FORMAT_UCHAR)
                .copy(VImage::option()->set("interpretation", image.bands <= 2
                                                                  ? VIPS_INTERPRETATION_B_W
                                                                  : VIPS_INTERPRETATION_sRGB));
        if (format == OutputFormat::png) {
          return save_to_bytes(vimage, ".png",
                               VImage::option()->set("compression", 6)->set("strip", true));
        }
        return save_to_bytes(vimage, ".webp",
                             VImage::option()->set("Q", quality)->set("strip", true));
      },
      [](const VipsFailure& failure) {
        return make_error(ErrorKind::internal, "encoder failed: " + failure.message);
      });
}

}  // namespace

std::string_view output_extension(OutputFormat format) {
  switch (format) {
    case OutputFormat::png:
      return "png";
    case OutputFormat::webp:
      return "webp";
    default:
      return "jpg";
  }
}

Thumbnailer::Thumbnailer(ThumbOptions options) : options_(options) {}

Result<Thumbnail> Thumbnailer::render(std::string_view data) {
  const ImageFormat format = sniff_image_format(data.substr(0, 64));
  if (format == ImageFormat::unknown) {
    const std::string what = describe_non_image(data.substr(0, 512));
    if (what == "image/svg+xml") {
      return make_error(ErrorKind::unsupported, "unsupported image format (svg)");
    }
    return make_error(ErrorKind::not_an_image, "not an image (" + what + ")");
  }
  // The fast paths decline (ErrorKind::unsupported) what they leave to libvips.
  Result<Decoded> decoded = make_error(ErrorKind::unsupported, "");
  if (format == ImageFormat::jpeg) decoded = decode_jpeg_fast(jpeg_, data, options_);
  if (format == ImageFormat::png) decoded = decode_png_fast(data, options_);
  if (format == ImageFormat::bmp) decoded = decode_bmp_whole(data, options_);
  if (!decoded && decoded.error().kind == ErrorKind::unsupported && format != ImageFormat::bmp) {
    decoded = decode_with_vips(data, options_);
  }
  if (!decoded) return decoded.error();

  Thumbnail thumb;
  thumb.format = resolve_format(options_.format, decoded->pixels.has_alpha());
  thumb.decoder = decoded->decoder;
  thumb.source = decoded->source;
  const bool keep_alpha = thumb.format != OutputFormat::jpeg;
  Pixels pixels = resize_to_plan(std::move(decoded->pixels), *decoded, keep_alpha, options_);
  thumb.size = pixels.size();
  auto bytes = thumb.format == OutputFormat::jpeg
                   ? jpeg_.encode(pixels, options_.quality)
                   : encode_with_vips(pixels, thumb.format, options_.quality);
  if (!bytes) return bytes.error();
  thumb.bytes = std::move(bytes).value();
  return thumb;
}

std::uint64_t max_input_bytes(const ThumbOptions& options) {
  constexpr std::uint64_t kFloor = std::uint64_t{256} << 20;
  const std::uint64_t per_pixel = 4;
  if (options.max_pixels > std::numeric_limits<std::uint64_t>::max() / per_pixel) {
    return std::numeric_limits<std::uint64_t>::max();
  }
  return std::max(kFloor, options.max_pixels * per_pixel);
}

Result<ThumbDone> Thumbnailer::make(const std::filesystem::path& input,
                                    const std::filesystem::path& output_stem,
                                    std::string* input_sha256) {
  // A buffer grown for an unusually large input is not kept for the images after it.
  constexpr std::size_t kKeptInputBytes = std::size_t{16} << 20;
  if (input_.size() > kKeptInputBytes) std::string().swap(input_);
  if (input_sha256) input_sha256->clear();
  auto data = read_file_into(input, max_input_bytes(options_), input_);
  if (!data) {
    Error e = data.error();
    if (e.kind == ErrorKind::too_large)
      e.message += " for an input (4 bytes per --max-pixels pixel)";
    return e;
  }
  if (input_sha256) {
    sha_.reset();
    sha_.update(*data);
    *input_sha256 = sha_.hex_digest();
  }
  auto thumb = render(*data);
  if (!thumb) return thumb.error();
  std::filesystem::path output = output_stem;
  output += ".";
  output += output_extension(thumb->format);
  // Never over a file the run does not own (the job layer removes its own stale outputs).
  if (auto st = write_file_atomically(output, thumb->bytes, Overwrite::no); !st) {
    return st.error();
  }
  return ThumbDone{output, thumb->size, thumb->source, thumb->bytes.size(), thumb->decoder};
}

}  // namespace thumbfetch
