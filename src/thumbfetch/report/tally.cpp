#include "thumbfetch/report/tally.hpp"

#include <fmt/format.h>

namespace thumbfetch {

std::string Tally::summary() const {
  std::string line = fmt::format("{} ok, {} failed, {} skipped", ok, failed, skipped);
  if (!failures.empty()) {
    std::string kinds;
    for (const auto& [kind, count] : failures) {
      kinds += fmt::format("{}{} {}", kinds.empty() ? "" : ", ", count, to_string(kind));
    }
    line += " (" + kinds + ")";
  }
  if (not_started > 0) line += fmt::format(", {} not started", not_started);
  return line;
}

}  // namespace thumbfetch
