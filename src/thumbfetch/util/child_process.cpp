#include "thumbfetch/util/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

extern char** environ;

namespace thumbfetch {

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return fmt::format("killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  }
  return fmt::format("ended with wait status {}", status);
}

Result<ChildProcess> ChildProcess::spawn(const std::vector<std::string>& argv) {
  int in_pipe[2], out_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) {
    return make_error(ErrorKind::internal, fmt::format("pipe: {}", std::strerror(errno)));
  }
  UniqueFd in_read(in_pipe[0]), in_write(in_pipe[1]);
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    return make_error(ErrorKind::internal, fmt::format("pipe: {}", std::strerror(errno)));
  }
  UniqueFd out_read(out_pipe[0]), out_write(out_pipe[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // dup2 clears close-on-exec on the copies, so only these two ends reach the child.
  posix_spawn_file_actions_adddup2(&actions, in_read.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out_write.get(), STDOUT_FILENO);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // Its own process group: a terminal's Ctrl-C reaches only us, and we decide what the child
  // does (it ends when its stdin closes).
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  // And a clean start: we ignore SIGPIPE (processes strategy) and pool threads block SIGINT and
  // SIGTERM, and both would otherwise survive exec (a child that ignores SIGPIPE spins on EPIPE;
  // one that blocks SIGTERM cannot be stopped politely).
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setflags(&attributes,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  posix_spawnattr_setpgroup(&attributes, 0);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, argv[0].c_str(), &actions, &attributes, args.data(), environ);
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return make_error(ErrorKind::internal,
                      fmt::format("cannot start {}: {}", argv[0], std::strerror(rc)));
  }
  ChildProcess child;
  child.pid_ = pid;
  child.to_child_ = std::move(in_write);
  child.from_child_ = std::move(out_read);
  return child;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      to_child_(std::move(other.to_child_)),
      from_child_(std::move(other.from_child_)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0) {
      kill(SIGKILL);
      wait();
    }
    pid_ = std::exchange(other.pid_, -1);
    to_child_ = std::move(other.to_child_);
    from_child_ = std::move(other.from_child_);
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    kill(SIGKILL);
    wait();
  }
}

void ChildProcess::kill(int signal) {
  if (pid_ > 0) ::kill(pid_, signal);
}

std::string ChildProcess::wait() {
  if (pid_ <= 0) return "not running";
  to_child_.reset();
  from_child_.reset();
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  pid_ = -1;
  return r < 0 ? "lost" : describe_wait_status(status);
}

}  // namespace thumbfetch
