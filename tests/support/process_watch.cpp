#include "support/process_watch.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace thumbfetch::test {

namespace {

long vm_rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

WatchedRun run_watched(const std::vector<std::string>& argv, const std::string& scratch,
                       std::chrono::seconds deadline, std::chrono::milliseconds every) {
  const std::string out_path = scratch + "/watched.out", err_path = scratch + "/watched.err";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> args = argv;
  std::vector<char*> c_args;
  for (auto& a : args) c_args.push_back(a.data());
  c_args.push_back(nullptr);
  pid_t pid = -1;
  const auto start = std::chrono::steady_clock::now();
  const int rc = posix_spawn(&pid, args[0].c_str(), &actions, nullptr, c_args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + args[0]);

  WatchedRun run;
  int status = 0;
  rusage usage{};
  for (;;) {
    const double t =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (::wait4(pid, &status, WNOHANG, &usage) == pid) break;
    if (t > static_cast<double>(deadline.count()) && !run.deadline_hit) {
      run.deadline_hit = true;
      ::kill(pid, SIGKILL);
    }
    run.samples.emplace_back(t, vm_rss_kib(pid));
    std::this_thread::sleep_for(every);  // a sampling period, not a wait for an event
  }
  run.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.peak_rss_kib = usage.ru_maxrss;
  if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  run.out = slurp(out_path);
  run.err = slurp(err_path);
  return run;
}

long peak_between(const WatchedRun& run, double from, double to) {
  long peak = 0;
  for (const auto& [t, kib] : run.samples) {
    const double f = t / run.wall_seconds;
    if (f >= from && f < to) peak = std::max(peak, kib);
  }
  return peak;
}

}  // namespace thumbfetch::test
