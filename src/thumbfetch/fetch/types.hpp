#pragma once
// What a download run is made of: the items to fetch, the policy every transfer follows, and one
// result per item as a value that a report, the manifest and the summary line aggregate.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "thumbfetch/util/error.hpp"

namespace thumbfetch {

// The transfer policy shared by every strategy (see transfer.hpp for how it is applied).
struct FetchPolicy {
  double connect_timeout = 10;  // seconds to connect (TCP + TLS)
  double stall_timeout = 30;    // seconds with less than 1 byte/s before giving up
  double total_timeout = 300;   // seconds one attempt may take in all (its deadline)
  int retries = 3;              // extra attempts after the first, for transient failures
  double retry_base = 0.5;      // first backoff in seconds, doubled per retry, jittered
  double retry_max_delay = 30;  // backoff ceiling
  double retry_after_cap = 60;  // a server's Retry-After is honoured up to this many seconds
  std::uint64_t max_bytes = 50ull * 1000 * 1000;  // per image, enforced while streaming
  int per_host = 0;          // requests in flight per host; 0: only the concurrency limit
  double rate_per_host = 0;  // requests started per second per host (--rate); 0: no limit
  std::string user_agent = "thumbfetch/0.1";
  // TLS as curl does it: peers verified against the system's CAs, or only those of ca_file
  // (--cacert); `insecure` (--insecure, -k) skips the check.
  std::string ca_file;
  bool insecure = false;
  std::vector<std::string> headers;  // extra request headers, "Name: value" (curl's -H)
  std::string proxy;                 // CURLOPT_PROXY; "" leaves libcurl's default (env)
};

// What the source said of an item, kept in the manifest as the API gave it (Imgur: id, title,
// album id, type, width, height). Empty for a URL list.
struct ItemMeta {
  std::string id, title, album_id, type;
  int width = 0, height = 0;
  bool empty() const { return id.empty(); }
};

// One URL to fetch and the file name stem planned for it (safe, unique in the run).
struct FetchItem {
  std::string url;
  std::string stem;
};

struct FetchResult {
  enum class State { ok, failed, skipped };
  State state = State::failed;
  std::filesystem::path file;  // the final file (ok, skipped)
  long http_code = 0;          // of the last attempt (0: no HTTP answer)
  std::uint64_t bytes = 0;
  std::string content_type;  // as the server announced it
  std::string sha256;        // of the saved bytes
  int attempts = 0;          // 0: never started (interrupted before its turn)
  double seconds = 0;        // from the first attempt to the outcome, backoff included
  Error error;               // failed only

  bool ok() const { return state == State::ok; }
  // Interrupted before its first attempt: not reported, not in the manifest.
  bool not_started() const { return state == State::failed && attempts == 0; }
};

struct FetchRunConfig {
  std::filesystem::path out_dir;
  FetchPolicy policy;
  int concurrency = 16;  // transfers in flight (threads: worker count)
  int loops = 0;         // async: event loops (0: one per core, up to 4, fewer for a short list)
  const std::atomic<bool>* cancel = nullptr;  // set: stop starting, abort what is in flight
};

inline bool is_cancelled(const FetchRunConfig& config) {
  return config.cancel != nullptr && config.cancel->load(std::memory_order_relaxed);
}

}  // namespace thumbfetch
