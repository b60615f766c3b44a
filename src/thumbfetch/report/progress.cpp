#include "thumbfetch/report/progress.hpp"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <vector>

namespace thumbfetch {
namespace {

using namespace std::chrono_literals;

constexpr auto kLiveInterval = 125ms;  // about 8 redraws a second
constexpr auto kRateStep = 1s;         // one rate sample a second...
constexpr auto kRateWindow = 10s;      // ...over the last ten seconds
constexpr double kMinRateSpan = 0.5;   // seconds of history before a rate is shown
constexpr std::string_view kClearToEnd = "\x1b[K";

// Control characters would move the cursor or drive the terminal: written as "\xHH" instead.
std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) {
      out += fmt::format("\\x{:02x}", byte);
    } else {
      out += c;
    }
  }
  return out;
}

// Columns taken by UTF-8 text, counting one per code point (good enough for labels and counts).
std::size_t columns(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

// The first `width` columns of `text`, never splitting a UTF-8 sequence.
std::string_view first_columns(std::string_view text, std::size_t width) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && seen++ == width) {
      return text.substr(0, i);
    }
  }
  return text;
}

int terminal_columns(std::FILE* stream) {
  winsize size{};
  if (stream != nullptr && ioctl(fileno(stream), TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
    return size.ws_col;
  }
  return 80;
}

}  // namespace

ProgressMode progress_mode_for(std::FILE* stream, bool quiet) {
  if (quiet) return ProgressMode::quiet;
  if (stream == nullptr) return ProgressMode::plain;
  int fd = fileno(stream);
  if (fd < 0 || isatty(fd) == 0) return ProgressMode::plain;
  const char* term = std::getenv("TERM");
  if (term != nullptr && std::string_view(term) == "dumb") return ProgressMode::plain;
  return ProgressMode::live;
}

std::string format_progress_count(std::uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  out.reserve(digits.size() + digits.size() / 3);
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string format_progress_rate(double per_second) {
  if (!std::isfinite(per_second) || per_second < 0.005) return "0/s";
  // Thresholds on the rounded value, so 9.97 reads "10/s" rather than "10.0/s".
  if (per_second >= 9.95) return format_progress_count(std::llround(per_second)) + "/s";
  if (per_second >= 0.995) return fmt::format("{:.1f}/s", per_second);
  return fmt::format("{:.2f}/s", per_second);
}

std::string format_progress_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds <= 0) return "0s";
  constexpr double kMax = 99.0 * 86400;  // beyond that an estimate means nothing
  auto s = static_cast<std::uint64_t>(std::ceil(std::min(seconds, kMax)));
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h{:02}m", s / 3600, s / 60 % 60);
  return fmt::format("{}d{:02}h", s / 86400, s / 3600 % 24);
}

std::string format_progress_line(const ProgressSnapshot& snapshot, std::size_t max_width) {
  // Least important first: what goes when the line does not fit.
  enum Importance { rate, eta, percent, always };
  struct Part {
    std::string text;
    Importance importance;
  };
  std::vector<Part> parts;
  if (!snapshot.label.empty()) parts.push_back({std::string(snapshot.label), always});
  if (snapshot.total > 0) {
    parts.push_back(
        {format_progress_count(snapshot.done) + "/" + format_progress_count(snapshot.total),
         always});
    // Rounded down, so 100% means every item has settled.
    std::uint64_t pct =
        snapshot.done >= snapshot.total
            ? 100
            : std::min<std::uint64_t>(
                  99, static_cast<std::uint64_t>(100.0L * snapshot.done / snapshot.total));
    parts.push_back({fmt::format("{}%", pct), percent});
  } else {
    parts.push_back({format_progress_count(snapshot.done), always});
  }
  if (snapshot.rate) parts.push_back({format_progress_rate(*snapshot.rate), rate});
  if (snapshot.total > 0) {
    std::string eta = "ETA --";
    if (snapshot.done >= snapshot.total) {
      eta = "ETA 0s";
    } else if (snapshot.rate && *snapshot.rate > 0) {
      eta = "ETA " + format_progress_duration(static_cast<double>(snapshot.total - snapshot.done) /
                                              *snapshot.rate);
    }
    parts.push_back({std::move(eta), Importance::eta});
  }
  if (snapshot.failed > 0)
    parts.push_back({format_progress_count(snapshot.failed) + " failed", always});

  auto join = [&parts] {
    std::string line;
    for (const Part& part : parts) {
      if (!line.empty()) line += "  ";
      line += part.text;
    }
    return line;
  };
  std::string line = join();
  for (Importance drop : {rate, eta, percent}) {
    if (columns(line) <= max_width) return line;
    std::erase_if(parts, [drop](const Part& p) { return p.importance == drop; });
    line = join();
  }
  if (columns(line) > max_width) line = std::string(first_columns(line, max_width));
  return line;
}

ProgressBar::ProgressBar(std::FILE* out, ProgressMode mode, std::string label, std::uint64_t total,
                         double plain_interval_seconds)
    : out_(out),
      mode_(out == nullptr ? ProgressMode::quiet : mode),
      plain_interval_(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
          std::isfinite(plain_interval_seconds) ? std::max(plain_interval_seconds, 0.01) : 5.0))),
      start_(Clock::now()),
      total_(total),
      label_(printable(label)),
      samples_{{start_, 0}},
      plain_total_(total) {
  if (mode_ != ProgressMode::quiet) {
    thread_ = std::jthread([this](std::stop_token stop) { run(std::move(stop)); });
  }
}

ProgressBar::~ProgressBar() {
  finish();
}

void ProgressBar::set_total(std::uint64_t total) {
  total_.store(total, std::memory_order_relaxed);
}

void ProgressBar::set_label(std::string label) {
  std::string clean = printable(label);
  std::lock_guard lock(mutex_);
  label_ = std::move(clean);
}

void ProgressBar::item_done(bool ok) {
  (ok ? ok_ : failed_).fetch_add(1, std::memory_order_relaxed);
}

void ProgressBar::add_skipped(std::uint64_t n) {
  skipped_.fetch_add(n, std::memory_order_relaxed);
}

std::uint64_t ProgressBar::done() const {
  return ok_.load(std::memory_order_relaxed) + failed_.load(std::memory_order_relaxed) +
         skipped_.load(std::memory_order_relaxed);
}

std::uint64_t ProgressBar::failed() const {
  return failed_.load(std::memory_order_relaxed);
}

void ProgressBar::message(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  std::string text = printable(line);
  std::lock_guard lock(mutex_);
  if (mode_ == ProgressMode::live && !finished_) {
    std::string bar = render_locked(Clock::now());
    std::string bytes;
    bytes.reserve(text.size() + bar.size() + 16);
    bytes.append("\r").append(kClearToEnd).append(text).append("\n");
    bytes.append("\r").append(bar).append(kClearToEnd);
    write_locked(bytes);
    drawn_ = std::move(bar);
  } else {
    write_locked(text + '\n');
  }
}

void ProgressBar::finish() {
  std::call_once(finish_once_, [this] {
    thread_.request_stop();
    if (thread_.joinable()) thread_.join();
    std::lock_guard lock(mutex_);
    finished_ = true;
    if (mode_ == ProgressMode::live && !drawn_.empty()) {
      write_locked(std::string("\r").append(kClearToEnd));
      drawn_.clear();
    }
  });
}

std::string ProgressBar::render_line() const {
  std::lock_guard lock(mutex_);
  return render_locked(Clock::now());
}

void ProgressBar::run(std::stop_token stop) {
  const Clock::duration interval =
      mode_ == ProgressMode::live ? Clock::duration(kLiveInterval) : plain_interval_;
  std::unique_lock lock(mutex_);
  while (true) {
    // Each wait starts after the previous write, so plain lines are never closer than interval.
    wake_.wait_for(lock, stop, interval, [] { return false; });
    if (stop.stop_requested() || finished_) return;
    if (mode_ == ProgressMode::live) {
      redraw_locked();
      continue;
    }
    std::uint64_t done_now = done();
    std::uint64_t failed_now = failed();
    std::uint64_t total_now = total_.load(std::memory_order_relaxed);
    if (done_now == plain_done_ && failed_now == plain_failed_ && total_now == plain_total_) {
      continue;  // nothing new to say: a stalled run does not fill the log with copies
    }
    write_locked(render_locked(Clock::now()) + '\n');
    plain_done_ = done_now;
    plain_failed_ = failed_now;
    plain_total_ = total_now;
  }
}

std::string ProgressBar::render_locked(Clock::time_point now) const {
  std::uint64_t ok = ok_.load(std::memory_order_relaxed);
  std::uint64_t failed = failed_.load(std::memory_order_relaxed);
  std::uint64_t skipped = skipped_.load(std::memory_order_relaxed);
  ProgressSnapshot snapshot{.label = label_,
                            .done = ok + failed + skipped,
                            .total = total_.load(std::memory_order_relaxed),
                            .failed = failed,
                            .rate = rate_locked(now, ok + failed)};
  // One column short of the width: a line that fills the last column wraps on some terminals.
  std::size_t width = mode_ == ProgressMode::live
                          ? static_cast<std::size_t>(std::max(terminal_columns(out_) - 1, 1))
                          : std::string::npos;
  return format_progress_line(snapshot, width);
}

std::optional<double> ProgressBar::rate_locked(Clock::time_point now, std::uint64_t worked) const {
  if (now - samples_.back().when >= kRateStep) samples_.push_back({now, worked});
  // Keep the newest sample that is at least a window old as the base, drop the older ones.
  while (samples_.size() > 1 && now - samples_[1].when >= kRateWindow) samples_.pop_front();
  const RateSample& base = samples_.front();
  double span = std::chrono::duration<double>(now - base.when).count();
  if (span < kMinRateSpan || worked < base.worked) return std::nullopt;
  return static_cast<double>(worked - base.worked) / span;
}

void ProgressBar::redraw_locked() {
  std::string bar = render_locked(Clock::now());
  if (bar == drawn_) return;
  write_locked(std::string("\r").append(bar).append(kClearToEnd));
  drawn_ = std::move(bar);
}

void ProgressBar::write_locked(std::string_view bytes) {
  std::fwrite(bytes.data(), 1, bytes.size(), out_);
  std::fflush(out_);
}

}  // namespace thumbfetch
