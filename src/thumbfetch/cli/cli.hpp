#pragma once
// The command line: `thumbfetch <command> ...`. Each command lives in its own file and
// registers itself on the app; run_cli parses, runs and maps failures to exit codes.

#include <CLI/CLI.hpp>

namespace thumbfetch {

// Exit statuses shared by every command.
enum ExitCode : int { kExitOk = 0, kExitSomeFailed = 1, kExitUsage = 2, kExitInterrupted = 130 };

int run_cli(int argc, char** argv);

// Each adds its subcommand; the callback stores the command's exit status in `exit_code`.
void add_thumbs_command(CLI::App& app, int& exit_code);
void add_worker_command(CLI::App& app, int& exit_code);
void add_corpus_command(CLI::App& app, int& exit_code);
void add_fetch_command(CLI::App& app, int& exit_code);
void add_serve_command(CLI::App& app, int& exit_code);

}  // namespace thumbfetch
