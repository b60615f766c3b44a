// One image's failure never touches another's: bad files of every kind (made here, and from the
// public collections in ../shared/testimages) come BEFORE good ones, on one Thumbnailer, on
// threads and on worker processes; every good image must still succeed, and every image must get
// the outcome and the message it gets on its own, whatever ran before it or beside it.
#include <gtest/gtest.h>

#include <vips/vips8>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "support/image_fixtures.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"
#include "thumbfetch/thumbnail/strategy.hpp"
#include "thumbfetch/thumbnail/thumbnailer.hpp"
#include "thumbfetch/thumbnail/vips_runtime.hpp"
#include "thumbfetch/util/atomic_file.hpp"

using namespace thumbfetch;
using namespace thumbfetch::test;
namespace fs = std::filesystem;

namespace {

const fs::path kCollections = THUMBFETCH_SOURCE_DIR "/../shared/testimages";

#define SKIP_WITHOUT_COLLECTIONS()                                                  \
  if (!fs::is_directory(kCollections)) {                                            \
    GTEST_SKIP() << "no public test images at " << kCollections.lexically_normal(); \
  }

fs::path collection_file(const std::string& collection, const std::string& name) {
  return kCollections / collection / name;
}

// Every file of the four collections, sorted.
std::vector<fs::path> every_collection_file() {
  std::vector<fs::path> files;
  for (const char* collection : {"imagetestsuite", "libjpeg-turbo", "libvips", "pngsuite"}) {
    for (const auto& entry : fs::directory_iterator(kCollections / collection)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// What happened to one image, comparable across runs.
struct Outcome {
  bool ok = false;
  ErrorKind kind = ErrorKind::internal;
  std::string message;

  bool operator==(const Outcome&) const = default;
};

std::string describe(const Outcome& o) {
  return o.ok ? std::string("ok") : std::string(to_string(o.kind)) + ": " + o.message;
}

Outcome outcome_of(const Result<Thumbnail>& r) {
  if (r) return {true, ErrorKind::internal, ""};
  return {false, r.error().kind, r.error().message};
}

Outcome outcome_of(const ThumbResult& r) {
  if (r.state == ThumbResult::State::done) return {true, ErrorKind::internal, ""};
  return {false, r.error.kind, r.error.message};
}

std::string bytes_of(const fs::path& file) {
  return read_file(file).value();
}

// The outcome of an image on its own: a fresh Thumbnailer, and libvips' (process-wide) error
// buffer emptied first, so nothing that ran earlier in this test process can speak for it.
Outcome alone(const fs::path& file, const ThumbOptions& options = {}) {
  init_vips(nullptr);
  vips_error_clear();
  Thumbnailer fresh(options);
  return outcome_of(fresh.render(bytes_of(file)));
}

std::string with_bytes_cut(const std::string& bytes, size_t keep) {
  return bytes.substr(0, std::min(keep, bytes.size()));
}

// The JPEG without its quantisation tables (DQT segments): undecodable on its own; a decoder
// that keeps tables from an earlier image would decode it with that image's tables.
std::string without_quant_tables(const std::string& jpeg) {
  std::string out = jpeg.substr(0, 2);
  size_t i = 2;
  while (i + 4 <= jpeg.size() && static_cast<unsigned char>(jpeg[i]) == 0xFF) {
    const auto marker = static_cast<unsigned char>(jpeg[i + 1]);
    if (marker == 0xDA) break;  // the scan: copied whole below
    const size_t length =
        (static_cast<unsigned char>(jpeg[i + 2]) << 8) | static_cast<unsigned char>(jpeg[i + 3]);
    if (marker != 0xDB) out += jpeg.substr(i, 2 + length);
    i += 2 + length;
  }
  return out + jpeg.substr(i);
}

// An APP2 ICC_PROFILE segment right after SOI holding garbage instead of a profile.
std::string with_garbage_icc(const std::string& jpeg) {
  std::string payload = std::string("ICC_PROFILE\0", 12) + '\x01' + '\x01';
  for (int i = 0; i < 300; ++i) payload += static_cast<char>((i * 37 + 11) & 0xFF);
  const size_t length = payload.size() + 2;
  std::string segment = std::string("\xFF\xE2", 2) + static_cast<char>(length >> 8) +
                        static_cast<char>(length & 0xFF) + payload;
  return jpeg.substr(0, 2) + segment + jpeg.substr(2);
}

// A byte flipped in the middle of the file (inside PNG's IDAT, so its CRC no longer matches).
std::string with_byte_flipped(std::string bytes) {
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x5A);
  return bytes;
}

// Bad and odd files made here, one of each kind the issue lists.
std::vector<fs::path> make_bad_files(const fs::path& dir) {
  fs::create_directories(dir);
  const fs::path made = dir / "made";
  fs::create_directories(made);
  write_quadrant_jpeg(made / "photo.jpg", 800, 600, {.quality = 92});
  write_quadrant_png(made / "picture.png", 400, 300);
  write_animated_gif(made / "animation.gif", 200, 150);
  write_quadrant_webp(made / "picture.webp", 400, 300);
  quadrants(400, 300).tiffsave((made / "picture.tif").c_str());
  write_cmyk_jpeg(made / "cmyk.jpg", 400, 300);
  const std::string jpeg = bytes_of(made / "photo.jpg");

  std::vector<fs::path> bad;
  auto add = [&](const std::string& name, const std::string& bytes) {
    write_text(dir / name, bytes);
    bad.push_back(dir / name);
  };
  add("jpeg_cut_in_header.jpg", with_bytes_cut(jpeg, 300));
  add("jpeg_cut_in_scan.jpg", with_bytes_cut(jpeg, jpeg.size() / 2));
  add("jpeg_without_quant_tables.jpg", without_quant_tables(jpeg));
  add("jpeg_garbage_icc.jpg", with_garbage_icc(jpeg));
  add("jpeg_cmyk.jpg", bytes_of(made / "cmyk.jpg"));
  add("jpeg_cmyk_cut.jpg", with_bytes_cut(bytes_of(made / "cmyk.jpg"), 2000));
  add("png_cut.png", with_bytes_cut(bytes_of(made / "picture.png"), 600));
  add("png_bad_crc.png", with_byte_flipped(bytes_of(made / "picture.png")));
  add("gif_cut.gif", with_bytes_cut(bytes_of(made / "animation.gif"), 200));
  add("webp_cut.webp", with_bytes_cut(bytes_of(made / "picture.webp"), 300));
  add("tiff_cut.tif", with_bytes_cut(bytes_of(made / "picture.tif"), 50000));
  fs::remove_all(made);
  return bad;
}

// Bad and odd files from the collections: 12-bit, arithmetic-coded, truncated, CMYK, XYB,
// broken GIF/TIFF/PNG, and two that decode but leave a complaint in libvips' error buffer.
std::vector<fs::path> collection_bad_files() {
  return {
      collection_file("libjpeg-turbo", "monkey12.jpg"),    // 12-bit
      collection_file("libjpeg-turbo", "testimgari.jpg"),  // arithmetic-coded
      collection_file("libvips", "truncated.jpg"),
      collection_file("libvips", "truncated.gif"),
      collection_file("libvips", "invalid_multiframe.gif"),
      collection_file("libvips", "cd1.1.jpg"),
      collection_file("libvips", "sample-xyb.jpg"),
      collection_file("libvips", "avif-orientation-6.avif"),
      collection_file("libvips", "looks-like-svg.webp"),
      collection_file("libvips", "ojpeg-strip.tif"),
      collection_file("imagetestsuite", "jpg_1cbb1bb37d62c44f67374cd451643dc4.jpg"),
      collection_file("imagetestsuite", "tif_m6-f0d7bcb90496c323c880a9773dfe93ff.tif"),
      collection_file("imagetestsuite", "tif_m1-f0d7bcb90496c323c880a9773dfe93ff.tif"),
      collection_file("imagetestsuite", "gif_e34116d68f49c7852b362ec72a636df5.gif"),
      collection_file("imagetestsuite", "gif_2b5bc31d84703bfb9f371925f0e3e57d.gif"),
      collection_file("pngsuite", "png_xcsn0g01.png"),
      collection_file("pngsuite", "png_xd9n2c08.png"),
      collection_file("pngsuite", "png_xhdn0g08.png"),
  };
}

std::string numbered(const std::string& stem, int i, const std::string& extension) {
  return stem + (i < 10 ? "0" : "") + std::to_string(i) + extension;
}

// Good images named good_NN: JPEGs (baseline and progressive), plus a PNG, a WebP and a GIF.
std::vector<fs::path> make_good_files(const fs::path& dir, int jpegs) {
  fs::create_directories(dir);
  std::vector<fs::path> good;
  for (int i = 0; i < jpegs; ++i) {
    good.push_back(dir / numbered("good_", i, ".jpg"));
    write_quadrant_jpeg(good.back(), 300 + 13 * i, 200 + 7 * i, {.progressive = i % 2 == 1});
  }
  good.push_back(dir / numbered("good_", jpegs, ".png"));
  write_quadrant_png(good.back(), 320, 240);
  good.push_back(dir / numbered("good_", jpegs + 1, ".webp"));
  write_quadrant_webp(good.back(), 320, 240);
  good.push_back(dir / numbered("good_", jpegs + 2, ".gif"));
  write_animated_gif(good.back(), 160, 120);
  return good;
}

std::vector<ThumbJob> jobs_for(const std::vector<fs::path>& inputs, const fs::path& out_dir) {
  fs::create_directories(out_dir);
  std::vector<ThumbJob> jobs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    jobs.push_back({inputs[i], out_dir / ("out_" + std::to_string(i))});
  }
  return jobs;
}

struct StrategyRun {
  ThumbStrategyKind kind;
  int workers;
  std::string label() const {
    return std::string(to_string(kind)) + " x" + std::to_string(workers);
  }
};

const std::vector<StrategyRun> kEveryRun = {
    {ThumbStrategyKind::serial, 1},    {ThumbStrategyKind::threads, 1},
    {ThumbStrategyKind::threads, 2},   {ThumbStrategyKind::threads, 4},
    {ThumbStrategyKind::processes, 1}, {ThumbStrategyKind::processes, 2},
    {ThumbStrategyKind::processes, 4},
};

std::vector<ThumbResult> run_batch(const StrategyRun& run, const std::vector<ThumbJob>& jobs) {
  ThumbRunConfig config;
  config.workers = run.workers;
  config.timeout_seconds = run.kind == ThumbStrategyKind::processes ? 60 : 0;
  config.worker_exe = THUMBFETCH_EXE;
  return make_thumb_strategy(run.kind, config)->run(jobs, {});
}

}  // namespace

// The first report, exactly: one bad JPEG, then 20 good ones, on one Thumbnailer.
TEST(ThumbnailIsolation, OneBadJpegThenTwentyGoodOnesOnOneThumbnailer) {
  SKIP_WITHOUT_COLLECTIONS();
  TempDir dir;
  const auto good = make_good_files(dir / "good", 20);
  const std::string photo = bytes_of(good[0]);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"the first 300 bytes of a photo", with_bytes_cut(photo, 300)},
      {"a 12-bit JPEG", bytes_of(collection_file("libjpeg-turbo", "monkey12.jpg"))},
  };
  for (const auto& [what, bytes] : bad) {
    SCOPED_TRACE(what);
    Thumbnailer thumbnailer(ThumbOptions{});
    EXPECT_FALSE(thumbnailer.render(bytes).ok());
    std::vector<std::string> failed;
    for (size_t i = 0; i < 20; ++i) {
      auto thumb = thumbnailer.render(bytes_of(good[i]));
      if (!thumb) failed.push_back(good[i].filename().string() + ": " + thumb.error().message);
    }
    EXPECT_TRUE(failed.empty()) << failed.size() << " of 20 good JPEGs failed, the first "
                                << (failed.empty() ? "" : failed.front());
    // libjpeg-turbo's own test image, which failed this way in a user's mixed folder.
    auto reference = thumbnailer.render(bytes_of(collection_file("libjpeg-turbo", "testorig.jpg")));
    EXPECT_TRUE(reference.ok()) << reference.error().message;
  }
}

// Every file of the four collections and every made bad file, each followed by good images, on
// ONE Thumbnailer: each good image succeeds, and each file gets what it gets on its own (its
// outcome may not depend on the image before it: tables, error state and libvips messages of
// one image never reach the next).
TEST(ThumbnailIsolation, EveryFileThenGoodOnesOnOneThumbnailer) {
  SKIP_WITHOUT_COLLECTIONS();
  TempDir dir;
  std::vector<fs::path> files = make_bad_files(dir / "bad");
  for (const fs::path& f : every_collection_file()) files.push_back(f);
  const auto good = make_good_files(dir / "good", 2);
  const fs::path good_jpeg = good[0], good_png = good[2];

  Thumbnailer thumbnailer(ThumbOptions{});
  std::vector<std::string> broke_next, outcome_differs;
  for (const fs::path& file : files) {
    const Outcome own = alone(file);
    const Outcome here = outcome_of(thumbnailer.render(bytes_of(file)));
    if (here != own) {
      outcome_differs.push_back(file.filename().string() + ": alone '" + describe(own) +
                                "', after others '" + describe(here) + "'");
    }
    for (const fs::path& next : {good_jpeg, good_png}) {
      auto thumb = thumbnailer.render(bytes_of(next));
      if (!thumb) {
        broke_next.push_back(file.filename().string() + " broke " + next.filename().string() +
                             ": " + thumb.error().message);
      }
    }
  }
  EXPECT_GT(files.size(), 800u);
  auto lines = [](const std::vector<std::string>& v) {
    std::ostringstream s;
    for (const auto& line : v) s << "  " << line << "\n";
    return s.str();
  };
  EXPECT_TRUE(broke_next.empty()) << broke_next.size() << " bad files broke the next image:\n"
                                  << lines(broke_next);
  EXPECT_TRUE(outcome_differs.empty())
      << outcome_differs.size() << " files got another outcome after other images:\n"
      << lines(outcome_differs);
}

// Bad files of every kind first, then good ones, through every strategy and worker count:
// every good image is done.
TEST(ThumbnailIsolation, BadFilesBeforeGoodOnesUnderEveryStrategy) {
  SKIP_WITHOUT_COLLECTIONS();
  TempDir dir;
  std::vector<fs::path> inputs = make_bad_files(dir / "bad");
  for (const fs::path& f : collection_bad_files()) inputs.push_back(f);
  const size_t first_good = inputs.size();
  for (const fs::path& f : make_good_files(dir / "good", 20)) inputs.push_back(f);

  for (const StrategyRun& run : kEveryRun) {
    SCOPED_TRACE(run.label());
    const auto jobs = jobs_for(inputs, dir / ("out-" + run.label()));
    const auto results = run_batch(run, jobs);
    ASSERT_EQ(results.size(), jobs.size());
    for (size_t i = first_good; i < jobs.size(); ++i) {
      EXPECT_TRUE(results[i].state == ThumbResult::State::done)
          << jobs[i].input.filename() << " failed: " << results[i].error.message;
    }
  }
}

// Corrupt TIFF, GIF, PNG and JPEG files interleaved (and images that decode but leave a
// complaint in libvips' error buffer): each gets the outcome and the message it gets on its own,
// under every strategy and worker count, run after run.
TEST(ThumbnailIsolation, InterleavedCorruptFilesKeepTheirOwnMessagesUnderEveryStrategy) {
  SKIP_WITHOUT_COLLECTIONS();
  TempDir dir;
  // Every failing TIFF, GIF, PNG and JPEG made here or in imagetestsuite and libvips' images,
  // interleaved by format.
  std::vector<fs::path> candidates = make_bad_files(dir / "bad");
  for (const char* collection : {"imagetestsuite", "libvips"}) {
    for (const auto& entry : fs::directory_iterator(kCollections / collection)) {
      candidates.push_back(entry.path());
    }
  }
  std::map<std::string, std::vector<fs::path>> by_format;
  for (const fs::path& file : candidates) {
    if (!alone(file).ok) by_format[file.extension().string()].push_back(file);
  }
  for (auto& [ext, files] : by_format) std::sort(files.begin(), files.end());
  std::vector<fs::path> inputs;
  for (size_t i = 0;; ++i) {
    bool any = false;
    for (const char* ext : {".tif", ".gif", ".png", ".jpg"}) {
      if (i < by_format[ext].size()) {
        inputs.push_back(by_format[ext][i]);
        any = true;
      }
    }
    // Now and then an image that succeeds but leaves a complaint in libvips' buffer (the AVIF
    // is slow: twice only).
    if (i % 8 == 0) {
      inputs.push_back(
          collection_file("imagetestsuite", "jpg_1cbb1bb37d62c44f67374cd451643dc4.jpg"));
    }
    if (i % 8 == 4) inputs.push_back(collection_file("libvips", "truncated.jpg"));
    if (i == 1 || i == 20) inputs.push_back(collection_file("libvips", "avif-orientation-6.avif"));
    if (!any) break;
  }
  ASSERT_GE(by_format[".tif"].size(), 10u);
  ASSERT_GE(by_format[".gif"].size(), 5u);

  std::vector<Outcome> expected;
  for (const fs::path& f : inputs) expected.push_back(alone(f));

  for (const StrategyRun& run : kEveryRun) {
    const int repeats = run.workers > 1 ? 3 : 1;  // races show up only now and then
    for (int r = 0; r < repeats; ++r) {
      SCOPED_TRACE(run.label() + ", run " + std::to_string(r + 1));
      const auto jobs = jobs_for(inputs, dir / ("out-" + run.label() + std::to_string(r)));
      const auto results = run_batch(run, jobs);
      ASSERT_EQ(results.size(), jobs.size());
      int wrong = 0;
      for (size_t i = 0; i < jobs.size(); ++i) {
        const Outcome got = outcome_of(results[i]);
        if (got != expected[i] && ++wrong <= 10) {
          ADD_FAILURE() << jobs[i].input.filename() << ": alone '" << describe(expected[i])
                        << "', in this run '" << describe(got) << "'";
        }
      }
      EXPECT_EQ(wrong, 0) << "files with another outcome than on their own";
    }
  }
}

// The real executable, as a user runs it: bad files sort before good ones; every strategy
// reports the same line for each bad file, once, and never one for a good file.
TEST(ThumbnailIsolation, CommandLineReportsTheSameLinesUnderEveryStrategy) {
  SKIP_WITHOUT_COLLECTIONS();
  TempDir dir;
  const fs::path in = dir / "in";
  fs::create_directories(in);
  std::vector<std::string> bad_names;
  auto copy_in = [&](const fs::path& from, const std::string& name) {
    fs::copy_file(from, in / name);
    bad_names.push_back(name);
  };
  for (const fs::path& f : make_bad_files(dir / "bad")) copy_in(f, "a_" + f.filename().string());
  for (const fs::path& f : collection_bad_files()) copy_in(f, "b_" + f.filename().string());
  for (const fs::path& f : make_good_files(dir / "good", 20)) {
    fs::copy_file(f, in / ("z_" + f.filename().string()));
  }

  std::vector<std::string> reference;
  for (const StrategyRun& run : kEveryRun) {
    SCOPED_TRACE(run.label());
    const fs::path out =
        dir / ("out-" + std::to_string(static_cast<int>(run.kind)) + std::to_string(run.workers));
    auto r = run_thumbfetch({"thumbs", in.string(), "-o", out.string(), "--strategy",
                             std::string(to_string(run.kind)), "-j", std::to_string(run.workers)});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    std::vector<std::string> lines;
    std::istringstream err(r.err);
    for (std::string line; std::getline(err, line);) {
      if (line.rfind(in.string(), 0) == 0) lines.push_back(line);
    }
    std::sort(lines.begin(), lines.end());
    EXPECT_EQ(count_lines_with(r.err, "z_good_"), 0) << "a good image failed:\n" << r.err;
    for (const std::string& name : bad_names) {
      EXPECT_LE(count_lines_with(r.err, "/" + name + ": "), 1) << name << "\n" << r.err;
    }
    if (reference.empty()) {
      reference = lines;
      EXPECT_GT(reference.size(), 15u) << r.err;
    } else {
      EXPECT_EQ(lines, reference);
    }
  }
}

// The mechanism itself, with messages whose owner is known: threads each write their own libvips
// error and warning, wait so that the others write theirs too, and fail. libvips' buffer then
// holds every thread's lines; each failure must still carry only its own.
TEST(ThumbnailIsolation, LibvipsMessagesAndWarningsStayWithTheThreadThatRaisedThem) {
  init_vips(nullptr);
  constexpr int kThreads = 4, kRounds = 25;
  std::vector<std::vector<VipsFailure>> failures(kThreads);
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([t, &failures] {
        const std::string me = "image" + std::to_string(t);
        for (int round = 0; round < kRounds; ++round) {
          auto result = run_vips_image<int>(
              [&]() -> Result<int> {
                g_log("VIPS", G_LOG_LEVEL_WARNING, "%s warns", me.c_str());
                vips_error(me.c_str(), "%s", "broken");
                std::this_thread::sleep_for(std::chrono::microseconds(200));
                throw vips::VError();  // what(): the whole buffer, as libvips' C++ API does
              },
              [&](const VipsFailure& failure) {
                failures[t].push_back(failure);
                return make_error(ErrorKind::corrupt, failure.message);
              });
          EXPECT_FALSE(result.ok());
        }
      });
    }
  }
  for (int t = 0; t < kThreads; ++t) {
    const std::string me = "image" + std::to_string(t);
    ASSERT_EQ(failures[t].size(), static_cast<size_t>(kRounds));
    for (const VipsFailure& failure : failures[t]) {
      EXPECT_EQ(failure.message, me + ": broken");
      EXPECT_EQ(failure.warnings, std::vector<std::string>{me + " warns"});
    }
  }
}

// Warnings libvips raises while computing pixels (on its worker threads when pulled through a
// sink such as write_to_memory, where they reached no image) reach the image's own capture.
TEST(ThumbnailIsolation, WarningsRaisedWhileComputingPixelsReachTheImage) {
  SKIP_WITHOUT_COLLECTIONS();
  init_vips(nullptr);
  const std::string jpeg = bytes_of(collection_file("libvips", "truncated.jpg"));
  std::optional<VipsFailure> failed;
  auto result = run_vips_image<int>(
      [&]() -> Result<int> {
        vips::VImage image =
            vips::VImage::new_from_buffer(jpeg.data(), jpeg.size(), "",
                                          vips::VImage::option()
                                              ->set("access", VIPS_ACCESS_SEQUENTIAL)
                                              ->set("fail_on", VIPS_FAIL_ON_TRUNCATED));
        std::vector<unsigned char> pixels(size_t(image.width()) * image.height() * image.bands());
        pull_pixels(image, pixels.data());
        return 0;
      },
      [&](const VipsFailure& failure) {
        failed = failure;
        return make_error(ErrorKind::corrupt, failure.message);
      });
  ASSERT_FALSE(result.ok());
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->message, "VipsJpeg: Premature end of input file");
  std::string all;
  for (const auto& w : failed->warnings) all += w + "\n";
  EXPECT_NE(all.find("error in tile"), std::string::npos) << "warnings:\n" << all;
}
