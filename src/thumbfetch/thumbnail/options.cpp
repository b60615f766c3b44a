#include "thumbfetch/thumbnail/options.hpp"

#include <charconv>

#include <fmt/format.h>

#include "thumbfetch/util/units.hpp"

namespace thumbfetch {

namespace {

bool parse_int(std::string_view s, int& out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

Error bad_value(std::string_view what, std::string_view text, std::string_view expected) {
  return make_error(ErrorKind::refused,
                    fmt::format("invalid {} '{}': expected {}", what, text, expected));
}

}  // namespace

Result<Size> parse_size(std::string_view text) {
  auto sides = parse_box(text, kMaxSide);
  if (!sides) return sides.error();
  // A side left free ("256x") is bounded only by the largest thumbnail side: with fit, the
  // given side decides, as vipsthumbnail does.
  return Size{sides->width > 0 ? sides->width : kMaxSide,
              sides->height > 0 ? sides->height : kMaxSide};
}

Result<FitMode> parse_fit_mode(std::string_view text) {
  if (text == "fit") return FitMode::fit;
  if (text == "cover") return FitMode::cover;
  if (text == "pad") return FitMode::pad;
  if (text == "stretch") return FitMode::stretch;
  return bad_value("mode", text, "fit, cover, pad or stretch");
}

Result<OutputFormat> parse_output_format(std::string_view text) {
  if (text == "jpeg" || text == "jpg") return OutputFormat::jpeg;
  if (text == "png") return OutputFormat::png;
  if (text == "webp") return OutputFormat::webp;
  if (text == "auto") return OutputFormat::automatic;
  return bad_value("format", text, "jpeg, png, webp or auto");
}

Result<Rgb> parse_color(std::string_view text) {
  if (text == "white") return Rgb{255, 255, 255};
  if (text == "black") return Rgb{0, 0, 0};
  if (text.size() == 7 && text[0] == '#') {
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(text.data() + 1, text.data() + 7, value, 16);
    if (ec == std::errc() && ptr == text.data() + 7) {
      return Rgb{static_cast<std::uint8_t>(value >> 16), static_cast<std::uint8_t>(value >> 8),
                 static_cast<std::uint8_t>(value)};
    }
  }
  int c[3];
  auto first = text.find(','), second = text.rfind(',');
  if (first != std::string_view::npos && second != first &&
      parse_int(text.substr(0, first), c[0]) &&
      parse_int(text.substr(first + 1, second - first - 1), c[1]) &&
      parse_int(text.substr(second + 1), c[2]) && c[0] >= 0 && c[0] <= 255 && c[1] >= 0 &&
      c[1] <= 255 && c[2] >= 0 && c[2] <= 255) {
    return Rgb{static_cast<std::uint8_t>(c[0]), static_cast<std::uint8_t>(c[1]),
               static_cast<std::uint8_t>(c[2])};
  }
  return bad_value("colour", text, "white, black, #rrggbb or r,g,b");
}

std::string_view to_string(Decoder decoder) {
  switch (decoder) {
    case Decoder::libjpeg_turbo:
      return "libjpeg-turbo";
    case Decoder::libspng:
      return "libspng";
    case Decoder::libvips:
      return "libvips";
    case Decoder::bmp:
      return "thumbfetch-bmp";
    case Decoder::libtiff:
      return "libtiff";
  }
  return "libvips";
}

std::string to_string(FitMode mode) {
  switch (mode) {
    case FitMode::fit:
      return "fit";
    case FitMode::cover:
      return "cover";
    case FitMode::pad:
      return "pad";
    case FitMode::stretch:
      return "stretch";
  }
  return "fit";
}

std::string to_string(OutputFormat format) {
  switch (format) {
    case OutputFormat::jpeg:
      return "jpeg";
    case OutputFormat::png:
      return "png";
    case OutputFormat::webp:
      return "webp";
    case OutputFormat::automatic:
      return "auto";
  }
  return "jpeg";
}

std::string to_string(Rgb color) {
  return fmt::format("#{:02x}{:02x}{:02x}", color.r, color.g, color.b);
}

}  // namespace thumbfetch

namespace thumbfetch {

std::vector<std::string> to_cli_args(const ThumbOptions& o) {
  std::vector<std::string> args = {
      "--size",         fmt::format("{}x{}", o.box.width, o.box.height),
      "--mode",         to_string(o.mode),
      "--format",       to_string(o.format),
      "--quality",      std::to_string(o.quality),
      "--background",   to_string(o.background),
      "--max-pixels",   std::to_string(o.max_pixels),
      "--reducing-gap", fmt::format("{}", o.reducing_gap)};
  if (o.allow_truncated) args.push_back("--allow-truncated");
  return args;
}

}  // namespace thumbfetch
