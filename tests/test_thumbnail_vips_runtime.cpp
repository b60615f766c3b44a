// libvips' start-up as thumbfetch does it (thumbnail/vips_runtime).
#include <gtest/gtest.h>

#include <cstdlib>

#include "thumbfetch/thumbnail/vips_runtime.hpp"

extern char** environ;

using namespace thumbfetch;

// init_vips() runs on whichever thread first meets an image for libvips, while other threads
// read the environment (libcurl's getenv, posix_spawn of worker processes). Found by TSan: it
// called setenv("VIPSHOME"), which reallocated `environ` under a pool thread's posix_spawn.
// Starting libvips must leave the environment as it is. (ctest runs each test in a process of
// its own, so libvips has not started yet here.)
TEST(VipsRuntime, StartingLibvipsLeavesTheEnvironmentAlone) {
  char** const before = environ;
  size_t count = 0;
  for (char** e = environ; *e != nullptr; ++e) ++count;
  init_vips(nullptr);
  size_t after = 0;
  for (char** e = environ; *e != nullptr; ++e) ++after;
  EXPECT_EQ(environ, before);
  EXPECT_EQ(after, count);
  EXPECT_NE(std::getenv("VIPSHOME"), nullptr);
}
