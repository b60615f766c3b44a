// processes: a pool of worker processes started once per run, each exec'd fresh as
// `thumbfetch worker`, fed one image at a time so a huge image does not stall the others. A
// worker that crashes or runs past the timeout is replaced; only the image it held fails.
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

#include "thumbfetch/thumbnail/strategy.hpp"
#include "thumbfetch/thumbnail/worker_protocol.hpp"
#include "thumbfetch/util/child_process.hpp"

namespace thumbfetch {

namespace {

using Clock = std::chrono::steady_clock;

// Workers that die before saying READY this many times in a row mean we cannot start any.
constexpr int kMaxStartFailures = 3;

struct Worker {
  std::optional<ChildProcess> process;
  std::string buffer;         // bytes read, not yet a whole message
  bool ready = false;         // said READY
  std::optional<size_t> job;  // the job it holds
  Clock::time_point started;  // when it got that job
};

class ProcessStrategy final : public ThumbStrategy {
 public:
  explicit ProcessStrategy(const ThumbRunConfig& config) : config_(config) {
    argv_.push_back(config.worker_exe.string());
    argv_.push_back("worker");
    for (std::string& a : to_cli_args(config.options)) argv_.push_back(std::move(a));
  }

  std::string_view name() const override { return "processes"; }

  std::vector<ThumbResult> run(const std::vector<ThumbJob>& jobs,
                               const ThumbProgress& progress) override {
    ::signal(SIGPIPE, SIG_IGN);  // a dead worker's pipe must give EPIPE, not kill us
    jobs_ = &jobs;
    progress_ = &progress;
    results_.assign(jobs.size(), ThumbResult{});
    next_ = finished_ = 0;
    start_failures_ = 0;
    const size_t n = std::min<size_t>(std::max(1, config_.workers), jobs.size());
    std::vector<Worker> workers(n);
    for (Worker& w : workers) start(w);
    while (finished_ < jobs.size()) {
      if (config_.cancelled()) cancel_unstarted();
      for (Worker& w : workers) hand_out(w);
      if (finished_ < jobs.size()) wait_for_events(workers);
    }
    return std::move(results_);
  }

 private:
  void start(Worker& w) {
    auto child = ChildProcess::spawn(argv_);
    if (!child) throw std::runtime_error(child.error().message);
    w.process.emplace(std::move(child).value());
    w.buffer.clear();
    w.ready = false;
    w.job.reset();
  }

  // Ctrl-C: images not handed out yet are settled as not started; those in progress finish.
  void cancel_unstarted() {
    while (next_ < jobs_->size()) finish(next_++, not_started());
  }

  void hand_out(Worker& w) {
    if (!w.process || !w.ready || w.job || next_ >= jobs_->size()) return;
    const size_t i = next_++;
    w.job = i;
    w.started = Clock::now();
    // If the write fails the worker is gone; its EOF is noticed by the poll below.
    write_all(w.process->stdin_fd(), encode_request((*jobs_)[i]));
  }

  int poll_timeout_ms(const std::vector<Worker>& workers) const {
    if (config_.timeout_seconds <= 0) return -1;
    auto soonest = Clock::time_point::max();
    for (const Worker& w : workers) {
      if (w.job) {
        soonest = std::min(soonest,
                           w.started + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(config_.timeout_seconds)));
      }
    }
    if (soonest == Clock::time_point::max()) return -1;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(soonest - Clock::now());
    return static_cast<int>(std::clamp<long long>(left.count() + 1, 0, 60'000));
  }

  void wait_for_events(std::vector<Worker>& workers) {
    std::vector<pollfd> fds;
    for (const Worker& w : workers) {
      fds.push_back({w.process ? w.process->stdout_fd() : -1, POLLIN, 0});
    }
    // A signal interrupts the wait (EINTR), so Ctrl-C is noticed at once.
    int rc = ::poll(fds.data(), fds.size(), poll_timeout_ms(workers));
    if (rc < 0 && errno != EINTR) throw std::runtime_error("poll failed");
    for (size_t k = 0; k < workers.size(); ++k) {
      if (fds[k].revents & (POLLIN | POLLHUP | POLLERR)) read_from(workers[k]);
      check_timeout(workers[k]);
    }
  }

  void read_from(Worker& w) {
    char chunk[8192];
    ssize_t n = ::read(w.process->stdout_fd(), chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) return;
    if (n <= 0) return on_worker_died(w);
    w.buffer.append(chunk, static_cast<size_t>(n));
    if (!w.ready && w.buffer.starts_with(kWorkerReady)) {
      w.buffer.erase(0, kWorkerReady.size());
      w.ready = true;
      start_failures_ = 0;
    }
    while (w.job) {
      std::optional<ThumbResult> result;
      try {
        result = take_response(w.buffer);
      } catch (const std::runtime_error& e) {
        // A worker that talks nonsense is as good as crashed: replace it, fail only its image.
        w.process->kill(SIGKILL);
        w.process->wait();
        fail(*w.job, ErrorKind::worker_crashed,
             fmt::format("worker process replaced after a garbled answer ({})", e.what()));
        replace(w);
        return;
      }
      if (!result) break;
      finish(*w.job, std::move(*result));
      w.job.reset();
    }
  }

  void on_worker_died(Worker& w) {
    const std::string how = w.process->wait();
    if (!w.ready && ++start_failures_ >= kMaxStartFailures) {
      throw std::runtime_error("cannot start worker processes: " + argv_[0] + " " + how);
    }
    if (w.job) {
      fail(*w.job, ErrorKind::worker_crashed,
           fmt::format("worker process {} while on this image", how));
    }
    replace(w);
  }

  void check_timeout(Worker& w) {
    if (!w.job || config_.timeout_seconds <= 0) return;
    const double held = std::chrono::duration<double>(Clock::now() - w.started).count();
    if (held < config_.timeout_seconds) return;
    // Its answer may have arrived just now: take it rather than throw a finished image away.
    pollfd pending{w.process->stdout_fd(), POLLIN, 0};
    if (::poll(&pending, 1, 0) > 0) {
      read_from(w);
      if (!w.job || !w.process) return;
    }
    w.process->kill(SIGKILL);
    w.process->wait();
    fail(*w.job, ErrorKind::timeout,
         fmt::format("took longer than {:g} s (--timeout); its worker was replaced",
                     config_.timeout_seconds));
    replace(w);
  }

  // A new worker only where work is left for it.
  void replace(Worker& w) {
    w.process.reset();
    w.job.reset();
    if (next_ < jobs_->size()) start(w);
  }

  void fail(size_t i, ErrorKind kind, std::string message) {
    ThumbResult r;
    r.error = Error{kind, std::move(message)};
    finish(i, std::move(r));
  }

  void finish(size_t i, ThumbResult result) {
    results_[i] = std::move(result);
    ++finished_;
    if (*progress_ && results_[i].error.kind != ErrorKind::cancelled) {
      (*progress_)((*jobs_)[i], results_[i]);
    }
  }

  ThumbRunConfig config_;
  std::vector<std::string> argv_;
  const std::vector<ThumbJob>* jobs_ = nullptr;
  const ThumbProgress* progress_ = nullptr;
  std::vector<ThumbResult> results_;
  size_t next_ = 0;
  size_t finished_ = 0;
  int start_failures_ = 0;
};

}  // namespace

std::unique_ptr<ThumbStrategy> make_process_strategy(const ThumbRunConfig& config) {
  return std::make_unique<ProcessStrategy>(config);
}

}  // namespace thumbfetch
