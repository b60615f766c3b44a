#pragma once
// The worker side of the process strategy: `thumbfetch worker` reads jobs on stdin and answers
// on stdout until stdin closes. It is exec'd fresh, so it starts with no thread or libvips state
// inherited from the parent.

#include "thumbfetch/thumbnail/jobs.hpp"
#include "thumbfetch/thumbnail/options.hpp"

namespace thumbfetch {

// Called in the worker before each job. Only the test build's executable (tests/hooked/) sets
// one, to crash or hang a worker on a chosen file: the release executable has no such hooks, so
// nothing in its environment can make it misbehave.
using WorkerJobHook = void (*)(const ThumbJob& job);
void set_worker_job_hook(WorkerJobHook hook);

// Serves jobs from `in_fd`, answers on `out_fd`. Returns the process exit status.
int run_thumb_worker(const ThumbOptions& options, int in_fd, int out_fd);

}  // namespace thumbfetch
