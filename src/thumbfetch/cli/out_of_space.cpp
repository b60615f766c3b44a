#include "thumbfetch/cli/out_of_space.hpp"

#include <cstdio>

#include <fmt/format.h>

namespace thumbfetch {

void print_out_of_space(const Error& first, int not_done) {
  fmt::print(stderr,
             "thumbfetch: no space left on device ({}): stopped, {} not done; free some space and "
             "run the same command again to resume\n",
             first.message, not_done);
}

bool worth_reporting(const Error& commit_error, const std::optional<Error>& out_of_space) {
  return !(out_of_space && commit_error.kind == ErrorKind::no_space);
}

}  // namespace thumbfetch
