// Progressive JPEGs decoded from the scans their DCT scale needs (progressive_jpeg.hpp): the
// thumbnail matches the every-scan one closely, the skipped scans are really skipped, truncation
// anywhere is still an error unless allowed, and bad files never touch the good ones after them.
#include <gtest/gtest.h>

#include <vips/vips8>

#include <cmath>
#include <string>

#include "support/image_fixtures.hpp"
#include "support/temp_dir.hpp"
#include "thumbfetch/thumbnail/progressive_jpeg.hpp"
#include "thumbfetch/thumbnail/strategy.hpp"
#include "thumbfetch/thumbnail/thumbnailer.hpp"
#include "thumbfetch/thumbnail/vips_runtime.hpp"
#include "thumbfetch/util/atomic_file.hpp"

using namespace thumbfetch;
using namespace thumbfetch::test;
using vips::VImage;
namespace fs = std::filesystem;

namespace {

const fs::path kPhoto = THUMBFETCH_SOURCE_DIR "/../shared/testimages/libjpeg-turbo/testorig.jpg";

// A photo (libjpeg-turbo's test image, enlarged to 1362x894: decoded at 1/4) saved as a
// progressive JPEG with libjpeg's standard scan script: DC, luma AC 1-5, chroma AC, luma AC
// 6-63, then refinements.
std::string progressive_photo(const fs::path& dir, double enlarge = 6, bool grey = false) {
  init_vips("thumbfetch_tests");
  VImage image = VImage::new_from_file(kPhoto.c_str()).resize(enlarge);
  if (grey) image = image.colourspace(VIPS_INTERPRETATION_B_W);
  const fs::path path = dir / "photo.jpg";
  image.jpegsave(path.c_str(), VImage::option()->set("Q", 85)->set("interlace", true));
  return read_file(path).value();
}

Result<Thumbnail> render(std::string_view bytes, ProgressiveScans scans,
                         bool allow_truncated = false) {
  ThumbOptions options;
  options.progressive = scans;
  options.allow_truncated = allow_truncated;
  return Thumbnailer(options).render(bytes);
}

// Mean absolute difference per channel value (0-255) of two encoded thumbnails of one size.
double mean_difference(const Thumbnail& a, const Thumbnail& b) {
  VImage ia = VImage::new_from_buffer(a.bytes.data(), a.bytes.size(), "");
  VImage ib = VImage::new_from_buffer(b.bytes.data(), b.bytes.size(), "");
  return (ia - ib).abs().avg();
}

// The byte offset where the scan `index` (0-based, in file order) starts.
size_t scan_start(std::string_view jpeg, size_t index) {
  size_t seen = 0;
  for (const JpegSegment& s : walk_jpeg(jpeg).segments) {
    if (s.scan && seen++ == index) return s.begin;
  }
  ADD_FAILURE() << "no scan " << index;
  return jpeg.size();
}

}  // namespace

TEST(ProgressiveJpeg, WalkFindsEveryScanAndTheEnd) {
  TempDir dir;
  const std::string jpeg = progressive_photo(dir.path());
  const JpegLayout whole = walk_jpeg(jpeg);
  EXPECT_TRUE(whole.clean);
  EXPECT_TRUE(whole.complete);
  EXPECT_EQ(whole.eoi + 2, jpeg.size());
  int scans = 0;
  for (const JpegSegment& s : whole.segments) scans += s.scan ? 1 : 0;
  EXPECT_EQ(scans, 10);  // libjpeg's standard script for YCbCr
  const JpegSegment& first = *std::find_if(whole.segments.begin(), whole.segments.end(),
                                           [](const JpegSegment& s) { return s.scan; });
  EXPECT_EQ(first.components, 3);
  EXPECT_EQ(first.ss, 0);
  EXPECT_EQ(first.se, 0);
  EXPECT_EQ(first.al, 1);

  for (size_t cut : {jpeg.size() - 1, jpeg.size() / 2, scan_start(jpeg, 9) + 2}) {
    const JpegLayout part = walk_jpeg(std::string_view(jpeg).substr(0, cut));
    EXPECT_TRUE(part.clean) << cut;
    EXPECT_FALSE(part.complete) << "cut at " << cut;
  }
}

TEST(ProgressiveJpeg, NeededScansGiveTheEveryScanThumbnailWithinASmallDifference) {
  TempDir dir;
  for (bool grey : {false, true}) {
    SCOPED_TRACE(grey ? "grey" : "colour");
    const std::string jpeg = progressive_photo(dir.path(), 6, grey);
    auto all = render(jpeg, ProgressiveScans::all);
    auto needed = render(jpeg, ProgressiveScans::needed);
    ASSERT_TRUE(all.ok()) << all.error().message;
    ASSERT_TRUE(needed.ok()) << needed.error().message;
    EXPECT_EQ(needed->size, all->size);
    EXPECT_EQ(needed->size, (Size{128, 84}));
    EXPECT_EQ(needed->decoder, Decoder::libjpeg_turbo);
    // Measured on the benchmark corpus: mean 0.84, at most 2.9.
    EXPECT_LT(mean_difference(*needed, *all), 2.0);
  }
}

// The last scan (the luma AC refinement, a third of the file) is skipped unread: a file cut
// inside it gives, with --allow-truncated, the very thumbnail of the whole file. (Decoding every
// scan, the cut refinement changes the pixels.)
TEST(ProgressiveJpeg, SkippedScansAreNotRead) {
  TempDir dir;
  const std::string jpeg = progressive_photo(dir.path());
  const size_t last = scan_start(jpeg, 9);
  const std::string cut = jpeg.substr(0, last + (jpeg.size() - last) / 2);
  auto whole = render(jpeg, ProgressiveScans::needed);
  auto partial = render(cut, ProgressiveScans::needed, true);
  auto partial_all = render(cut, ProgressiveScans::all, true);
  ASSERT_TRUE(whole.ok() && partial.ok() && partial_all.ok());
  EXPECT_TRUE(partial->bytes == whole->bytes) << "the cut scan was read";
  EXPECT_TRUE(partial_all->bytes != whole->bytes) << "the cut scan changes nothing";
}

// Cut in the DC scan, in a luma AC scan that is read (1-5), in one that is skipped (6-63), in
// the last refinement, between two segments, or just before EOI: an error that says truncated,
// unless --allow-truncated, which gives a thumbnail of the full size.
TEST(ProgressiveJpeg, TruncatedAnywhereFailsUnlessAllowed) {
  TempDir dir;
  const std::string jpeg = progressive_photo(dir.path());
  const std::vector<std::pair<std::string, size_t>> cuts = {
      {"in the DC scan", (scan_start(jpeg, 0) + scan_start(jpeg, 1)) / 2},
      {"in luma AC 1-5 (read)", (scan_start(jpeg, 1) + scan_start(jpeg, 2)) / 2},
      {"in luma AC 6-63 (skipped)", (scan_start(jpeg, 4) + scan_start(jpeg, 5)) / 2},
      {"in the last refinement (skipped)", (scan_start(jpeg, 9) + jpeg.size()) / 2},
      {"between two segments", scan_start(jpeg, 6)},
      {"before EOI", jpeg.size() - 2},
  };
  for (const auto& [where, at] : cuts) {
    SCOPED_TRACE(where);
    const std::string cut = jpeg.substr(0, at);
    for (ProgressiveScans scans : {ProgressiveScans::needed, ProgressiveScans::all}) {
      auto strict = render(cut, scans);
      ASSERT_FALSE(strict.ok());
      EXPECT_EQ(strict.error().kind, ErrorKind::truncated) << strict.error().message;
      EXPECT_NE(strict.error().message.find("truncated"), std::string::npos);
      auto lenient = render(cut, scans, true);
      ASSERT_TRUE(lenient.ok()) << lenient.error().message;
      EXPECT_EQ(lenient->size, (Size{128, 84}));
    }
  }
}

// Broken progressive files (cut in the DC scan, cut in a skipped scan, garbage in a scan, too
// many scans) before good ones, under every strategy: each good one is done, each bad one fails.
TEST(ProgressiveJpeg, BadFilesBeforeGoodOnesUnderEveryStrategy) {
  TempDir dir;
  const std::string jpeg = progressive_photo(dir.path());
  std::string garbled = jpeg;
  for (size_t i = scan_start(jpeg, 1) + 20; i < scan_start(jpeg, 2) - 20; i += 7) garbled[i] = 0;
  std::string many_scans = jpeg.substr(0, scan_start(jpeg, 1));
  const std::string dc_refine =
      jpeg.substr(scan_start(jpeg, 6), scan_start(jpeg, 7) - scan_start(jpeg, 6));
  for (int i = 0; i < 600; ++i) many_scans += dc_refine;
  many_scans += "\xFF\xD9";
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"a_cut_dc.jpg", jpeg.substr(0, (scan_start(jpeg, 0) + scan_start(jpeg, 1)) / 2)},
      {"b_cut_skipped.jpg", jpeg.substr(0, (scan_start(jpeg, 4) + scan_start(jpeg, 5)) / 2)},
      {"c_many_scans.jpg", many_scans},
  };
  const fs::path in = dir / "in";
  fs::create_directories(in);
  std::vector<ThumbJob> jobs;
  for (const auto& [name, bytes] : bad) {
    write_file_atomically(
        in / name, std::span(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()))
        .value();
    jobs.push_back({in / name, dir / ("out_" + name)});
  }
  for (int i = 0; i < 6; ++i) {
    const fs::path good = in / ("good_" + std::to_string(i) + ".jpg");
    write_quadrant_jpeg(good, 700 + 50 * i, 500, {.progressive = true});
    jobs.push_back({good, dir / ("out_good_" + std::to_string(i))});
  }
  jobs.push_back({in / "photo.jpg", dir / "out_photo"});
  fs::copy_file(dir / "photo.jpg", in / "photo.jpg");
  for (ThumbStrategyKind kind :
       {ThumbStrategyKind::serial, ThumbStrategyKind::threads, ThumbStrategyKind::processes}) {
    SCOPED_TRACE(std::string(to_string(kind)));
    for (const ThumbJob& job : jobs) fs::remove(job.output_stem.string() + ".jpg");
    ThumbRunConfig config;
    config.workers = kind == ThumbStrategyKind::serial ? 1 : 2;
    config.timeout_seconds = kind == ThumbStrategyKind::processes ? 60 : 0;
    config.worker_exe = THUMBFETCH_EXE;
    const auto results = make_thumb_strategy(kind, config)->run(jobs, {});
    ASSERT_EQ(results.size(), jobs.size());
    for (size_t i = 0; i < jobs.size(); ++i) {
      const bool good = i >= bad.size();
      EXPECT_EQ(results[i].state == ThumbResult::State::done, good)
          << jobs[i].input.filename() << ": " << results[i].error.message;
    }
    EXPECT_EQ(results[0].error.kind, ErrorKind::truncated) << results[0].error.message;
    EXPECT_EQ(results[1].error.kind, ErrorKind::truncated) << results[1].error.message;
    EXPECT_NE(results[2].error.message.find("scans"), std::string::npos)
        << results[2].error.message;
  }
}

// What the walk does not understand (stray bytes between two header segments, which libjpeg
// skips with a warning; more segments than any real file) is decoded whole, as TurboJPEG would:
// the thumbnail of every scan.
TEST(ProgressiveJpeg, FilesTheWalkGivesUpOnAreDecodedWhole) {
  TempDir dir;
  const std::string jpeg = progressive_photo(dir.path());
  std::string stray = jpeg;
  stray.insert(walk_jpeg(jpeg).segments.at(1).begin, "garbage");
  std::string comments = jpeg.substr(0, 2);
  for (int i = 0; i < 5000; ++i) comments += std::string("\xFF\xFE\x00\x02", 4);
  comments += jpeg.substr(2);
  auto every_scan = render(jpeg, ProgressiveScans::all);
  ASSERT_TRUE(every_scan.ok());
  for (const auto& [what, file] : {std::pair{"stray bytes", stray}, {"5000 comments", comments}}) {
    SCOPED_TRACE(what);
    EXPECT_FALSE(walk_jpeg(file).clean);
    auto thumb = render(file, ProgressiveScans::needed);
    ASSERT_TRUE(thumb.ok()) << thumb.error().message;
    EXPECT_TRUE(thumb->bytes == every_scan->bytes) << "not decoded whole";
  }
}
