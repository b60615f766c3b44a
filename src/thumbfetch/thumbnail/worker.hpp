#pragma once
// The worker side of the process strategy: `thumbfetch worker` reads jobs on stdin and answers
// on stdout until stdin closes. It is exec'd fresh, so it starts with no thread or libvips state
// inherited from the parent.

#include "thumbfetch/thumbnail/options.hpp"

namespace thumbfetch {

// Serves jobs from `in_fd`, answers on `out_fd`. Returns the process exit status.
int run_thumb_worker(const ThumbOptions& options, int in_fd, int out_fd);

}  // namespace thumbfetch
