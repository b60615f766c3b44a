#pragma once
// Where the thumbnail's pixels come from and where they go: the one place that decides output
// dimensions, so that the JPEG fast path and the general path agree to the pixel.

#include "thumbfetch/thumbnail/options.hpp"

namespace thumbfetch {

struct ThumbPlan {
  Size canvas;       // the output image
  Size resized;      // the resampled picture (smaller than canvas only in pad mode)
  int offset_x = 0;  // where the picture sits on the canvas
  int offset_y = 0;
  // The part of the (upright) source that is resampled, in source pixels.
  double crop_x = 0, crop_y = 0, crop_w = 0, crop_h = 0;

  // How much the source shrinks along its more-shrunk axis (1.0 = not at all).
  double scale() const;
};

// Pillow's Image.thumbnail geometry: keep aspect, fit inside `box`, never enlarge, with
// Pillow's rounding (the side that is cut keeps the aspect ratio closest).
Size fit_inside(Size source, Size box);

// The plan for an upright source of `source` pixels.
ThumbPlan plan_thumbnail(Size source, const ThumbOptions& options);

}  // namespace thumbfetch
