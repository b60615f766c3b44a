#include "thumbfetch/fetch/strategy.hpp"

#include <string>

namespace thumbfetch {

Result<FetchStrategyKind> parse_fetch_strategy(std::string_view text) {
  if (text == "serial") return FetchStrategyKind::serial;
  if (text == "threads") return FetchStrategyKind::threads;
  if (text == "async") return FetchStrategyKind::async;
  return make_error(ErrorKind::refused, "invalid strategy '" + std::string(text) +
                                            "': expected serial, threads or async");
}

std::string_view to_string(FetchStrategyKind kind) {
  switch (kind) {
    case FetchStrategyKind::serial:
      return "serial";
    case FetchStrategyKind::threads:
      return "threads";
    case FetchStrategyKind::async:
      return "async";
  }
  return "serial";
}

std::vector<FetchResult> fetch_all(FetchStrategy& strategy, const std::vector<FetchItem>& items,
                                   const FetchProgress& progress) {
  std::vector<FetchResult> results(items.size());
  VectorFeed feed(items);
  strategy.run(feed, [&](size_t index, const FetchResult& r) {
    results[index] = r;
    if (progress) progress(index, r);
  });
  return results;
}

std::unique_ptr<FetchStrategy> make_fetch_strategy(FetchStrategyKind kind,
                                                   const FetchRunConfig& config) {
  switch (kind) {
    case FetchStrategyKind::serial:
      return make_serial_fetch(config);
    case FetchStrategyKind::threads:
      return make_thread_fetch(config);
    case FetchStrategyKind::async:
      return make_async_fetch(config);
  }
  return make_serial_fetch(config);
}

}  // namespace thumbfetch
