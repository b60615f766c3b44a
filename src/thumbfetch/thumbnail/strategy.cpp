#include "thumbfetch/thumbnail/strategy.hpp"

namespace thumbfetch {

Result<ThumbStrategyKind> parse_thumb_strategy(std::string_view text) {
  if (text == "serial") return ThumbStrategyKind::serial;
  if (text == "threads") return ThumbStrategyKind::threads;
  if (text == "processes") return ThumbStrategyKind::processes;
  return make_error(ErrorKind::refused, "invalid strategy '" + std::string(text) +
                                            "': expected serial, threads or processes");
}

std::string_view to_string(ThumbStrategyKind kind) {
  switch (kind) {
    case ThumbStrategyKind::serial:
      return "serial";
    case ThumbStrategyKind::threads:
      return "threads";
    case ThumbStrategyKind::processes:
      return "processes";
  }
  return "serial";
}

ThumbResult not_started() {
  ThumbResult r;
  r.error = make_error(ErrorKind::cancelled, "not started: the run was interrupted");
  return r;
}

std::unique_ptr<ThumbStrategy> make_thumb_strategy(ThumbStrategyKind kind,
                                                   const ThumbRunConfig& config) {
  switch (kind) {
    case ThumbStrategyKind::serial:
      return make_serial_strategy(config);
    case ThumbStrategyKind::threads:
      return make_thread_strategy(config);
    case ThumbStrategyKind::processes:
      return make_process_strategy(config);
  }
  return make_serial_strategy(config);
}

}  // namespace thumbfetch
