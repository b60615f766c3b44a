#include "thumbfetch/report/contact_sheet.hpp"

#include <vips/vips8>

#include <algorithm>
#include <memory>

#include "thumbfetch/thumbnail/vips_runtime.hpp"
#include "thumbfetch/util/atomic_file.hpp"

namespace thumbfetch {

namespace {

using vips::VImage;

const std::vector<double> kGrey = {200, 200, 200};
constexpr int kFit = kContactCell - 8;  // a 4-pixel margin around each thumbnail

struct BlobUnref {
  void operator()(VipsBlob* blob) const { vips_area_unref(VIPS_AREA(blob)); }
};

// The thumbnail in `bytes` fitted into kFit x kFit (never enlarged), 8-bit sRGB on grey, centred
// in its cell, in memory (so no file stays open). Throws vips::VError.
VImage cell_of(const std::string& bytes) {
  std::unique_ptr<VipsBlob, BlobUnref> blob(vips_blob_new(nullptr, bytes.data(), bytes.size()));
  VImage image = VImage::thumbnail_buffer(blob.get(), kFit,
                                          VImage::option()
                                              ->set("height", kFit)
                                              ->set("size", VIPS_SIZE_DOWN)
                                              ->set("fail_on", VIPS_FAIL_ON_ERROR));
  image = image.colourspace(VIPS_INTERPRETATION_sRGB);
  if (image.has_alpha()) image = image.flatten(VImage::option()->set("background", kGrey));
  if (image.bands() > 3) image = image.extract_band(0, VImage::option()->set("n", 3));
  if (image.format() != VIPS_FORMAT_UCHAR) image = image.cast(VIPS_FORMAT_UCHAR);
  const int left = (kContactCell - image.width()) / 2;
  const int top = (kContactCell - image.height()) / 2;
  image = image.embed(
      left, top, kContactCell, kContactCell,
      VImage::option()->set("extend", VIPS_EXTEND_BACKGROUND)->set("background", kGrey));
  return image.copy_memory();
}

}  // namespace

Result<ContactSheet> make_contact_sheet(const std::vector<std::filesystem::path>& thumbnails) {
  ContactSheet sheet;
  if (thumbnails.empty()) return sheet;
  init_vips(nullptr);
  VipsWarningCapture warnings;  // a damaged thumbnail must not spray the terminal
  std::vector<VImage> cells;
  const size_t count = std::min(thumbnails.size(), static_cast<size_t>(kContactLimit));
  for (size_t i = 0; i < count; ++i) {
    std::string problem;
    Result<std::string> bytes = read_file(thumbnails[i]);
    if (bytes) {
      try {
        cells.push_back(cell_of(*bytes));
        continue;
      } catch (const vips::VError& e) {
        problem = take_vips_error(e.what());
      }
    } else {
      problem = bytes.error().message;
    }
    if (sheet.unreadable++ == 0) sheet.first_problem = thumbnails[i].string() + ": " + problem;
  }
  sheet.shown = static_cast<int>(cells.size());
  if (cells.empty()) return sheet;
  try {
    const int across = std::min(kContactAcross, sheet.shown);
    VImage grid =
        VImage::arrayjoin(cells, VImage::option()->set("across", across)->set("background", kGrey));
    sheet.width = grid.width();
    sheet.height = grid.height();
    sheet.jpeg = save_to_bytes(grid, ".jpg", VImage::option()->set("Q", 85));
  } catch (const vips::VError& e) {
    return make_error(ErrorKind::internal,
                      "cannot make the contact sheet: " + take_vips_error(e.what()));
  }
  return sheet;
}

}  // namespace thumbfetch
