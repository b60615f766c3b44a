#include "thumbfetch/cli/display.hpp"

#include <fmt/format.h>

#include "thumbfetch/util/stopwatch.hpp"

namespace thumbfetch {

Display::Display(bool quiet, Lines lines)
    : quiet_(quiet),
      lines_(lines),
      bar_(std::make_unique<ProgressBar>(stderr, progress_mode_for(stderr, quiet), "", 0)) {}

JobObserver Display::observer() {
  JobObserver o;
  o.started = [this](std::string_view stage, std::uint64_t total, std::uint64_t skipped) {
    bar_->set_label(std::string(stage));
    bar_->set_total(total);
    if (skipped > 0) bar_->add_skipped(skipped);
  };
  o.settled = [this](std::string_view, std::string_view item, const Error* error) {
    bar_->item_done(error == nullptr);
    if (error) {
      bar_->message(fmt::format("{}: {}", item, describe(*error)));
    } else if (lines_ == Lines::every_item) {
      bar_->message(fmt::format("{}: ok", item));
    }
  };
  o.note = [this](std::string_view line) {
    if (!quiet_) bar_->message(line);
  };
  return o;
}

void Display::finish() {
  bar_->finish();
}

std::string peak_rss_note(size_t items) {
  constexpr size_t kLongRun = 10'000;
  if (items < kLongRun) return "";
  return fmt::format(", peak RSS {:.0f} MB", static_cast<double>(peak_rss_bytes()) / 1e6);
}

}  // namespace thumbfetch
