// thumbfetch_hooked: the thumbfetch CLI with test hooks, built only with the tests. Its workers
// (it execs itself) crash or hang on a chosen file, so tests can prove that only that image
// fails and the batch goes on:
//   THUMBFETCH_TEST_ABORT_ON=TEXT  a worker aborts on an input whose path contains TEXT
//   THUMBFETCH_TEST_HANG_ON=TEXT   a worker hangs on it, after writing its pid to the file
//                                  THUMBFETCH_TEST_HANGING names, if set
// The release executable reads neither.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "thumbfetch/cli/cli.hpp"
#include "thumbfetch/thumbnail/worker.hpp"

namespace {

bool input_matches(const thumbfetch::ThumbJob& job, const char* variable) {
  const char* s = std::getenv(variable);
  return s && *s && job.input.string().find(s) != std::string::npos;
}

void misbehave_on_request(const thumbfetch::ThumbJob& job) {
  if (input_matches(job, "THUMBFETCH_TEST_ABORT_ON")) std::abort();
  if (input_matches(job, "THUMBFETCH_TEST_HANG_ON")) {
    if (const char* file = std::getenv("THUMBFETCH_TEST_HANGING"); file && *file) {
      const std::string temp = std::string(file) + ".tmp";
      std::ofstream(temp) << ::getpid() << "\n";
      std::rename(temp.c_str(), file);  // whole when it appears
    }
    std::this_thread::sleep_for(std::chrono::hours(1));
  }
}

}  // namespace

int main(int argc, char** argv) {
  thumbfetch::set_worker_job_hook(&misbehave_on_request);
  return thumbfetch::run_cli(argc, argv);
}
