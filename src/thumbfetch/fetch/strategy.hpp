#pragma once
// One interface, three ways to download a list of URLs. Every strategy applies the same transfer
// policy, reports one result per item and writes the same files: only time differs. Items are
// pulled from a feed as the strategy has room for them and results go out as they settle, so a
// strategy holds only what is in flight, never the list (a list of millions costs no memory).

#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "thumbfetch/fetch/types.hpp"

namespace thumbfetch {

enum class FetchStrategyKind { serial, threads, async };

Result<FetchStrategyKind> parse_fetch_strategy(std::string_view text);
std::string_view to_string(FetchStrategyKind kind);

// Called as each item settles, one call at a time (from whichever thread settled it).
using FetchProgress = std::function<void(size_t index, const FetchResult&)>;

// The items of a run, handed out one at a time in list order. A strategy numbers them 0, 1, 2...
// in the order it takes them; `progress` gets that number.
class FetchFeed {
 public:
  virtual ~FetchFeed() = default;
  // The next item, or nullopt when there is none left. Called one call at a time (a strategy
  // with several threads serialises its calls).
  virtual std::optional<FetchItem> next() = 0;
  // How many items are left, when known (a strategy may size itself by it).
  virtual std::optional<size_t> size_hint() const { return std::nullopt; }
};

// A feed over items in hand (tests, small lists).
class VectorFeed final : public FetchFeed {
 public:
  explicit VectorFeed(const std::vector<FetchItem>& items) : items_(items) {}
  std::optional<FetchItem> next() override {
    if (next_ >= items_.size()) return std::nullopt;
    return items_[next_++];
  }
  std::optional<size_t> size_hint() const override { return items_.size() - next_; }

 private:
  const std::vector<FetchItem>& items_;
  size_t next_ = 0;
};

class FetchStrategy {
 public:
  virtual ~FetchStrategy() = default;
  virtual std::string_view name() const = 0;
  // Fetches every item the feed gives, passing each outcome to `progress` as it settles. When
  // cancelled it stops taking items; items taken but never started are not passed to
  // `progress`. Throws only when it cannot run.
  virtual void run(FetchFeed& feed, const FetchProgress& progress) = 0;
};

// Runs `items` through `strategy`; results[i] belongs to items[i], an item never started comes
// back with attempts == 0 (FetchResult::not_started()).
std::vector<FetchResult> fetch_all(FetchStrategy& strategy, const std::vector<FetchItem>& items,
                                   const FetchProgress& progress = {});

std::unique_ptr<FetchStrategy> make_serial_fetch(const FetchRunConfig& config);
std::unique_ptr<FetchStrategy> make_thread_fetch(const FetchRunConfig& config);
std::unique_ptr<FetchStrategy> make_async_fetch(const FetchRunConfig& config);
std::unique_ptr<FetchStrategy> make_fetch_strategy(FetchStrategyKind kind,
                                                   const FetchRunConfig& config);

}  // namespace thumbfetch
