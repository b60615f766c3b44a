// Ctrl-C handling: each guarded run starts with a clear flag, and a signal that arrives as soon
// as the handlers are in place is kept.
#include <gtest/gtest.h>

#include <csignal>

#include "thumbfetch/util/interrupt.hpp"

using namespace thumbfetch;

TEST(Interrupt, EachGuardStartsClearAndKeepsASignalThatComesAtOnce) {
  {
    InterruptGuard guard;
    std::raise(SIGINT);
    EXPECT_TRUE(interrupt_flag().load());
    EXPECT_EQ(InterruptGuard::signal_received(), SIGINT);
  }
  {
    // A new run: the last run's Ctrl-C is not this one's.
    InterruptGuard guard;
    EXPECT_FALSE(interrupt_flag().load());
    EXPECT_EQ(InterruptGuard::signal_received(), 0);
    std::raise(SIGTERM);
    EXPECT_TRUE(interrupt_flag().load());
    EXPECT_EQ(InterruptGuard::signal_received(), SIGTERM);
  }
  interrupt_flag().store(false);  // leave the process as the other tests expect it
}
