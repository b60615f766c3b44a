#pragma once
// Runs the real thumbfetch executable (or any program) and captures what it says.

#include <sys/types.h>

#include <string>
#include <vector>

namespace thumbfetch::test {

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string out;
  std::string err;
};

// Path of the thumbfetch executable under test.
std::string thumbfetch_exe();

// Runs argv (argv[0] a path), with extra "NAME=value" environment entries, and waits.
CommandResult run_command(const std::vector<std::string>& argv,
                          const std::vector<std::string>& extra_env = {});

// thumbfetch with these arguments.
CommandResult run_thumbfetch(const std::vector<std::string>& args,
                             const std::vector<std::string>& extra_env = {});

// thumbfetch_hooked (the CLI with test hooks, tests/hooked/) with these arguments.
CommandResult run_hooked_thumbfetch(const std::vector<std::string>& args,
                                    const std::vector<std::string>& extra_env = {});

// Starts thumbfetch in the background with output to /dev/null; returns its pid.
pid_t start_thumbfetch(const std::vector<std::string>& args);

// Counts the lines of `text` that contain `needle`.
int count_lines_with(const std::string& text, const std::string& needle);

// The first line a child writes to `fd` (its stdout), waiting at most 30 s for each byte (a
// server generates its images before it says where it listens); what came when it gave up.
std::string first_line(int fd);

}  // namespace thumbfetch::test
