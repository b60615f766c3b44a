#pragma once
// How `fetch`, `thumbs` and `run` end when the disk filled up (job/out_of_space.hpp): one message
// for the whole run, never one per item, and exit 1.

#include <optional>

#include "thumbfetch/util/error.hpp"

namespace thumbfetch {

// Prints "thumbfetch: no space left on device: ..." once, with how many items were left undone.
void print_out_of_space(const Error& first, int not_done);

// Whether a failed manifest commit deserves its own message: not when it failed for the same
// full disk that was already reported.
bool worth_reporting(const Error& commit_error, const std::optional<Error>& out_of_space);

}  // namespace thumbfetch
