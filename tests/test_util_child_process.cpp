// Child processes start clean (default signal dispositions, nothing blocked) whatever the
// parent ignores or blocks, and a worker lives as long as the process that started it, not as
// long as the thread.
#include <gtest/gtest.h>

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "thumbfetch/thumbnail/worker_protocol.hpp"
#include "thumbfetch/util/child_process.hpp"

using namespace thumbfetch;

namespace {

// Reads from fd until `done(buffer)` or EOF, waiting at most 60 s for each chunk (a bound
// against hangs).
std::string read_until(int fd, const std::function<bool(const std::string&)>& done) {
  std::string buffer;
  while (!done(buffer)) {
    pollfd p{fd, POLLIN, 0};
    const int rc = ::poll(&p, 1, 60'000);
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) break;
    char chunk[4096];
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
  return buffer;
}

std::string read_all(int fd) {
  return read_until(fd, [](const std::string&) { return false; });
}

// The hex mask on the "Name:" line of /proc/PID/status text.
std::optional<std::uint64_t> status_mask(const std::string& status, const std::string& name) {
  std::istringstream lines(status);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(name + ":")) return std::stoull(line.substr(name.size() + 1), nullptr, 16);
  }
  return std::nullopt;
}

std::uint64_t bit(int signal) {
  return std::uint64_t{1} << (signal - 1);
}

}  // namespace

// The processes strategy ignores SIGPIPE and pool threads block SIGINT/SIGTERM; a child must not
// inherit either (an exec'd program expects the defaults).
TEST(ChildProcess, StartsWithDefaultSignalsAndAnEmptyMask) {
  struct sigaction ignore {
  }, old_pipe{};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &old_pipe);
  sigset_t block, old_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &block, &old_mask);

  auto child = ChildProcess::spawn({"/bin/sh", "-c", "exec grep ^Sig /proc/self/status"});

  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  sigaction(SIGPIPE, &old_pipe, nullptr);
  ASSERT_TRUE(child) << child.error().message;
  child->close_stdin();
  const std::string status = read_all(child->stdout_fd());
  EXPECT_EQ(child->wait(), "exited with status 0");
  const auto ignored = status_mask(status, "SigIgn");
  const auto blocked = status_mask(status, "SigBlk");
  ASSERT_TRUE(ignored && blocked) << status;
  EXPECT_EQ(*ignored & bit(SIGPIPE), 0u) << status;
  EXPECT_EQ(*blocked, 0u) << status;
}

// PR_SET_PDEATHSIG fires when the *thread* that spawned the child ends; a worker started from a
// thread that then ends must go on serving.
TEST(ChildProcess, AWorkerOutlivesTheThreadThatStartedIt) {
  std::optional<ChildProcess> worker;
  std::string ready;
  std::thread([&] {
    auto child = ChildProcess::spawn({THUMBFETCH_EXE, "worker"});
    if (!child) return;
    worker.emplace(std::move(child).value());
    // READY comes after the worker has set itself up (where it used to arm PDEATHSIG).
    ready = read_until(worker->stdout_fd(),
                       [](const std::string& b) { return b.size() >= kWorkerReady.size(); });
  }).join();
  ASSERT_TRUE(worker.has_value());
  ASSERT_EQ(ready, kWorkerReady);
  // A job for a file that does not exist: a live worker answers with a failure.
  ASSERT_TRUE(write_all(worker->stdin_fd(), encode_request({"/nonexistent/a.jpg", "/tmp/a"})));
  std::string buffer = read_until(worker->stdout_fd(), [](const std::string& b) {
    std::string copy = b;
    return take_response(copy).has_value();
  });
  const auto answer = take_response(buffer);
  ASSERT_TRUE(answer.has_value()) << "the worker died with its thread: " << worker->wait();
  EXPECT_EQ(answer->state, ThumbResult::State::failed);
  worker->close_stdin();
  EXPECT_EQ(worker->wait(), "exited with status 0");
}
