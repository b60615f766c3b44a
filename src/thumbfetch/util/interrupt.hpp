#pragma once
// Ctrl-C for batch commands: SIGINT/SIGTERM set one flag (the only global mutable state) that
// long loops poll; they stop starting work, abort what is in flight and report. A second signal
// kills the process the default way, for a user who really wants out.

#include <atomic>
#include <stop_token>
#include <thread>

namespace thumbfetch {

// The flag the handlers set. Loops read it; tests may set it to simulate a signal.
std::atomic<bool>& interrupt_flag();

// Clears the flag (a run's Ctrl-C is its own), then installs the handlers while alive and
// restores the previous ones on destruction.
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
  // The signal received (SIGINT or SIGTERM), 0 when none.
  static int signal_received();
};

// A stop_source requested once the flag is set (Ctrl-C with an InterruptGuard installed): the
// library's jobs take a std::stop_token, and a signal handler may not call request_stop(), so a
// watcher thread polls the flag (every 50 ms; it costs nothing measurable).
class SignalStopSource {
 public:
  SignalStopSource();
  std::stop_token token() const { return source_.get_token(); }

 private:
  std::stop_source source_;
  std::jthread watcher_;
};

}  // namespace thumbfetch
