// `thumbfetch demo`: the main job with no network and no configuration. The built-in server on
// 127.0.0.1 serves a generated corpus with web-like latency, the links are collected through its
// Imgur API look-alike (as the reference notebook did through the Imgur API), every approach is
// benchmarked, the table is printed and the report written to ./thumbfetch-demo/.
#include <memory>

#include "thumbfetch/cli/bench_flags.hpp"
#include "thumbfetch/cli/cli.hpp"

namespace thumbfetch {

namespace {

struct DemoArgs {
  int images = 500;
  int latency_ms = 50;
  std::filesystem::path out = "thumbfetch-demo";
  BenchFlags flags;
};

int run_demo(const DemoArgs& a, const std::string& command) {
  BenchConfig config;
  a.flags.apply(config);
  config.command = command;
  config.serve_images = a.images;
  config.serve_latency_ms = a.latency_ms;
  config.serve_via_imgur = true;
  config.corpus_dir = a.out / "corpus";
  config.work_dir = a.out / "runs";
  BenchFlags flags = a.flags;
  flags.report_dir = a.out;
  return run_and_print_bench(std::move(config), flags);
}

}  // namespace

void add_demo_command(CLI::App& app, CliContext& context) {
  auto a = std::make_shared<DemoArgs>();
  CLI::App* cmd = app.add_subcommand(
      "demo", "The whole workflow offline: serve, collect links, compare every approach, report");
  cmd->add_option("-n,--images", a->images, "Images in the generated corpus")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--latency", a->latency_ms, "Milliseconds before each response")
      ->check(CLI::Range(0, 60000))
      ->capture_default_str();
  cmd->add_option("-o,--output", a->out, "Where the corpus, the runs and the report go")
      ->capture_default_str();
  a->flags.add_to(*cmd);
  cmd->callback([a, &context] { context.exit_code = run_demo(*a, context.command_line); });
}

}  // namespace thumbfetch
