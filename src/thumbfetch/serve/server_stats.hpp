#pragma once
// What the test server has seen, for tests that count requests ("each URL fetched exactly
// once") and connections.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace thumbfetch {

struct ServerStats {
  std::uint64_t total_requests = 0;  // every parsed request, any route or method
  std::map<std::string, std::uint64_t, std::less<>> get_counts;  // GETs per path, query stripped
  std::uint64_t connections_accepted = 0;
  std::uint64_t max_concurrent_connections = 0;
  std::uint64_t current_connections = 0;
  // Connections answered 503 and closed at once because the process was out of descriptors.
  std::uint64_t connections_refused = 0;

  // GETs of `path` ("/img/img_0001.jpg"); 0 when never requested.
  std::uint64_t get_count(std::string_view path) const {
    auto it = get_counts.find(path);
    return it == get_counts.end() ? 0 : it->second;
  }
};

}  // namespace thumbfetch
