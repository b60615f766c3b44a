#pragma once
// The process's limit on open descriptors (RLIMIT_NOFILE).

#include <cstddef>

namespace thumbfetch {

// Raises the soft limit to the hard limit, as servers do (nginx's worker_rlimit_nofile): the
// common soft limit of 1024 is a guard for select(), which nothing here uses; the hard limit is
// what the administrator allows. Returns the soft limit in force afterwards (unchanged when it
// cannot be raised).
std::size_t raise_open_file_limit();

// Descriptors open in this process now (/proc/self/fd), or 0 when that cannot be read.
std::size_t count_open_fds();

}  // namespace thumbfetch
