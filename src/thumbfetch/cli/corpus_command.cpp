// `thumbfetch corpus DIR -n N`: writes a deterministic corpus of photo-like images, for demos
// and benchmarks that must run with no network and no input of their own.
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "thumbfetch/cli/cli.hpp"
#include "thumbfetch/serve/synthetic_images.hpp"
#include "thumbfetch/thumbnail/vips_runtime.hpp"
#include "thumbfetch/util/stopwatch.hpp"

namespace thumbfetch {

namespace {

struct CorpusArgs {
  std::filesystem::path dir;
  int count = 200;
  std::uint64_t seed = 1;
};

}  // namespace

void add_corpus_command(CLI::App& app, CliContext& context) {
  auto args = std::make_shared<CorpusArgs>();
  CLI::App* cmd = app.add_subcommand(
      "corpus", "Write a deterministic corpus of photo-like JPEG/PNG images (800-1600 px)");
  cmd->add_option("DIR", args->dir, "Folder to write into (created when missing)")->required();
  cmd->add_option("-n,--count", args->count, "Number of images")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  cmd->add_option("--seed", args->seed, "Another seed, another corpus")->capture_default_str();
  cmd->callback([args, &context] {
    init_vips("thumbfetch");
    Stopwatch clock;
    SyntheticSpec spec;
    spec.seed = args->seed;
    if (auto st = write_synthetic_corpus(args->dir, args->count, spec); !st) {
      throw std::runtime_error(st.error().message);
    }
    fmt::print("{} images in {} ({:.1f} s)\n", args->count, args->dir.string(),
               clock.elapsed().wall);
    context.exit_code = kExitOk;
  });
}

}  // namespace thumbfetch
