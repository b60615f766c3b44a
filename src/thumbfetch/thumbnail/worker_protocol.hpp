#pragma once
// The messages between the process strategy and its workers, over pipes. Binary-safe (paths
// may hold any byte): a header line with lengths, then the raw bytes.
//   ready:    "READY\n"
//   request:  "J <input_len> <stem_len> <hash>\n" input stem      (hash: 1 = HashInput::yes)
//   response: "R <state> <w> <h> <source_w> <source_h> <bytes> <decoder> <kind> <out_len> <msg_len>
//              <usec> <sha_len>\n" output message sha256
//   (sha_len is 0 or 64: the worker hashes the bytes it read, so the parent never reads the
//   input again)

#include <optional>
#include <string>

#include "thumbfetch/thumbnail/jobs.hpp"

namespace thumbfetch {

inline constexpr std::string_view kWorkerReady = "READY\n";

std::string encode_request(const ThumbJob& job);
std::string encode_response(const ThumbResult& result);

// Each parser consumes one complete message from the front of `buffer`, or returns nothing and
// leaves it alone when the message is not complete yet. Malformed data throws
// std::runtime_error: a field that is not a plain number, a length past 16 MiB, a header line
// past 1 KiB, a state, decoder or error kind that is not ours (a worker answers done or failed),
// a digest that is not 64 lowercase hex digits.
std::optional<ThumbJob> take_request(std::string& buffer);
std::optional<ThumbResult> take_response(std::string& buffer);

// Writes all of `data`; false when the other end is gone.
bool write_all(int fd, std::string_view data);

}  // namespace thumbfetch
