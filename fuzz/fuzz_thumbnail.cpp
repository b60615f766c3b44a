// "Thumbnail arbitrary bytes" through the real decode paths (thumbnail/thumbnailer): any bytes
// as an image file, rendered in-process as a worker does (sniffer, JPEG and PNG fast paths,
// libvips for the rest, resampler, encoder), with a small pixel limit so that a header claiming
// a huge image is refused rather than decoded. The first byte picks the fit mode and the
// output format. A thumbnail is never larger than the box (fit) or exactly the box (the other
// modes) and has bytes; every other outcome is an error value, not a crash.

#include <string>

#include "fuzz_check.hpp"
#include "thumbfetch/thumbnail/thumbnailer.hpp"
#include "thumbfetch/thumbnail/vips_runtime.hpp"

using namespace thumbfetch;

namespace {

constexpr FitMode kModes[] = {FitMode::fit, FitMode::cover, FitMode::pad, FitMode::stretch};
constexpr OutputFormat kFormats[] = {OutputFormat::jpeg, OutputFormat::automatic, OutputFormat::png,
                                     OutputFormat::jpeg};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  init_vips(*argc > 0 ? (*argv)[0] : "fuzz_thumbnail");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, size_t size) {
  if (size == 0) return 0;
  ThumbOptions options;
  options.box = {32, 24};
  options.mode = kModes[data[0] & 3];
  options.format = kFormats[(data[0] >> 2) & 3];
  options.max_pixels = 1 << 20;  // a megapixel: what a fuzz input can claim is decoded fast
  options.allow_truncated = (data[0] & 0x10) != 0;
  Thumbnailer thumbnailer(options);
  const std::string bytes(fuzz::as_text(data + 1, size - 1));
  auto thumb = thumbnailer.render(bytes);
  if (!thumb) {
    FUZZ_CHECK(!thumb.error().message.empty(), "a failure says why");
    return 0;
  }
  FUZZ_CHECK(!thumb->bytes.empty(), "a thumbnail has bytes");
  FUZZ_CHECK(thumb->size.width >= 1 && thumb->size.height >= 1, "a thumbnail has pixels");
  if (options.mode == FitMode::fit) {
    FUZZ_CHECK(thumb->size.width <= options.box.width && thumb->size.height <= options.box.height,
               "fit: within the box");
  } else {
    FUZZ_CHECK(thumb->size == options.box, "cover, pad, stretch: exactly the box");
  }
  return 0;
}
