// progressive_quality: what decoding only the needed scans of progressive JPEGs costs in quality
// and saves in time. For each file (arguments, or paths on stdin with "-"), renders the default
// 128x128 thumbnail with thumbfetch's Thumbnailer two ways: every scan (ProgressiveScans::all,
// the reference) and the scans its DCT scale needs (ProgressiveScans::needed, the default).
// Compares the final thumbnails (decoded again) by mean absolute difference per channel value,
// 0-255, and times the renders in thread CPU time (best of REPEAT, default 3). Prints one line
// per way: mean, p95 and max difference, and images/s. AGAINST=DIR (an experiment): compares
// every-scan thumbnails of the files with those of the same names in DIR (scan subsets made by
// hand).
// Built by CMake as `progressive_quality` (not by default: cmake --build build -t
// progressive_quality).
#include <turbojpeg.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <string>
#include <vector>

#include "thumbfetch/thumbnail/thumbnailer.hpp"
#include "thumbfetch/util/atomic_file.hpp"

using namespace thumbfetch;

namespace {

struct Image {
  int width = 0, height = 0, bands = 0;
  std::vector<unsigned char> pixels;
};

Image decode(tjhandle tj, const std::vector<unsigned char>& jpeg) {
  Image im;
  int subsamp = 0, cs = 0;
  tjDecompressHeader3(tj, jpeg.data(), jpeg.size(), &im.width, &im.height, &subsamp, &cs);
  im.bands = cs == TJCS_GRAY ? 1 : 3;
  im.pixels.resize(static_cast<size_t>(im.width) * im.height * im.bands);
  tjDecompress2(tj, jpeg.data(), jpeg.size(), im.pixels.data(), im.width, 0, im.height,
                im.bands == 1 ? TJPF_GRAY : TJPF_RGB, 0);
  return im;
}

double mean_abs_diff(const Image& a, const Image& b) {
  if (a.width != b.width || a.height != b.height || a.bands != b.bands) return 255;
  double sum = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) sum += std::abs(a.pixels[i] - b.pixels[i]);
  return sum / static_cast<double>(a.pixels.size());
}

// CPU time, not wall time: the machine is shared, and the decode is all in this thread.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct Rule {
  const char* name;
  ProgressiveScans stop;
  std::vector<double> diffs;
  double seconds = 0;
};

double render_seconds(Thumbnailer& t, const std::string& data, int repeat,
                      std::vector<unsigned char>& bytes) {
  double best = 1e9;
  for (int r = 0; r < repeat; ++r) {
    const double t0 = thread_cpu_seconds();
    auto thumb = t.render(data);
    best = std::min(best, thread_cpu_seconds() - t0);
    if (!thumb) {
      std::fprintf(stderr, "%s\n", thumb.error().message.c_str());
      std::exit(1);
    }
    bytes = thumb->bytes;
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "-") {
      for (std::string line; std::getline(std::cin, line);)
        if (!line.empty()) files.push_back(line);
    } else {
      files.push_back(argv[i]);
    }
  }
  const int repeat = std::getenv("REPEAT") ? std::atoi(std::getenv("REPEAT")) : 3;
  std::vector<Rule> rules = {{"every scan (reference)", ProgressiveScans::all, {}},
                             {"the scans needed (default)", ProgressiveScans::needed, {}}};
  tjhandle tj = tjInitDecompress();
  if (const char* other = std::getenv("AGAINST")) {  // experiment: the same names in another folder
    rules = {{"full", ProgressiveScans::all, {}},
             {"other folder, full", ProgressiveScans::all, {}}};
    ThumbOptions options;
    options.progressive = ProgressiveScans::all;
    Thumbnailer t(options);
    for (const std::string& file : files) {
      const std::string name = file.substr(file.rfind('/') + 1);
      auto a = read_file(file);
      auto b = read_file(std::string(other) + "/" + name);
      if (!a || !b) continue;
      std::vector<unsigned char> ba, bb;
      rules[0].seconds += render_seconds(t, *a, repeat, ba);
      rules[1].seconds += render_seconds(t, *b, repeat, bb);
      rules[0].diffs.push_back(0);
      rules[1].diffs.push_back(mean_abs_diff(decode(tj, ba), decode(tj, bb)));
    }
    files.clear();
  }
  for (const std::string& file : files) {
    auto data = read_file(file);
    if (!data) continue;
    Image reference;
    for (Rule& rule : rules) {
      ThumbOptions options;
      options.progressive = rule.stop;
      Thumbnailer t(options);
      std::vector<unsigned char> bytes;
      rule.seconds += render_seconds(t, *data, repeat, bytes);
      Image im = decode(tj, bytes);
      if (rule.stop == ProgressiveScans::all) reference = im;
      rule.diffs.push_back(mean_abs_diff(im, reference));
    }
  }
  tjDestroy(tj);
  const size_t count = rules[0].diffs.size();
  std::printf("%zu files\n", count);
  for (Rule& rule : rules) {
    std::sort(rule.diffs.begin(), rule.diffs.end());
    double mean = 0;
    for (double d : rule.diffs) mean += d;
    mean /= std::max<size_t>(1, rule.diffs.size());
    const double p95 = rule.diffs.empty() ? 0 : rule.diffs[rule.diffs.size() * 95 / 100];
    std::printf(
        "%-46s difference vs full: mean %.3f, p95 %.3f, max %.3f; %.1f img/s (render, thread CPU "
        "time)\n",
        rule.name, mean, p95, rule.diffs.empty() ? 0 : rule.diffs.back(), count / rule.seconds);
  }
  return 0;
}
