// `thumbfetch worker`: internal, started by the processes strategy; not for people.
#include <unistd.h>

#include <memory>

#include "thumbfetch/cli/cli.hpp"
#include "thumbfetch/cli/thumb_flags.hpp"
#include "thumbfetch/thumbnail/worker.hpp"

namespace thumbfetch {

void add_worker_command(CLI::App& app, CliContext& context) {
  auto flags = std::make_shared<ThumbFlags>();
  CLI::App* cmd = app.add_subcommand("worker", "Thumbnail worker process (internal)");
  cmd->group("");  // hidden from --help
  flags->add_to(*cmd);
  cmd->callback([flags, &context] {
    const ThumbOptions options = flags->to_options();
    context.exit_code = run_thumb_worker(options, STDIN_FILENO, STDOUT_FILENO);
  });
}

}  // namespace thumbfetch
