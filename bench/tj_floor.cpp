// tj_floor: the decode floor of a JPEG thumbnailer, what none can beat.
//   tj_floor [--scale eighth|same] [--thumbnail] FILE...   (or "-": paths on stdin, one a line)
// Reads each file and decodes it with TurboJPEG, to RGB, in this one thread, at
//   eighth: the 1/8 DCT scale, the smallest (the floor for thumbfetch --reducing-gap 1);
//   same:   the scale thumbfetch (and Pillow's draft) chooses for a 128x128 box, the smallest
//           N/8 that keeps at least twice the thumbnail's size (reducing gap 2.0).
// --thumbnail adds what every thumbnailer that keeps a manifest must do beyond the decode, all
// but the resampling: the SHA-256 of the bytes read (OpenSSL, as thumbfetch) and a quality-85
// 4:2:0 JPEG of the thumbnail's size (the top-left corner of the decoded image, from a
// compressor and output buffer kept across images). thumbfetch at 100% of this floor would
// resample for free; the decode floor against this one is the most any such thumbnailer can
// reach of the decode floor (thumbs_bench.sh prints both).
// Only the loop is timed (file read + header + scaled decode [+ hash + encode]); prints one line:
//   tj_floor: N ok, M failed, S s, R img/s
// then "seconds=S" (the timed loop) for the bench script. Default (accurate) DCT, no encode.
// Build: g++ -O2 -std=c++17 tj_floor.cpp -o tj_floor -lturbojpeg -lcrypto
#include <openssl/evp.h>
#include <turbojpeg.h>

#include <algorithm>
#include <chrono>
#include <cmath>
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

// Pillow's thumbnail size inside a 128x128 box (thumbfetch's fit_inside): the side that is cut
// keeps the aspect ratio closest.
static void fit_inside(int w, int h, int box, int& out_w, int& out_h) {
  out_w = w, out_h = h;
  if (w <= box && h <= box) return;
  const double aspect = static_cast<double>(w) / h;
  auto pick = [](double n, auto error_of) {
    const double lo = std::floor(n), hi = std::ceil(n);
    return std::max(static_cast<int>(error_of(hi) < error_of(lo) ? hi : lo), 1);
  };
  out_w = out_h = box;
  if (aspect <= 1.0) {
    out_w = pick(box * aspect, [&](double n) { return std::abs(aspect - n / box); });
  } else {
    out_h = pick(box / aspect, [&](double n) { return n == 0 ? 0.0 : std::abs(aspect - box / n); });
  }
}

// thumbfetch's choice: the smallest N/8 >= (thumbnail / source) x 2, at most 8/8.
static tjscalingfactor same_scale(int w, int h) {
  int tw = 0, th = 0;
  fit_inside(w, h, 128, tw, th);
  const double scale =
      std::min(1.0, 2.0 * std::max(static_cast<double>(tw) / w, static_cast<double>(th) / h));
  return {std::max(1, std::min(8, static_cast<int>(std::ceil(scale * 8)))), 8};
}

// SHA-256 of the bytes read, as thumbfetch hashes each input for its manifest.
static unsigned sha256_first_byte(const std::vector<unsigned char>& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  return digest[0];
}

// The thumbnail-sized encode: what thumbfetch writes, from the top-left corner of the decode.
static bool encode_thumbnail(tjhandle compressor, const std::vector<unsigned char>& pixels, int sw,
                             int sh, int tw, int th, unsigned char* out, unsigned long capacity,
                             unsigned long& size) {
  size = capacity;
  return tjCompress2(compressor, pixels.data(), std::min(tw, sw), sw * 3, std::min(th, sh),
                     TJPF_RGB, &out, &size, TJSAMP_420, 85, TJFLAG_NOREALLOC) == 0;
}

int main(int argc, char** argv) {
  std::vector<std::string> files;
  bool same = false, thumbnail = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--thumbnail") {
      thumbnail = true;
    } else if (a == "--scale" && i + 1 < argc) {
      same = std::string(argv[++i]) == "same";
    } else if (a == "-") {
      for (std::string line; std::getline(std::cin, line);)
        if (!line.empty()) files.push_back(line);
    } else {
      files.push_back(a);
    }
  }
  if (files.empty()) {
    std::fprintf(
        stderr,
        "usage: tj_floor [--scale eighth|same] [--thumbnail] FILE.jpg... (or - for paths on "
        "stdin)\n");
    return 2;
  }
  tjhandle tj = tjInitDecompress();
  tjhandle compressor = tjInitCompress();
  if (!tj || !compressor) return 2;
  const unsigned long capacity = tjBufSize(128, 128, TJSAMP_420);
  unsigned char* encoded = tjAlloc(static_cast<int>(capacity));
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
    const tjscalingfactor scale = same ? same_scale(w, h) : eighth;
    const int sw = TJSCALED(w, scale), sh = TJSCALED(h, scale);
    pixels.resize(static_cast<size_t>(sw) * sh * 3);
    if (tjDecompress2(tj, jpeg.data(), jpeg.size(), pixels.data(), sw, 0, sh, TJPF_RGB, 0) != 0) {
      std::fprintf(stderr, "%s: %s\n", f.c_str(), tjGetErrorStr2(tj));
      ++failed;
      continue;
    }
    checksum += pixels[pixels.size() / 2];
    if (thumbnail) {
      int tw = 0, th = 0;
      fit_inside(w, h, 128, tw, th);
      unsigned long size = 0;
      if (!encode_thumbnail(compressor, pixels, sw, sh, tw, th, encoded, capacity, size)) {
        std::fprintf(stderr, "%s: %s\n", f.c_str(), tjGetErrorStr2(compressor));
        ++failed;
        continue;
      }
      checksum += size + sha256_first_byte(jpeg);
    }
    ++ok;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  tjDestroy(tj);
  tjDestroy(compressor);
  tjFree(encoded);
  std::printf("tj_floor: %d ok, %d failed, %.4f s, %.1f img/s (checksum %lu)\n", ok, failed, s,
              ok / s, checksum % 1000);
  std::printf("seconds=%.6f\n", s);
  return failed ? 1 : 0;
}
