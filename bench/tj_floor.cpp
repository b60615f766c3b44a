// tj_floor: the decode floor of a JPEG thumbnailer, what none can beat.
// Reads each file given on the command line (or listed one per line on stdin with "-") and
// decodes it with TurboJPEG at the 1/8 DCT scale (the smallest), to RGB, in this one thread.
// Only the loop is timed (file read + header + scaled decode); prints one line:
//   tj_floor: N ok, M failed, S s, R img/s
// then "seconds=S" (the timed loop) for the bench script. Default (accurate) DCT, no encode.
// Build: g++ -O2 -std=c++17 tj_floor.cpp -o tj_floor -lturbojpeg
#include <turbojpeg.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

static bool read_file(const std::string& path, std::vector<unsigned char>& buf) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  in.seekg(0, std::ios::end);
  const auto size = in.tellg();
  if (size <= 0) return false;
  in.seekg(0);
  buf.resize(static_cast<size_t>(size));
  return static_cast<bool>(in.read(reinterpret_cast<char*>(buf.data()), size));
}

int main(int argc, char** argv) {
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-") {
      for (std::string line; std::getline(std::cin, line);)
        if (!line.empty()) files.push_back(line);
    } else {
      files.push_back(a);
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: tj_floor FILE.jpg... (or - to read paths from stdin)\n");
    return 2;
  }
  tjhandle tj = tjInitDecompress();
  if (!tj) return 2;
  const tjscalingfactor eighth{1, 8};
  std::vector<unsigned char> jpeg, pixels;
  int ok = 0, failed = 0;
  unsigned long checksum = 0;  // keeps the decode from being optimised away
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& f : files) {
    int w = 0, h = 0, subsamp = 0, cs = 0;
    if (!read_file(f, jpeg) ||
        tjDecompressHeader3(tj, jpeg.data(), jpeg.size(), &w, &h, &subsamp, &cs) != 0) {
      std::fprintf(stderr, "%s: %s\n", f.c_str(), tjGetErrorStr2(tj));
      ++failed;
      continue;
    }
    const int sw = TJSCALED(w, eighth), sh = TJSCALED(h, eighth);
    pixels.resize(static_cast<size_t>(sw) * sh * 3);
    if (tjDecompress2(tj, jpeg.data(), jpeg.size(), pixels.data(), sw, 0, sh, TJPF_RGB, 0) != 0) {
      std::fprintf(stderr, "%s: %s\n", f.c_str(), tjGetErrorStr2(tj));
      ++failed;
      continue;
    }
    checksum += pixels[pixels.size() / 2];
    ++ok;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  tjDestroy(tj);
  std::printf("tj_floor: %d ok, %d failed, %.4f s, %.1f img/s (checksum %lu)\n", ok, failed, s,
              ok / s, checksum % 1000);
  std::printf("seconds=%.6f\n", s);
  return failed ? 1 : 0;
}
