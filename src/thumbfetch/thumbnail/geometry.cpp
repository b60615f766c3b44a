#include "thumbfetch/thumbnail/geometry.hpp"

#include <algorithm>
#include <cmath>

namespace thumbfetch {

namespace {

// Of floor(n) and ceil(n), the one whose aspect error is smaller (floor on ties), at least 1.
template <typename ErrorOf>
int round_aspect(double n, ErrorOf error_of) {
  double lo = std::floor(n), hi = std::ceil(n);
  double best = error_of(hi) < error_of(lo) ? hi : lo;
  return std::max(static_cast<int>(best), 1);
}

}  // namespace

double ThumbPlan::scale() const {
  return std::max(resized.width / crop_w, resized.height / crop_h);
}

Size fit_inside(Size source, Size box) {
  if (box.width >= source.width && box.height >= source.height) return source;
  double aspect = static_cast<double>(source.width) / source.height;
  Size out = box;
  if (static_cast<double>(box.width) / box.height >= aspect) {
    out.width = round_aspect(box.height * aspect,
                             [&](double n) { return std::abs(aspect - n / box.height); });
  } else {
    out.height = round_aspect(box.width / aspect, [&](double n) {
      return n == 0 ? 0.0 : std::abs(aspect - box.width / n);
    });
  }
  return out;
}

ThumbPlan plan_thumbnail(Size source, const ThumbOptions& options) {
  ThumbPlan plan;
  plan.crop_w = source.width;
  plan.crop_h = source.height;
  const Size box = options.box;
  switch (options.mode) {
    case FitMode::fit:
      plan.resized = plan.canvas = fit_inside(source, box);
      break;
    case FitMode::pad:
      plan.resized = fit_inside(source, box);
      plan.canvas = box;
      plan.offset_x = (box.width - plan.resized.width) / 2;
      plan.offset_y = (box.height - plan.resized.height) / 2;
      break;
    case FitMode::stretch:
      plan.resized = plan.canvas = box;
      break;
    case FitMode::cover: {
      // Scale so the box is filled, then take the centred part of the source it shows.
      double s = std::max(static_cast<double>(box.width) / source.width,
                          static_cast<double>(box.height) / source.height);
      plan.crop_w = std::min<double>(source.width, box.width / s);
      plan.crop_h = std::min<double>(source.height, box.height / s);
      plan.crop_x = (source.width - plan.crop_w) / 2;
      plan.crop_y = (source.height - plan.crop_h) / 2;
      plan.resized = plan.canvas = box;
      break;
    }
  }
  return plan;
}

}  // namespace thumbfetch
