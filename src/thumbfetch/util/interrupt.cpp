#include "thumbfetch/util/interrupt.hpp"

#include <chrono>
#include <csignal>

namespace thumbfetch {

namespace {

std::atomic<bool> g_interrupted{false};
volatile std::sig_atomic_t g_signal = 0;
struct sigaction g_old_int {};
struct sigaction g_old_term {};

extern "C" void on_interrupt(int sig) {
  g_signal = sig;
  g_interrupted.store(true);
}

}  // namespace

static_assert(std::atomic<bool>::is_always_lock_free, "the signal flag must be lock-free");

std::atomic<bool>& interrupt_flag() {
  return g_interrupted;
}

InterruptGuard::InterruptGuard() {
  // A new run starts clear, and clears *before* the handlers go in: a Ctrl-C that arrives the
  // moment they are installed must not be wiped out by a reset that comes after it.
  g_signal = 0;
  g_interrupted.store(false);
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;  // a second Ctrl-C terminates at once
  sigaction(SIGINT, &sa, &g_old_int);
  sigaction(SIGTERM, &sa, &g_old_term);
}

InterruptGuard::~InterruptGuard() {
  sigaction(SIGINT, &g_old_int, nullptr);
  sigaction(SIGTERM, &g_old_term, nullptr);
}

int InterruptGuard::signal_received() {
  return g_signal;
}

SignalStopSource::SignalStopSource()
    : watcher_([this](std::stop_token own) {
        while (!own.stop_requested()) {
          if (interrupt_flag().load()) {
            source_.request_stop();
            return;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
      }) {}

}  // namespace thumbfetch
