#pragma once
// A child process started with posix_spawn, its stdin and stdout on pipes, in a process group of
// its own (Ctrl-C at the terminal reaches the parent only), every signal at its default and none
// blocked whatever the parent ignores or blocks, owned by RAII: the destructor kills
// and reaps a child that is still running, so none is ever left behind.

#include <sys/types.h>

#include <string>
#include <vector>

#include "thumbfetch/util/error.hpp"
#include "thumbfetch/util/fd.hpp"

namespace thumbfetch {

class ChildProcess {
 public:
  // Starts argv[0] (a path) with argv; the child's stdin and stdout are pipes to us.
  static Result<ChildProcess> spawn(const std::vector<std::string>& argv);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  int stdin_fd() const { return to_child_.get(); }
  int stdout_fd() const { return from_child_.get(); }
  void close_stdin() { to_child_.reset(); }

  void kill(int signal);
  // Waits for the child to end; describes how: "exited with status 3", "killed by signal 6
  // (Aborted)".
  std::string wait();

 private:
  ChildProcess() = default;
  pid_t pid_ = -1;
  UniqueFd to_child_;
  UniqueFd from_child_;
};

// Describes a waitpid status in words.
std::string describe_wait_status(int status);

}  // namespace thumbfetch
