#pragma once
// An 8-bit interleaved image in memory (1 = grey, 2 = grey+alpha, 3 = RGB, 4 = RGBA) and the
// cheap whole-image operations the thumbnail pipeline applies to small buffers.

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "thumbfetch/thumbnail/options.hpp"

namespace thumbfetch {

// Leaves new elements uninitialised: every pixel buffer is written in full right after it is
// made, so zero-filling it first would only cost time.
template <typename T>
struct UninitialisedAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = UninitialisedAllocator<U>;
  };
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

struct Pixels {
  int width = 0;
  int height = 0;
  int bands = 0;
  std::vector<std::uint8_t, UninitialisedAllocator<std::uint8_t>> data;

  Pixels() = default;
  Pixels(int w, int h, int b) : width(w), height(h), bands(b), data(size_t(w) * h * b) {}

  bool has_alpha() const { return bands == 2 || bands == 4; }
  size_t stride() const { return size_t(width) * bands; }
  std::uint8_t* row(int y) { return data.data() + size_t(y) * stride(); }
  const std::uint8_t* row(int y) const { return data.data() + size_t(y) * stride(); }
  Size size() const { return {width, height}; }
};

// Applies an EXIF orientation (1..8) so the image is upright; other values change nothing.
Pixels apply_orientation(Pixels image, int orientation);

// True where the orientation swaps width and height (5..8).
bool orientation_swaps_axes(int orientation);

// Composes an image with alpha onto an opaque background; drops the alpha band.
Pixels flatten(const Pixels& image, Rgb background);

// Multiplies colour by alpha (and back), so resampling does not bleed the colour of
// transparent pixels into their neighbours.
void premultiply_alpha(Pixels& image);
void unpremultiply_alpha(Pixels& image);

// Places `image` at (x, y) on a canvas filled with `background` (opaque) of `canvas` size.
Pixels place_on_canvas(const Pixels& image, Size canvas, int x, int y, Rgb background);

}  // namespace thumbfetch
