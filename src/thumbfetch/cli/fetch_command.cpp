// `thumbfetch fetch (--urls FILE | --imgur) -o DIR`: collect image links, download them with a
// chosen strategy under one transfer policy, keep a manifest that lets a re-run resume, print a
// line per failure and a summary. Ctrl-C stops cleanly (exit 130) with the manifest written.
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <set>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "thumbfetch/cli/cli.hpp"
#include "thumbfetch/fetch/manifest.hpp"
#include "thumbfetch/fetch/naming.hpp"
#include "thumbfetch/fetch/strategy.hpp"
#include "thumbfetch/fetch/transfer.hpp"
#include "thumbfetch/report/tally.hpp"
#include "thumbfetch/source/imgur.hpp"
#include "thumbfetch/source/url_list.hpp"
#include "thumbfetch/util/atomic_file.hpp"
#include "thumbfetch/util/interrupt.hpp"
#include "thumbfetch/util/stopwatch.hpp"
#include "thumbfetch/util/strings.hpp"
#include "thumbfetch/util/units.hpp"

namespace thumbfetch {

namespace fs = std::filesystem;

namespace {

struct FetchArgs {
  std::string urls_file;
  bool imgur = false;
  std::string imgur_client_id;
  std::string imgur_section = "hot";
  std::string imgur_sort = "viral";
  std::string imgur_window = "day";
  std::string imgur_api = "https://api.imgur.com";
  bool imgur_animated = false;
  bool imgur_nsfw = false;
  int count = 0;
  fs::path out_dir;
  std::string strategy = "async";
  int jobs = 16;
  int per_host = 0;
  int retries = 3;
  std::string connect_timeout = "10s";
  std::string stall_timeout = "30s";
  std::string timeout = "5m";
  std::string retry_delay = "500ms";
  std::string retry_after_max = "60s";
  std::string max_bytes = "50MB";
  bool quiet = false;
};

double duration_option(const std::string& name, const std::string& text) {
  auto v = parse_duration_seconds(text);
  if (!v) throw CLI::ValidationError(name, v.error().message);
  return *v;
}

FetchPolicy policy_from(const FetchArgs& a) {
  FetchPolicy p;
  p.connect_timeout = duration_option("--connect-timeout", a.connect_timeout);
  p.stall_timeout = duration_option("--stall-timeout", a.stall_timeout);
  p.total_timeout = duration_option("--timeout", a.timeout);
  p.retry_base = duration_option("--retry-delay", a.retry_delay);
  p.retry_after_cap = duration_option("--retry-after-max", a.retry_after_max);
  p.retries = a.retries;
  p.per_host = a.per_host;
  auto bytes = parse_byte_size(a.max_bytes);
  if (!bytes || *bytes == 0) {
    throw CLI::ValidationError("--max-bytes",
                               bytes ? "must be more than 0" : bytes.error().message);
  }
  p.max_bytes = *bytes;
  if (p.connect_timeout <= 0 || p.stall_timeout <= 0 || p.total_timeout <= 0) {
    throw CLI::ValidationError("timeouts", "must be more than 0");
  }
  return p;
}

// The links to fetch, in order. Problems with single lines are printed and counted in `tally`.
std::vector<std::string> collect_links(const FetchArgs& a, const FetchPolicy& policy,
                                       Tally& tally) {
  std::vector<std::string> links;
  if (!a.urls_file.empty()) {
    auto list = read_url_list(a.urls_file);
    if (!list) throw std::runtime_error(list.error().message);
    for (const auto& bad : list->invalid) {
      fmt::print(stderr, "{}: {} (line {})\n", bad.text, bad.reason, bad.line);
      tally.add_failure(ErrorKind::refused);
    }
    links = std::move(list->urls);
    if (a.count > 0 && static_cast<int>(links.size()) > a.count) links.resize(a.count);
    return links;
  }
  ImgurQuery q;
  q.api_base = a.imgur_api;
  q.client_id = !a.imgur_client_id.empty()                  ? a.imgur_client_id
                : std::getenv("IMGUR_CLIENT_ID") != nullptr ? std::getenv("IMGUR_CLIENT_ID")
                                                            : "";
  q.section = a.imgur_section;
  q.sort = a.imgur_sort;
  q.window = a.imgur_window;
  q.limit = a.count;
  q.animated = a.imgur_animated;
  q.nsfw = a.imgur_nsfw;
  q.policy = policy;
  q.cancel = &interrupt_flag();
  if (auto st = validate_imgur_query(q); !st)
    throw CLI::ValidationError("--imgur", st.error().message);
  if (!a.quiet) {
    fmt::print("Imgur: collecting links from {}/3/gallery/{}/{}/{} (Client-ID {})\n", q.api_base,
               q.section, q.sort, q.window, mask_secret(q.client_id));
  }
  ImgurLinks got = collect_imgur_links(q);
  if (got.limit_reached) fmt::print(stderr, "{}\n", got.limit_message);
  if (got.error) {
    fmt::print(stderr, "{}\n", got.error->message);
    if (got.links.empty()) throw std::runtime_error("no links collected from the Imgur API");
  }
  if (!a.quiet) {
    fmt::print("Imgur: {} links in {} API requests\n", got.links.size(), got.requests);
  }
  return std::move(got.links);
}

int run_fetch(const FetchArgs& a) {
  if (a.urls_file.empty() == !a.imgur) {
    throw CLI::ValidationError("SOURCE", "give exactly one source: --urls FILE|- or --imgur");
  }
  const auto kind = parse_fetch_strategy(a.strategy);
  if (!kind) throw CLI::ValidationError("--strategy", kind.error().message);
  const FetchPolicy policy = policy_from(a);

  CurlGlobal curl;  // before any thread starts
  std::error_code ec;
  fs::create_directories(a.out_dir, ec);
  if (!fs::is_directory(a.out_dir)) {
    throw std::runtime_error(
        fmt::format("cannot create the output folder {}: {}", a.out_dir.string(), ec.message()));
  }
  remove_stale_temp_files(a.out_dir);
  InterruptGuard interrupt_guard;
  interrupt_flag().store(false);

  Tally tally;
  const std::vector<std::string> links = collect_links(a, policy, tally);

  // Resume: a URL whose completed file is still there is not fetched again.
  const std::vector<ManifestRow> previous = load_manifest(a.out_dir);
  std::unordered_map<std::string_view, const ManifestRow*> previous_by_url;
  for (const auto& row : previous) previous_by_url[row.url] = &row;
  // Views into `links`: a run of 100,000 URLs keeps one copy of each.
  const std::unordered_set<std::string_view> wanted(links.begin(), links.end());
  std::set<std::string> taken;  // names other URLs already own in this folder
  for (const auto& row : previous) {
    if (!wanted.contains(row.url) && !row.file.empty()) {
      taken.insert(ascii_lower(fs::path(row.file).stem().string()));
    }
  }
  const std::vector<std::string> stems = plan_stems(links, taken);

  std::vector<FetchResult> results(links.size());
  std::vector<FetchItem> todo;
  std::vector<size_t> todo_index;
  for (size_t i = 0; i < links.size(); ++i) {
    auto it = previous_by_url.find(links[i]);
    if (it != previous_by_url.end() && row_is_complete_on_disk(*it->second, a.out_dir)) {
      results[i] = skipped_result(*it->second, a.out_dir);
      tally.add_skipped();
      continue;
    }
    todo.push_back({links[i], stems[i]});
    todo_index.push_back(i);
  }

  FetchRunConfig config;
  config.out_dir = a.out_dir;
  config.policy = policy;
  config.concurrency = *kind == FetchStrategyKind::serial ? 1 : a.jobs;
  config.cancel = &interrupt_flag();
  auto strategy = make_fetch_strategy(*kind, config);
  if (!a.quiet) {
    fmt::print("fetching {} of {} links into {} ({} x{}{})\n", todo.size(), links.size(),
               a.out_dir.string(), strategy->name(), config.concurrency,
               policy.per_host > 0 ? fmt::format(", {} per host", policy.per_host) : "");
    std::fflush(stdout);
  }

  ManifestWriter manifest(a.out_dir);
  Stopwatch clock;
  std::uint64_t bytes_fetched = 0;
  auto on_settled = [&](size_t k, const FetchResult& r) {
    if (r.state == FetchResult::State::failed && r.error.kind != ErrorKind::cancelled) {
      fmt::print(stderr, "{}: {}\n", todo[k].url, r.error.message);
    }
    manifest.append(manifest_row(todo[k].url, r));
  };
  std::vector<FetchResult> done = strategy->run(todo, on_settled);
  const TimeSpent time = clock.elapsed();

  int not_started = 0;
  for (size_t k = 0; k < done.size(); ++k) {
    FetchResult& r = done[k];
    if (r.not_started())
      ++not_started;
    else if (r.ok()) {
      tally.add_ok();
      bytes_fetched += r.bytes;
    } else {
      tally.add_failure(r.error.kind);
    }
    results[todo_index[k]] = std::move(r);
  }

  // The manifest, compacted: rows for URLs outside this run first, then this run's in order.
  auto all_rows = [&](const ManifestWriter::RowSink& sink) {
    for (const auto& row : previous) {
      if (!wanted.contains(row.url)) sink(row);
    }
    for (size_t i = 0; i < links.size(); ++i) {
      if (results[i].not_started()) {
        // Interrupted before its turn: keep what an earlier run knew, else nothing.
        if (auto it = previous_by_url.find(links[i]); it != previous_by_url.end()) {
          sink(*it->second);
        }
        continue;
      }
      sink(manifest_row(links[i], results[i]));
    }
  };
  if (auto st = manifest.rewrite(all_rows); !st) {
    fmt::print(stderr, "thumbfetch: cannot write the manifest: {}\n", st.error().message);
  }

  const bool interrupted = interrupt_flag().load();
  if (!a.quiet || interrupted || tally.failed > 0) {
    fmt::print("{} in {:.2f} s ({:.0f} images/s, {:.1f} MB/s, {} x{}, cpu {:.2f} s)\n",
               tally.summary(), time.wall, time.wall > 0 ? tally.ok / time.wall : 0.0,
               time.wall > 0 ? bytes_fetched / 1e6 / time.wall : 0.0, strategy->name(),
               config.concurrency, time.cpu());
  }
  if (interrupted) {
    fmt::print(stderr, "interrupted: {} links not started; manifest written to {}\n", not_started,
               (a.out_dir / kManifestName).string());
    return kExitInterrupted;
  }
  return tally.failed > 0 ? kExitSomeFailed : kExitOk;
}

}  // namespace

void add_fetch_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<FetchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "fetch", "Download images from a URL list or the Imgur API (serial, threads or async)");
  cmd->add_option("--urls", a->urls_file, "File with one URL per line ('-': standard input)");
  cmd->add_flag("--imgur", a->imgur, "Collect links from the Imgur API v3 gallery");
  cmd->add_option("--imgur-client-id", a->imgur_client_id,
                  "Imgur Client-ID (default: $IMGUR_CLIENT_ID; never printed in full)");
  cmd->add_option("--imgur-section", a->imgur_section, "hot, top or user")->capture_default_str();
  cmd->add_option("--imgur-sort", a->imgur_sort, "viral, top, time or rising")
      ->capture_default_str();
  cmd->add_option("--imgur-window", a->imgur_window, "day, week, month, year or all")
      ->capture_default_str();
  cmd->add_option("--imgur-api", a->imgur_api, "Imgur API base URL")->capture_default_str();
  cmd->add_flag("--imgur-animated", a->imgur_animated, "Keep animated GIFs too");
  cmd->add_flag("--imgur-nsfw", a->imgur_nsfw, "Keep items flagged NSFW too");
  cmd->add_option("-n,--count", a->count, "At most N images (0: all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("-o,--output", a->out_dir, "Output folder (created when missing)")->required();
  cmd->add_option("--strategy", a->strategy, "serial, threads or async")->capture_default_str();
  cmd->add_option("-j,--jobs", a->jobs, "Transfers in flight (threads: worker threads)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_option("--per-host", a->per_host, "At most N requests in flight per host (0: no limit)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--retries", a->retries, "Retries per image for transient failures")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  cmd->add_option("--connect-timeout", a->connect_timeout, "Time to connect")
      ->capture_default_str();
  cmd->add_option("--stall-timeout", a->stall_timeout, "Give up when no data comes for this long")
      ->capture_default_str();
  cmd->add_option("--timeout", a->timeout, "Total deadline per attempt")->capture_default_str();
  cmd->add_option("--retry-delay", a->retry_delay, "First backoff delay (doubles, with jitter)")
      ->capture_default_str();
  cmd->add_option("--retry-after-max", a->retry_after_max, "Cap on a server's Retry-After")
      ->capture_default_str();
  cmd->add_option("--max-bytes", a->max_bytes, "Largest image accepted (enforced while streaming)")
      ->capture_default_str();
  cmd->add_flag("-q,--quiet", a->quiet, "Only failures and, when some failed, the summary");
  cmd->callback([a, &exit_code] { exit_code = run_fetch(*a); });
}

}  // namespace thumbfetch
