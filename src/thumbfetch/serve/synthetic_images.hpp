#pragma once
// A deterministic corpus of photo-like images made from noise, for the demo, the test server
// (`serve --generate`) and tests: web-sized (longest side 800-1600 px), mixed aspect ratios,
// ~90% JPEG (q80-90, some progressive) and ~10% PNG. Same index, same bytes.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "thumbfetch/util/error.hpp"

namespace thumbfetch {

struct SyntheticImage {
  std::string name;  // "img_0042.jpg"
  std::vector<unsigned char> bytes;
};

struct SyntheticSpec {
  int min_side = 800;  // the longest side is drawn from [min_side, max_side]
  int max_side = 1600;
  std::uint64_t seed = 1;
};

// Image number `index` of the corpus. Needs libvips initialised.
SyntheticImage make_synthetic_image(int index, const SyntheticSpec& spec = {});

// Writes images 0..count-1 into `dir` (atomically, skipping names already there).
Status write_synthetic_corpus(const std::filesystem::path& dir, int count,
                              const SyntheticSpec& spec = {});

}  // namespace thumbfetch
