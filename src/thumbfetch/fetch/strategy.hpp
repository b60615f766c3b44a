#pragma once
// One interface, three ways to download a list of URLs. Every strategy applies the same transfer
// policy, returns one result per item in item order and writes the same files: only time differs.

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "thumbfetch/fetch/types.hpp"

namespace thumbfetch {

enum class FetchStrategyKind { serial, threads, async };

Result<FetchStrategyKind> parse_fetch_strategy(std::string_view text);
std::string_view to_string(FetchStrategyKind kind);

// Called as each item settles, one call at a time (from whichever thread settled it).
using FetchProgress = std::function<void(size_t index, const FetchResult&)>;

class FetchStrategy {
 public:
  virtual ~FetchStrategy() = default;
  virtual std::string_view name() const = 0;
  // Fetches every item; results[i] belongs to items[i]. When cancelled, items never started come
  // back with attempts == 0 and are not passed to `progress`. Throws only when it cannot run.
  virtual std::vector<FetchResult> run(const std::vector<FetchItem>& items,
                                       const FetchProgress& progress) = 0;
};

std::unique_ptr<FetchStrategy> make_serial_fetch(const FetchRunConfig& config);
std::unique_ptr<FetchStrategy> make_thread_fetch(const FetchRunConfig& config);
std::unique_ptr<FetchStrategy> make_async_fetch(const FetchRunConfig& config);
std::unique_ptr<FetchStrategy> make_fetch_strategy(FetchStrategyKind kind,
                                                   const FetchRunConfig& config);

}  // namespace thumbfetch
