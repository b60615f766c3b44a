#pragma once
// The thumbnail engine: a bounded queue of jobs that accepts work while it runs, and a fixed set
// of pool threads taking one job at a time. Each pool thread owns what it runs jobs on: a
// Thumbnailer (serial, threads) or one `thumbfetch worker` process that it drives synchronously
// (processes). The three batch strategies (strategy.hpp) are thin adapters over this pool; a
// streamed pipeline submits each image as soon as it lands.

#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

#include "thumbfetch/thumbnail/strategy.hpp"

namespace thumbfetch {

// Called once per submitted job as it settles, one call at a time (serialised by the pool), from
// a pool thread; a job settled as not_started() because of cancellation is reported from the
// thread that called submit() or from a pool thread. It must not call back into the pool. If it
// throws, the pool fails as a whole (wait() rethrows).
using PoolResult = std::function<void(std::size_t tag, const ThumbJob& job, ThumbResult result)>;

class ThumbPool {
 public:
  // serial: one worker on one pool thread; threads: config.workers threads each with its own
  // Thumbnailer; processes: config.workers exec'd `thumbfetch worker` processes
  // (config.worker_exe), one pool thread driving each. A crashed, garbled or timed-out
  // (config.timeout_seconds) worker is replaced and only its image fails; workers die with the
  // parent; a worker that cannot start at all (it cannot be spawned, or workers die before
  // saying READY three times in a row) makes the pool fail: submit() and wait() then throw
  // std::runtime_error.
  // The processes kind ignores SIGPIPE process-wide (a dead worker's pipe gives EPIPE).
  // Pool threads block SIGINT and SIGTERM: Ctrl-C reaches the other threads of the program.
  ThumbPool(ThumbStrategyKind kind, const ThumbRunConfig& config, PoolResult on_result,
            std::size_t queue_capacity = 0 /* 0: 4 x workers */);
  // close() and wait(); never throws.
  ~ThumbPool();
  ThumbPool(const ThumbPool&) = delete;
  ThumbPool& operator=(const ThumbPool&) = delete;

  // "serial", "threads", "processes".
  std::string_view name() const;
  // How many images run at once: 1 for serial, else config.workers (at least 1).
  int workers() const;

  // Queues a job; blocks while the queue holds queue_capacity jobs not yet taken by a worker
  // (back-pressure). After cancellation (config.cancel set) jobs are settled at once as
  // not_started() via on_result instead of being run. Every job submit() accepts is settled
  // exactly once, even when the pool fails. Throws std::runtime_error (job not accepted) when
  // the pool has failed, std::logic_error after close(). Safe to call from any thread.
  void submit(ThumbJob job, std::size_t tag);
  // No more submissions; the pool threads end once the queue is empty. Idempotent.
  void close();
  // close() and block until every accepted job has been settled via on_result and every worker
  // process has been reaped (so RUSAGE_CHILDREN counts its CPU time); rethrows a fatal pool
  // error as std::runtime_error. Call it from one thread (the owner), never from on_result.
  void wait();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace thumbfetch
