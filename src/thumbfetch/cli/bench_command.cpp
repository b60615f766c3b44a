// `thumbfetch bench SOURCE`: flags -> run_bench -> the comparison table (and a report folder).
#include <memory>

#include "thumbfetch/cli/bench_flags.hpp"
#include "thumbfetch/cli/cli.hpp"

namespace thumbfetch {

namespace {

struct BenchArgs {
  SourceFlags source;
  int serve = 0;
  int latency_ms = 50;
  BenchFlags flags;
};

int run_bench_command(const BenchArgs& a, const std::string& command) {
  BenchConfig config;
  a.flags.apply(config);
  config.command = command;
  if (a.serve > 0) {
    if (!a.source.urls_file.empty() || a.source.imgur) {
      throw CLI::ValidationError("SOURCE", "give one source: --urls, --imgur or --serve N");
    }
    config.serve_images = a.serve;
    config.serve_latency_ms = a.latency_ms;
  } else {
    config.source = a.source.to_source();
    check_link_source(config.source);
  }
  return run_and_print_bench(std::move(config), a.flags);
}

}  // namespace

void add_bench_command(CLI::App& app, CliContext& context) {
  auto a = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "Compare every download and thumbnail approach on the same images, side by side");
  a->source.add_to(*cmd);
  cmd->add_option("--serve", a->serve,
                  "Source: the built-in server on 127.0.0.1 with N generated images")
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--latency", a->latency_ms, "With --serve: milliseconds before each response")
      ->check(CLI::Range(0, 60000))
      ->capture_default_str();
  cmd->add_option("--report", a->flags.report_dir,
                  "Also write report.md, results.csv/json, chart.svg/png, index.html here");
  a->flags.add_to(*cmd);
  cmd->callback([a, &context] { context.exit_code = run_bench_command(*a, context.command_line); });
}

}  // namespace thumbfetch
