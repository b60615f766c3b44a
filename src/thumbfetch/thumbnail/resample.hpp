#pragma once
// Downscaling as Pillow does it for Image.thumbnail, so our thumbnails look like the reference:
// an integer box reduction down to about twice the target ("reducing gap"), then a separable
// bicubic convolution (Keys, a = -0.5) whose support widens with the scale, in fixed point.

#include "thumbfetch/thumbnail/pixels.hpp"

namespace thumbfetch {

// Averages fx-by-fy blocks (the last ones may be partial). Output: ceil(w/fx) x ceil(h/fy).
Pixels reduce_box(const Pixels& image, int fx, int fy);

// Resamples the region (x, y, w, h) of `image`, in source pixels, to `out` pixels.
Pixels resample_bicubic(const Pixels& image, double x, double y, double w, double h, Size out);

// resample_bicubic with the plain C++ passes only: the reference the vectorised passes (SSE4.1,
// chosen at run time) are held to, byte for byte.
Pixels resample_bicubic_scalar(const Pixels& image, double x, double y, double w, double h,
                               Size out);

}  // namespace thumbfetch
