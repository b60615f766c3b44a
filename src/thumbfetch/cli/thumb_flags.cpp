#include "thumbfetch/cli/thumb_flags.hpp"

#include "thumbfetch/cli/checks.hpp"
#include "thumbfetch/util/units.hpp"

namespace thumbfetch {

namespace {

template <typename T>
T or_throw(Result<T> result, const char* flag) {
  if (!result) throw CLI::ValidationError(flag, result.error().message);
  return std::move(result).value();
}

}  // namespace

void ThumbFlags::add_to(CLI::App& command, const std::string& format_flag) {
  command_ = &command;
  format_flag_ = format_flag;
  command
      .add_option("-s,--size", size,
                  "Thumbnail box as vipsthumbnail takes it: N (NxN), WxH, Wx (width only) or xH "
                  "(height only)")
      ->capture_default_str();
  command
      .add_option("--mode", mode,
                  "fit (keep aspect, never enlarge), cover (fill and crop), "
                  "pad (fit and letterbox), stretch")
      ->capture_default_str();
  command.add_option(format_flag, format, "jpeg, png, webp, or auto (png where there is alpha)")
      ->capture_default_str();
  command.add_option("--quality", quality, "JPEG/WebP quality")
      ->check(whole_range(1, 100))
      ->capture_default_str();
  command
      .add_option("--background", background,
                  "Letterbox colour, and what alpha is flattened on for JPEG: white, black, "
                  "#rrggbb or r,g,b")
      ->capture_default_str();
  command
      .add_option("--max-pixels", max_pixels,
                  "Refuse images with more pixels than this, read from the header: 50M, 2G, "
                  "100000000 (0: no limit)")
      ->capture_default_str();
  command
      .add_option("--reducing-gap", reducing_gap,
                  "Keep the image this many times larger than the thumbnail until the final "
                  "filter (Pillow's reducing_gap); 1.0 is faster, with a little more aliasing")
      ->check(number_range(1.0, 8.0))
      ->capture_default_str();
  command.add_flag("--allow-truncated", allow_truncated,
                   "Keep what decodes of a truncated image instead of failing it");
}

ThumbOptions ThumbFlags::to_options() const {
  ThumbOptions o;
  o.box = or_throw(parse_size(size), "--size");
  o.mode = or_throw(parse_fit_mode(mode), "--mode");
  const auto sides = parse_box(size, kMaxSide);
  if (o.mode != FitMode::fit && (sides->width == 0 || sides->height == 0)) {
    conflict("--size " + size + " --mode " + mode,
             "a size with a free side only works with --mode fit; give both sides, e.g. 256x256");
  }
  o.format = or_throw(parse_output_format(format), "--format");
  o.background = or_throw(parse_color(background), "--background");
  o.quality = quality;
  o.max_pixels = count_flag("--max-pixels", max_pixels);
  o.allow_truncated = allow_truncated;
  o.reducing_gap = reducing_gap;
  return o;
}

void ThumbFlags::warn_ineffective() const {
  if (command_ == nullptr) return;
  if (given(*command_, "--quality") && format == "png") {
    warn_usage("--quality has no effect with " + format_flag_ + " png (PNG is lossless)");
  }
}

}  // namespace thumbfetch
