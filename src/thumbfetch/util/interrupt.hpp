#pragma once
// Ctrl-C for batch commands: SIGINT/SIGTERM set one flag (the only global mutable state) that
// long loops poll; they stop starting work, abort what is in flight and report. A second signal
// kills the process the default way, for a user who really wants out.

#include <atomic>

namespace thumbfetch {

// The flag the handlers set. Loops read it; tests may set it to simulate a signal.
std::atomic<bool>& interrupt_flag();

// Installs the handlers while alive and restores the previous ones on destruction.
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
  // The signal received (SIGINT or SIGTERM), 0 when none.
  static int signal_received();
};

}  // namespace thumbfetch
