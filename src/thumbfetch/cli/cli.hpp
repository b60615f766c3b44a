#pragma once
// The command line: `thumbfetch <command> ...`. Each command lives in its own file and
// registers itself on the app; run_cli parses, runs and maps failures to exit codes.

#include <CLI/CLI.hpp>

#include <string>

namespace thumbfetch {

// Exit statuses shared by every command.
enum ExitCode : int { kExitOk = 0, kExitSomeFailed = 1, kExitUsage = 2, kExitInterrupted = 130 };

int run_cli(int argc, char** argv);

// "thumbfetch 0.1.0" and the versions of libvips, libjpeg-turbo, libspng, libcurl, fmt, CLI11.
std::string version_text();

// What a command gets from run_cli and gives back.
struct CliContext {
  int exit_code = kExitOk;
  std::string command_line;  // the whole invocation, for the folder lock and reports
};

// Each adds its subcommand; its callback stores the command's exit status in the context.
void add_thumbs_command(CLI::App& app, CliContext& context);
void add_worker_command(CLI::App& app, CliContext& context);
void add_corpus_command(CLI::App& app, CliContext& context);
void add_fetch_command(CLI::App& app, CliContext& context);
void add_serve_command(CLI::App& app, CliContext& context);
void add_run_command(CLI::App& app, CliContext& context);
void add_bench_command(CLI::App& app, CliContext& context);
void add_demo_command(CLI::App& app, CliContext& context);
void add_status_command(CLI::App& app, CliContext& context);
void add_merge_command(CLI::App& app, CliContext& context);

}  // namespace thumbfetch
