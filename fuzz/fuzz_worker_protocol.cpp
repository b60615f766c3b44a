// The worker protocol decoder (thumbnail/worker_protocol): any bytes as what arrives on the pipe
// from a worker (responses) or from the parent (requests). The first byte picks which. Messages
// are taken one by one until one is incomplete or malformed (malformed data throws, as the
// header says; the pool replaces that worker). A message taken is exactly what its header
// announced: encoded again it reads back the same.

#include <stdexcept>
#include <string>

#include "fuzz_check.hpp"
#include "thumbfetch/thumbnail/worker_protocol.hpp"

using namespace thumbfetch;

namespace {

void requests(std::string buffer) {
  try {
    while (auto job = take_request(buffer)) {
      std::string again = encode_request(*job);
      auto back = take_request(again);
      FUZZ_CHECK(back && again.empty(), "a request encodes to one whole message");
      FUZZ_CHECK(back->input == job->input && back->output_stem == job->output_stem,
                 "a request reads back the same");
    }
  } catch (const std::exception&) {
    // malformed: the documented outcome
  }
}

void responses(std::string buffer) {
  try {
    while (auto result = take_response(buffer)) {
      std::string again = encode_response(*result);
      auto back = take_response(again);
      FUZZ_CHECK(back && again.empty(), "a response encodes to one whole message");
      FUZZ_CHECK(back->done.output == result->done.output &&
                     back->error.message == result->error.message && back->state == result->state,
                 "a response reads back the same");
    }
  } catch (const std::exception&) {
    // malformed: the documented outcome
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, size_t size) {
  if (size == 0) return 0;
  std::string buffer(fuzz::as_text(data + 1, size - 1));
  if (data[0] & 1) {
    requests(std::move(buffer));
  } else {
    responses(std::move(buffer));
  }
  return 0;
}
