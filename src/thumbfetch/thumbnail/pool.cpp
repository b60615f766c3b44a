// The pool: one queue, a mutex and two condition variables (room for the submitters, work for
// the pool threads); every pool thread loops "get ready, take a job, run it, settle it" on a
// JobRunner of its own. A job is settled (handed to on_result) exactly once: run, failed, never
// started because of Ctrl-C, or dropped because the pool failed.
#include "thumbfetch/thumbnail/pool.hpp"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <iterator>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "thumbfetch/thumbnail/worker_protocol.hpp"
#include "thumbfetch/util/child_process.hpp"

namespace thumbfetch {

namespace {

using Clock = std::chrono::steady_clock;

// Workers that die before saying READY this many times in a row (over the whole pool) mean we
// cannot start any.
constexpr int kMaxStartFailures = 3;
// A healthy worker says READY within milliseconds; one silent for this long is stuck.
constexpr double kReadySeconds = 30;
// No --timeout: wait for an answer as long as it takes.
constexpr Clock::time_point kNoDeadline = Clock::time_point::max();

ThumbResult failure(ErrorKind kind, std::string message) {
  ThumbResult r;
  r.error = Error{kind, std::move(message)};
  return r;
}

Clock::time_point after(double seconds) {
  return Clock::now() +
         std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// Runs jobs one at a time for one pool thread, which creates it and owns it.
class JobRunner {
 public:
  virtual ~JobRunner() = default;
  // Gets ready for the next job (for a process: one is running and said READY). Throws when the
  // pool cannot go on.
  virtual void prepare() {}
  // The job's result; a bad image is a result, not an exception.
  virtual ThumbResult run(const ThumbJob& job) = 0;
};

// serial and threads: a Thumbnailer of this thread's own (it owns codec handles).
class InProcessRunner final : public JobRunner {
 public:
  explicit InProcessRunner(const ThumbOptions& options) : thumbnailer_(options) {}
  ThumbResult run(const ThumbJob& job) override { return run_job(thumbnailer_, job); }

 private:
  Thumbnailer thumbnailer_;
};

// processes: one `thumbfetch worker` driven synchronously: write a request, poll its stdout
// with the time left, read the answer. A worker that crashes, garbles or runs past the timeout
// is killed and reaped (waitpid: RUSAGE_CHILDREN counts it) and its image fails; the next
// prepare() starts a new one. A worker ends when its stdin hangs up (worker.cpp), that is with
// this process, whichever thread spawned it.
class WorkerProcessRunner final : public JobRunner {
 public:
  WorkerProcessRunner(const std::vector<std::string>& argv, double timeout_seconds,
                      std::atomic<int>& start_failures)
      : argv_(argv), timeout_seconds_(timeout_seconds), start_failures_(start_failures) {}

  void prepare() override {
    // An idle worker that ended, or spoke out of turn, cannot be trusted with the next image.
    if (ready_ && (!buffer_.empty() || has_output())) discard();
    while (!ready_) {
      const std::string how = start_one();
      if (ready_) {
        start_failures_ = 0;
      } else if (++start_failures_ >= kMaxStartFailures) {
        throw std::runtime_error("cannot start worker processes: " + argv_[0] + " " + how);
      }
    }
  }

  ThumbResult run(const ThumbJob& job) override {
    try {
      return exchange(job);
    } catch (...) {  // poll failed, out of memory: the worker may still be on this image
      discard();
      throw;
    }
  }

 private:
  enum class Read { ok, eof, timed_out, garbled };

  // Sends the job, reads the answer.
  ThumbResult exchange(const ThumbJob& job) {
    const Clock::time_point deadline = timeout_seconds_ > 0 ? after(timeout_seconds_) : kNoDeadline;
    // If the write fails the worker is gone; the read below sees its end.
    write_all(process_->stdin_fd(), encode_request(job));
    for (;;) {
      try {
        if (auto result = take_response(buffer_)) {
          check_answer(*result, job);
          return std::move(*result);
        }
      } catch (const std::runtime_error& e) {
        // A worker that talks nonsense is as good as crashed: replace it, fail only its image.
        discard();
        return failure(
            ErrorKind::worker_crashed,
            fmt::format("worker process replaced after a garbled answer ({})", e.what()));
      }
      switch (read_until(buffer_.size() + 1, deadline)) {
        case Read::ok:
        case Read::garbled:  // (only await_ready says this)
          continue;
        case Read::eof: {
          const std::string how = process_->wait();
          discard();
          return failure(ErrorKind::worker_crashed,
                         fmt::format("worker process {} while on this image", how));
        }
        case Read::timed_out:
          discard();
          return failure(ErrorKind::timeout,
                         fmt::format("took longer than {:g} s (--timeout); its worker was replaced",
                                     timeout_seconds_));
      }
    }
  }

  // A worker may only report a thumbnail beside the stem it was given (stem + extension).
  static void check_answer(const ThumbResult& result, const ThumbJob& job) {
    if (result.state != ThumbResult::State::done) return;
    const std::string stem = job.output_stem.filename().string();
    const std::string name = result.done.output.filename().string();
    if (result.done.output.parent_path() != job.output_stem.parent_path() ||
        !name.starts_with(stem + ".")) {
      throw std::runtime_error("a thumbnail that is not beside its stem: " +
                               result.done.output.string().substr(0, 200));
    }
  }

  // Starts a worker and waits for its READY; when it does not come, says how the worker ended.
  std::string start_one() {
    auto child = ChildProcess::spawn(argv_);
    if (!child) throw std::runtime_error(child.error().message);
    process_.emplace(std::move(child).value());
    buffer_.clear();
    std::string how;
    switch (await_ready(after(kReadySeconds))) {
      case Read::ok:
        buffer_.erase(0, kWorkerReady.size());
        ready_ = true;
        return {};
      case Read::garbled:
        how = "said something other than READY";
        break;
      case Read::eof:
        how = process_->wait();
        break;
      case Read::timed_out:
        how = fmt::format("did not say READY within {:g} s", kReadySeconds);
        break;
    }
    discard();
    return how;
  }

  // Reads until the buffer starts with READY. A byte that cannot be part of it is garbage at
  // once: waiting for the rest would wait for the deadline, or for ever on a worker that
  // then goes quiet.
  Read await_ready(Clock::time_point deadline) {
    for (;;) {
      const std::size_t n = std::min(buffer_.size(), kWorkerReady.size());
      if (std::string_view(buffer_).substr(0, n) != kWorkerReady.substr(0, n)) return Read::garbled;
      if (n == kWorkerReady.size()) return Read::ok;
      if (const Read r = read_until(buffer_.size() + 1, deadline); r != Read::ok) return r;
    }
  }

  // True when the worker's stdout has bytes or has ended.
  bool has_output() const {
    pollfd pending{process_->stdout_fd(), POLLIN, 0};
    int rc;
    do {
      rc = ::poll(&pending, 1, 0);
    } while (rc < 0 && errno == EINTR);
    return rc != 0;
  }

  // Reads until the buffer holds at least `size` bytes, the worker's stdout ends, or the
  // deadline passes. Whatever has arrived by the deadline is still taken.
  Read read_until(std::size_t size, Clock::time_point deadline) {
    const int fd = process_->stdout_fd();
    while (buffer_.size() < size) {
      int wait_ms = -1;
      if (deadline != kNoDeadline) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        wait_ms = static_cast<int>(std::clamp<long long>(left + 1, 0, 60'000));
      }
      pollfd pending{fd, POLLIN, 0};
      const int rc = ::poll(&pending, 1, wait_ms);
      if (rc < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error(fmt::format("poll: {}", std::strerror(errno)));
      }
      if (rc == 0) {
        if (deadline != kNoDeadline && Clock::now() >= deadline) return Read::timed_out;
        continue;
      }
      char chunk[8192];
      const ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Read::eof;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
    return Read::ok;
  }

  // Kills (SIGKILL) and reaps the worker, if it is still there.
  void discard() {
    process_.reset();
    buffer_.clear();
    ready_ = false;
  }

  const std::vector<std::string>& argv_;
  double timeout_seconds_;
  std::atomic<int>& start_failures_;
  std::optional<ChildProcess> process_;
  std::string buffer_;  // bytes read, not yet a whole message
  bool ready_ = false;  // process_ said READY
};

// Ctrl-C is for the program's own threads to notice; pool threads only read the flag. Blocking
// the signals here keeps them from interrupting system calls inside the codecs.
void block_interrupt_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

}  // namespace

class ThumbPool::Impl {
 public:
  Impl(ThumbStrategyKind kind, const ThumbRunConfig& config, PoolResult on_result,
       std::size_t queue_capacity)
      : kind_(kind),
        config_(config),
        on_result_(std::move(on_result)),
        workers_(kind == ThumbStrategyKind::serial ? 1 : std::max(1, config.workers)),
        capacity_(queue_capacity > 0 ? queue_capacity : 4 * static_cast<std::size_t>(workers_)) {
    if (kind_ == ThumbStrategyKind::processes) {
      ::signal(SIGPIPE, SIG_IGN);  // a dead worker's pipe must give EPIPE, not kill us
      argv_.push_back(config_.worker_exe.string());
      argv_.push_back("worker");
      for (std::string& a : to_cli_args(config_.options)) argv_.push_back(std::move(a));
    }
  }

  ~Impl() { join(); }

  void start() {
    for (int i = 0; i < workers_; ++i) threads_.emplace_back([this] { thread_main(); });
  }

  std::string_view name() const { return to_string(kind_); }
  int workers() const { return workers_; }

  void submit(ThumbJob job, std::size_t tag) {
    {
      std::unique_lock lock(mutex_);
      // The cancel flag is set by a signal, which notifies no one: look at it every 100 ms, so
      // a Ctrl-C never waits for a busy (or hung) worker to free a place in the queue.
      while (!has_room_.wait_for(lock, std::chrono::milliseconds(100), [&] {
        return failed_ || closed_ || queue_.size() < capacity_ || config_.cancelled();
      })) {
      }
      if (failed_) throw std::runtime_error(failure_);
      if (closed_) throw std::logic_error("ThumbPool::submit() after close()");
      if (!config_.cancelled()) {
        queue_.push_back(Item{std::move(job), tag});
        has_work_.notify_one();
        return;
      }
    }
    settle(Item{std::move(job), tag}, not_started());
  }

  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    has_work_.notify_all();
    has_room_.notify_all();
  }

  void wait() {
    close();
    join();
    std::lock_guard lock(mutex_);
    if (failed_) throw std::runtime_error(failure_);
  }

 private:
  struct Item {
    ThumbJob job;
    std::size_t tag = 0;
  };

  void join() {
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  std::unique_ptr<JobRunner> make_runner() {
    if (kind_ == ThumbStrategyKind::processes) {
      return std::make_unique<WorkerProcessRunner>(argv_, config_.timeout_seconds, start_failures_);
    }
    return std::make_unique<InProcessRunner>(config_.options);
  }

  void thread_main() {
    block_interrupt_signals();
    std::optional<Item> item;  // the job this thread holds
    try {
      auto runner = make_runner();
      // Ready before taking a job (a worker process starts while the queue is empty), and
      // again after (it may have died while idle).
      while (more_work_expected()) {
        runner->prepare();
        item = next_job();
        if (!item) break;
        runner->prepare();
        ThumbResult result;
        try {
          result = runner->run(item->job);
        } catch (const std::exception& e) {
          result = failure(ErrorKind::internal, fmt::format("unexpected error: {}", e.what()));
        } catch (...) {
          result = failure(ErrorKind::internal, "unexpected error");
        }
        Item done = std::move(*item);
        item.reset();  // settled below, whatever happens
        settle(done, std::move(result));
      }
    } catch (const std::exception& e) {
      fail_pool(e.what(), std::move(item));
    } catch (...) {
      fail_pool("unexpected error in a thumbnail pool thread", std::move(item));
    }
  }

  // False once the pool has failed, or is closed with nothing left in the queue.
  bool more_work_expected() {
    std::lock_guard lock(mutex_);
    return !failed_ && (!closed_ || !queue_.empty());
  }

  // The next job to run, waiting for one; nothing when the pool is closed and empty or failed.
  // After Ctrl-C every queued job is settled as not started.
  std::optional<Item> next_job() {
    for (;;) {
      std::deque<Item> dropped;
      {
        std::unique_lock lock(mutex_);
        has_work_.wait(lock, [&] { return failed_ || closed_ || !queue_.empty(); });
        if (failed_ || queue_.empty()) return std::nullopt;
        if (!config_.cancelled()) {
          Item item = std::move(queue_.front());
          queue_.pop_front();
          has_room_.notify_one();
          return item;
        }
        dropped.swap(queue_);
        has_room_.notify_all();
      }
      for (Item& item : dropped) settle(item, not_started());
    }
  }

  // The pool cannot go on: submitters and waiters get `message`; `held` and the queued jobs are
  // settled as failed (jobs in progress on other threads finish).
  void fail_pool(const std::string& message, std::optional<Item> held = std::nullopt) {
    std::deque<Item> dropped;
    if (held) dropped.push_back(std::move(*held));
    std::string reason;
    {
      std::lock_guard lock(mutex_);
      if (!failed_) {
        failed_ = true;
        failure_ = message;
      }
      reason = failure_;
      std::move(queue_.begin(), queue_.end(), std::back_inserter(dropped));
      queue_.clear();
    }
    has_work_.notify_all();
    has_room_.notify_all();
    for (Item& item : dropped) {
      settle(item, failure(ErrorKind::internal, "not thumbnailed: " + reason));
    }
  }

  void settle(const Item& item, ThumbResult result) {
    std::string callback_error;
    {
      std::lock_guard lock(result_mutex_);
      try {
        if (on_result_) on_result_(item.tag, item.job, std::move(result));
      } catch (const std::exception& e) {
        callback_error = e.what();
      } catch (...) {
        callback_error = "unknown exception";
      }
    }
    if (!callback_error.empty())
      fail_pool("the thumbnail result callback threw: " + callback_error);
  }

  const ThumbStrategyKind kind_;
  const ThumbRunConfig config_;
  const PoolResult on_result_;
  const int workers_;
  const std::size_t capacity_;
  std::vector<std::string> argv_;  // processes: how to start a worker
  std::atomic<int> start_failures_{0};

  std::mutex mutex_;  // guards everything below but the threads and result_mutex_
  std::condition_variable has_room_;
  std::condition_variable has_work_;
  std::deque<Item> queue_;
  bool closed_ = false;
  bool failed_ = false;
  std::string failure_;

  std::mutex result_mutex_;  // one on_result call at a time
  std::vector<std::thread> threads_;
};

ThumbPool::ThumbPool(ThumbStrategyKind kind, const ThumbRunConfig& config, PoolResult on_result,
                     std::size_t queue_capacity)
    : impl_(std::make_unique<Impl>(kind, config, std::move(on_result), queue_capacity)) {
  try {
    impl_->start();
  } catch (...) {  // a thread could not be created: end the ones that were
    impl_->close();
    throw;  // ~Impl joins them
  }
}

ThumbPool::~ThumbPool() {
  try {
    impl_->wait();
  } catch (...) {  // NOLINT(bugprone-empty-catch): the owner had its chance to call wait()
  }
}

std::string_view ThumbPool::name() const {
  return impl_->name();
}

int ThumbPool::workers() const {
  return impl_->workers();
}

void ThumbPool::submit(ThumbJob job, std::size_t tag) {
  impl_->submit(std::move(job), tag);
}

void ThumbPool::close() {
  impl_->close();
}

void ThumbPool::wait() {
  impl_->wait();
}

}  // namespace thumbfetch
