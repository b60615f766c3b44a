#include "thumbfetch/cli/cli.hpp"

#include <fmt/format.h>

#include <exception>

#include "thumbfetch/job/folder.hpp"
#include "thumbfetch/job/setup_error.hpp"

namespace thumbfetch {

int run_cli(int argc, char** argv) {
  CLI::App app{"thumbfetch: download image sets concurrently and make thumbnails in parallel"};
  app.require_subcommand(1);
  app.set_version_flag("--version", version_text());
  CliContext context;
  context.command_line = command_line(argc, argv);
  add_thumbs_command(app, context);
  add_corpus_command(app, context);
  add_fetch_command(app, context);
  add_run_command(app, context);
  add_bench_command(app, context);
  add_demo_command(app, context);
  add_serve_command(app, context);
  add_worker_command(app, context);
  add_status_command(app, context);
  add_merge_command(app, context);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  } catch (const StoppedBeforeWork& e) {
    fmt::print(stderr, "thumbfetch: {}\n", e.what());
    return kExitInterrupted;
  } catch (const NothingToDo& e) {
    fmt::print(stderr, "thumbfetch: nothing to do: {}\n", e.what());
    return kExitSomeFailed;
  } catch (const std::exception& e) {
    // "Cannot continue": the output folder cannot be made, workers cannot start, ...
    fmt::print(stderr, "thumbfetch: {}\n", e.what());
    return kExitUsage;
  }
  return context.exit_code;
}

}  // namespace thumbfetch
