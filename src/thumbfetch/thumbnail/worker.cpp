#include "thumbfetch/thumbnail/worker.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <csignal>

#include <cerrno>
#include <string>
#include <thread>

#include "thumbfetch/thumbnail/worker_protocol.hpp"
#include "thumbfetch/util/fd.hpp"

namespace thumbfetch {

namespace {

WorkerJobHook g_job_hook = nullptr;

// Our stdin's only writer is the parent (the pipe is close-on-exec there), so its hang-up means
// the parent process is gone or done with us: a thread waits for it and ends the process, even
// in the middle of an image. (PR_SET_PDEATHSIG would tie us to the parent *thread* that spawned
// us, and a worker started from a short-lived thread would die with that thread.) A parent
// already gone before we got here is seen at once.
void die_when_parent_hangs_up(int in_fd) {
  std::thread([in_fd] {
    for (;;) {
      pollfd p{in_fd, 0, 0};  // no events asked: poll reports only POLLHUP / POLLERR
      const int rc = ::poll(&p, 1, -1);
      if (rc < 0 && errno == EINTR) continue;
      if (rc < 0 || (p.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) ::_exit(0);
    }
  }).detach();
}

}  // namespace

void set_worker_job_hook(WorkerJobHook hook) {
  g_job_hook = hook;
}

int run_thumb_worker(const ThumbOptions& options, int in_fd, int out_fd) {
  // Die with the parent process: a killed run must not leave workers writing files.
  die_when_parent_hangs_up(in_fd);
  // Ctrl-C reaches the whole process group; the parent decides, and closes our stdin.
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGTERM, SIG_IGN);

  // Our stdout is the protocol channel: keep it on a descriptor of its own and point stdout at
  // stderr, so a library that prints (libvips with VIPS_INFO, GLib debug) cannot corrupt it.
  UniqueFd protocol(::fcntl(out_fd, F_DUPFD_CLOEXEC, 3));
  if (!protocol.valid()) return 1;
  ::dup2(STDERR_FILENO, out_fd);
  out_fd = protocol.get();

  Thumbnailer thumbnailer(options);
  if (!write_all(out_fd, kWorkerReady)) return 1;
  std::string buffer;
  char chunk[4096];
  for (;;) {
    while (auto job = take_request(buffer)) {
      if (g_job_hook) g_job_hook(*job);
      if (!write_all(out_fd, encode_response(run_job(thumbnailer, *job)))) return 1;
    }
    ssize_t n = ::read(in_fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;  // the parent closed our stdin: done
    buffer.append(chunk, static_cast<size_t>(n));
  }
}

}  // namespace thumbfetch
