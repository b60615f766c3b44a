#include "thumbfetch/cli/fetch_flags.hpp"

#include <cstdlib>

#include "thumbfetch/util/units.hpp"

namespace thumbfetch {

namespace {

double duration_option(const std::string& name, const std::string& text) {
  auto v = parse_duration_seconds(text);
  if (!v) throw CLI::ValidationError(name, v.error().message);
  return *v;
}

}  // namespace

void SourceFlags::add_to(CLI::App& command) {
  command.add_option("--urls", urls_file, "File with one URL per line ('-': standard input)");
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
      ->check(CLI::NonNegativeNumber)
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

void TransferFlags::add_to(CLI::App& command, bool with_strategy) {
  if (with_strategy) {
    command.add_option("--strategy", strategy, "serial, threads or async")->capture_default_str();
    command.add_option("-j,--jobs", jobs, "Transfers in flight (threads: worker threads)")
        ->check(CLI::Range(1, 4096))
        ->capture_default_str();
  }
  command.add_option("--per-host", per_host, "At most N requests in flight per host (0: no limit)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  command.add_option("--retries", retries, "Retries per image for transient failures")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  command.add_option("--connect-timeout", connect_timeout, "Time to connect")
      ->capture_default_str();
  command.add_option("--stall-timeout", stall_timeout, "Give up when no data comes for this long")
      ->capture_default_str();
  command.add_option("--timeout", timeout, "Total deadline per attempt")->capture_default_str();
  command.add_option("--retry-delay", retry_delay, "First backoff delay (doubles, with jitter)")
      ->capture_default_str();
  command.add_option("--retry-after-max", retry_after_max, "Cap on a server's Retry-After")
      ->capture_default_str();
  command.add_option("--max-bytes", max_bytes, "Largest image accepted (enforced while streaming)")
      ->capture_default_str();
  command.add_option("--cacert", ca_file, "Trust the CA certificates in this PEM file (as curl)")
      ->check(CLI::ExistingFile);
  command.add_flag("-k,--insecure", insecure, "Do not verify TLS certificates (as curl -k)");
}

FetchPolicy TransferFlags::to_policy() const {
  FetchPolicy p;
  p.connect_timeout = duration_option("--connect-timeout", connect_timeout);
  p.stall_timeout = duration_option("--stall-timeout", stall_timeout);
  p.total_timeout = duration_option("--timeout", timeout);
  p.retry_base = duration_option("--retry-delay", retry_delay);
  p.retry_after_cap = duration_option("--retry-after-max", retry_after_max);
  p.retries = retries;
  p.per_host = per_host;
  auto bytes = parse_byte_size(max_bytes);
  if (!bytes || *bytes == 0) {
    throw CLI::ValidationError("--max-bytes",
                               bytes ? "must be more than 0" : bytes.error().message);
  }
  p.max_bytes = *bytes;
  p.ca_file = ca_file;
  p.insecure = insecure;
  if (p.connect_timeout <= 0 || p.stall_timeout <= 0 || p.total_timeout <= 0) {
    throw CLI::ValidationError("timeouts", "must be more than 0");
  }
  return p;
}

FetchStrategyKind TransferFlags::to_strategy() const {
  const auto kind = parse_fetch_strategy(strategy);
  if (!kind) throw CLI::ValidationError("--strategy", kind.error().message);
  return *kind;
}

}  // namespace thumbfetch
