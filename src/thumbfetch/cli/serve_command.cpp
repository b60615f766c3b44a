// `thumbfetch serve`: the test and demo HTTP server (see serve/image_server.hpp). Prints
// `listening on http://127.0.0.1:PORT` as its first stdout line, flushed, so scripts can parse
// it, then serves until SIGINT or SIGTERM and exits 0.
#include <signal.h>

#include <cstdio>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "thumbfetch/cli/cli.hpp"
#include "thumbfetch/serve/image_server.hpp"
#include "thumbfetch/util/fd_limit.hpp"

namespace thumbfetch {

void add_serve_command(CLI::App& app, CliContext& context) {
  auto config = std::make_shared<ServeConfig>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "Serve images over HTTP on 127.0.0.1 with latency, limits and injected faults");
  auto* dir = cmd->add_option("--dir", config->dir, "Serve the files in this folder");
  auto* generate =
      cmd->add_option("--generate", config->generate, "Serve N generated images img_0000.jpg ...")
          ->check(CLI::Range(1, 1'000'000));
  dir->excludes(generate);
  generate->excludes(dir);
  cmd->add_option("--host", config->host, "IPv4 address to bind")->capture_default_str();
  cmd->add_option("--port", config->port, "Port (0 picks a free one)")->capture_default_str();
  cmd->add_option("--latency", config->latency_ms, "Milliseconds before each response")
      ->check(CLI::Range(0, 600'000));
  cmd->add_option("--jitter", config->jitter_ms, "Plus up to this many milliseconds")
      ->check(CLI::Range(0, 600'000));
  cmd->add_option("--bandwidth", config->bandwidth_kbps, "KiB/s per connection (0 = unlimited)")
      ->check(CLI::Range(0, 10'000'000));
  auto rate = [cmd](const char* flag, double& value, const char* what) {
    cmd->add_option(flag, value, what)->check(CLI::Range(0.0, 1.0));
  };
  rate("--rate-500", config->rate_500, "Fraction of /img/ requests answered 500");
  rate("--rate-503", config->rate_503, "Fraction answered 503");
  rate("--rate-429", config->rate_429, "Fraction answered 429 with Retry-After");
  rate("--rate-truncate", config->rate_truncate, "Fraction with a truncated body");
  rate("--rate-stall", config->rate_stall, "Fraction that stall after a few bytes");
  rate("--rate-html", config->rate_html, "Fraction answered with an HTML page as image/jpeg");
  rate("--rate-wrong-type", config->rate_wrong_type, "Fraction served as text/html");
  rate("--rate-redirect", config->rate_redirect, "Fraction redirected (302) once");
  cmd->add_option("--rate-limit", config->rate_limit_per_s,
                  "Requests per second on /img/ before 429 (0 = no limit)")
      ->check(CLI::Range(0.0, 1e9));
  cmd->add_option("--seed", config->seed, "Seed of the random faults and generated images")
      ->capture_default_str();
  cmd->add_option("--imgur-client-id", config->imgur_client_id,
                  "Client-ID the Imgur API look-alike accepts")
      ->capture_default_str();
  cmd->add_option("--imgur-pages", config->imgur_pages, "Non-empty gallery pages")
      ->check(CLI::Range(0, 10'000))
      ->capture_default_str();
  cmd->add_option("--imgur-per-page", config->imgur_per_page, "Items per gallery page")
      ->check(CLI::Range(1, 1'000))
      ->capture_default_str();
  cmd->add_option("--imgur-rate-limit", config->imgur_rate_limit,
                  "API requests answered before 429")
      ->capture_default_str();

  cmd->callback([config, &context] {
    if (config->dir.empty() && config->generate == 0) {
      throw CLI::ValidationError("serve", "give --dir DIR or --generate N");
    }
    config->spec.seed = config->seed;
    // Block the stop signals before any thread exists, so every thread inherits the mask and
    // this one alone receives them with sigwait: no async-signal-safety puzzles.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    // Each connection is a descriptor: take what the hard limit allows (beyond it, a 503).
    raise_open_file_limit();
    ImageServer server(*config);
    server.start_in_thread();
    fmt::print("listening on {}\n", server.base_url());
    std::fflush(stdout);
    fmt::print(stderr, "{} images, {}/list.txt, Imgur API at {}/3/gallery/hot/viral/day/0\n",
               server.image_names().size(), server.base_url(), server.base_url());
    int received = 0;
    sigwait(&signals, &received);
    server.stop();
    context.exit_code = kExitOk;
  });
}

}  // namespace thumbfetch
