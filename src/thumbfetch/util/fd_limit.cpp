#include "thumbfetch/util/fd_limit.hpp"

#include <sys/resource.h>

#include <filesystem>
#include <system_error>

namespace thumbfetch {

std::size_t raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    // An unlimited hard limit is still capped by the kernel (fs.nr_open): setting it fails,
    // and the old soft limit stays.
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return static_cast<std::size_t>(limit.rlim_cur);
}

std::size_t count_open_fds() {
  std::error_code ec;
  std::size_t n = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++n;
  }
  // The iterator's own descriptor is listed too.
  return ec || n == 0 ? 0 : n - 1;
}

}  // namespace thumbfetch
