#include "thumbfetch/cli/fetch_flags.hpp"

#include <cstdlib>

#include <fmt/format.h>

#include <limits>

#include "thumbfetch/cli/checks.hpp"
#include "thumbfetch/util/units.hpp"

namespace thumbfetch {

void SourceFlags::add_to(CLI::App& command) {
  command_ = &command;
  command.add_option("-i,--urls", urls_file, "File with one URL per line ('-': standard input)");
  command.add_flag("--imgur", imgur, "Collect links from the Imgur API v3 gallery");
  command.add_option("--imgur-client-id", imgur_client_id,
                     "Imgur Client-ID (default: $IMGUR_CLIENT_ID; never printed in full)");
  command.add_option("--imgur-section", imgur_section, "hot, top or user")->capture_default_str();
  command.add_option("--imgur-sort", imgur_sort, "viral, top, time or rising")
      ->capture_default_str();
  command.add_option("--imgur-window", imgur_window, "day, week, month, year or all")
      ->capture_default_str();
  command.add_option("--imgur-api", imgur_api, "Imgur API base URL")->capture_default_str();
  command.add_flag("--imgur-animated", imgur_animated, "Keep animated GIFs too");
  command.add_flag("--imgur-nsfw", imgur_nsfw, "Keep items flagged NSFW too");
  command.add_option("-n,--count", count, "At most N images (0: all)")
      ->check(not_negative("all"))
      ->capture_default_str();
}

LinkSource SourceFlags::to_source() const {
  LinkSource s;
  s.urls_file = urls_file;
  s.imgur = imgur;
  s.count = count;
  ImgurQuery& q = s.imgur_query;
  q.api_base = imgur_api;
  const char* env_id = std::getenv("IMGUR_CLIENT_ID");
  q.client_id = !imgur_client_id.empty() ? imgur_client_id : env_id ? env_id : "";
  q.section = imgur_section;
  q.sort = imgur_sort;
  q.window = imgur_window;
  q.animated = imgur_animated;
  q.nsfw = imgur_nsfw;
  return s;
}

void SourceFlags::warn_ineffective() const {
  if (command_ == nullptr || urls_file.empty()) return;
  for (const char* flag : {"--imgur-client-id", "--imgur-section", "--imgur-sort", "--imgur-window",
                           "--imgur-api", "--imgur-animated", "--imgur-nsfw"}) {
    if (given(*command_, flag)) {
      warn_usage(std::string(flag) + " has no effect with --urls (it applies to --imgur)");
    }
  }
}

void TransferFlags::add_to(CLI::App& command, bool with_strategy) {
  command_ = &command;
  if (with_strategy) {
    command.add_option("--strategy", strategy, "serial, threads or async")->capture_default_str();
    command.add_option("-j,--jobs", jobs, "Transfers in flight (threads: worker threads)")
        ->check(whole_range(1, 4096))
        ->capture_default_str();
  }
  command.add_option("--per-host", per_host, "At most N requests in flight per host (0: no limit)")
      ->check(not_negative("no limit"))
      ->capture_default_str();
  command.add_option("--retries", retries, "Retries per image for transient failures")
      ->check(whole_range(0, 100))
      ->capture_default_str();
  command
      .add_option("--connect-timeout", connect_timeout, "Time to connect (30 = seconds, 5s, 2m)")
      ->capture_default_str();
  command.add_option("--stall-timeout", stall_timeout, "Give up when no data comes for this long")
      ->capture_default_str();
  command.add_option("--timeout", timeout, "Total deadline per attempt (0: no limit)")
      ->capture_default_str();
  command.add_option("--retry-delay", retry_delay, "First backoff delay (doubles, with jitter)")
      ->capture_default_str();
  command.add_option("--retry-after-max", retry_after_max, "Cap on a server's Retry-After")
      ->capture_default_str();
  command
      .add_option("--max-bytes", max_bytes,
                  "Largest image accepted, enforced while streaming: 50MB, 2G (0: no limit)")
      ->capture_default_str();
  command.add_option("--cacert", ca_file, "Trust the CA certificates in this PEM file (as curl)")
      ->check(CLI::ExistingFile);
  command.add_flag("-k,--insecure", insecure, "Do not verify TLS certificates (as curl -k)");
  // Issue 10: what each request says and where it goes.
  command.add_option("--user-agent", user_agent, "User-Agent header of every request")
      ->capture_default_str();
  command.add_option("-H,--header", headers,
                     "Extra request header 'Name: value' (repeatable; 'Name:' removes one)");
  command
      .add_option("--rate", rate,
                  "Request starts per host, retries included: 10/s, 600/m, 1/h (0: no limit)")
      ->capture_default_str();
  command.add_option("--proxy", proxy,
                     "Proxy, as libcurl takes it (http://host:port, socks5h://host:port); "
                     "default: libcurl's, from $http_proxy/$https_proxy");
}

FetchPolicy TransferFlags::to_policy() const {
  FetchPolicy p;
  p.connect_timeout = duration_flag("--connect-timeout", connect_timeout, ZeroAllowed::no);
  p.stall_timeout = duration_flag("--stall-timeout", stall_timeout, ZeroAllowed::no);
  p.total_timeout = duration_flag("--timeout", timeout, ZeroAllowed::yes);  // libcurl: 0 = none
  p.retry_base = duration_flag("--retry-delay", retry_delay, ZeroAllowed::yes);
  p.retry_after_cap = duration_flag("--retry-after-max", retry_after_max, ZeroAllowed::yes);
  p.retries = retries;
  p.per_host = per_host;
  auto bytes = parse_byte_size(max_bytes);
  if (!bytes) throw CLI::ValidationError("--max-bytes", bytes.error().message);
  // 0: no limit. The largest size libcurl's curl_off_t holds, so no image is ever above it.
  p.max_bytes = *bytes > 0 ? *bytes : std::numeric_limits<std::int64_t>::max();
  p.ca_file = ca_file;
  p.insecure = insecure;
  // Issue 10: what each request says and where it goes.
  p.user_agent = user_agent;
  for (const std::string& h : headers) {
    const auto colon = h.find(':');
    if (colon == std::string::npos || colon == 0 || h.find_first_of("\r\n") != std::string::npos) {
      throw CLI::ValidationError("--header", "expected 'Name: value', got '" + h + "'");
    }
  }
  p.headers = headers;
  p.proxy = proxy;
  auto per_second = parse_rate_per_second(rate);
  if (!per_second) throw CLI::ValidationError("--rate", per_second.error().message);
  p.rate_per_host = *per_second;
  return p;
}

FetchStrategyKind TransferFlags::to_strategy() const {
  const auto kind = parse_fetch_strategy(strategy);
  if (!kind) throw CLI::ValidationError("--strategy", kind.error().message);
  return *kind;
}

void TransferFlags::warn_ineffective() const {
  if (command_ == nullptr) return;
  if (strategy == "serial") {
    if (jobs != 1 && given(*command_, "--jobs")) {
      warn_usage(
          fmt::format("-j {} has no effect with --strategy serial (one transfer at a time)", jobs));
    }
    if (given(*command_, "--per-host")) {
      warn_usage("--per-host has no effect with --strategy serial (one transfer at a time)");
    }
  }
  if (retries == 0 && given(*command_, "--retry-delay")) {
    warn_usage("--retry-delay has no effect with --retries 0");
  }
}

}  // namespace thumbfetch
