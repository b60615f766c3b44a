// `thumbfetch merge DIR [--partial]`: flags -> merge_shards -> print. One manifest
// (DIR/merged.jsonl, one row per URL) and one summary (DIR/summary.json) from the shards; refused
// (exit 1, naming them) while shards are not done, unless --partial.
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "thumbfetch/cli/cli.hpp"
#include "thumbfetch/job/shard_report.hpp"

namespace thumbfetch {

namespace {

struct MergeArgs {
  std::filesystem::path dir;
  bool partial = false;
};

int run_merge(const MergeArgs& a) {
  MergeResult m;
  try {
    m = merge_shards(a.dir, MergeOptions{a.partial});
  } catch (const ShardsNotDone& e) {
    fmt::print(stderr, "thumbfetch: {}\n", e.what());
    return kExitSomeFailed;
  }
  fmt::print(
      "{} URLs: {} ok, {} failed ({} permanent, {} temporary){}; {:.1f} MB; {:.0f} images/s over "
      "{:.1f} s\n",
      m.urls, m.ok, m.failed_permanent + m.failed_temporary, m.failed_permanent, m.failed_temporary,
      m.unsettled ? fmt::format(", {} unsettled", m.unsettled) : "", m.bytes / 1e6,
      m.span_seconds > 0 ? m.ok / m.span_seconds : 0.0, m.span_seconds);
  fmt::print("wrote {} and {}\n", m.manifest.string(), m.summary.string());
  if (!m.overview.all_done()) {
    fmt::print(stderr, "partial: shards {} are not done\n", array_spec(m.overview.not_done()));
    return kExitSomeFailed;
  }
  return kExitOk;
}

}  // namespace

void add_merge_command(CLI::App& app, CliContext& context) {
  auto a = std::make_shared<MergeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "merge", "Merge the shards of a sharded run into DIR/merged.jsonl and DIR/summary.json");
  cmd->add_option("DIR", a->dir, "The output folder the shards wrote into")->required();
  cmd->add_flag("--partial", a->partial, "Merge what is there while some shards are not done");
  cmd->callback([a, &context] { context.exit_code = run_merge(*a); });
}

}  // namespace thumbfetch
