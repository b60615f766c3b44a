// The end-of-image scanner (util/image_end): any bytes as a download arriving in chunks. The
// verdict and the offset do not depend on how the bytes are cut into chunks (the first input
// byte picks the chunk sizes), a complete or broken verdict never changes as more bytes come,
// and a broken offset lies inside what was fed.

#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "thumbfetch/util/image_end.hpp"

using namespace thumbfetch;

namespace {

using Verdict = ImageEndScanner::Verdict;

struct Outcome {
  Verdict verdict;
  std::uint64_t offset;
};

Outcome scan_whole(ImageFormat format, std::string_view bytes) {
  ImageEndScanner scanner(format);
  scanner.feed(bytes);
  return {scanner.verdict(), scanner.offset()};
}

Outcome scan_in_chunks(ImageFormat format, std::string_view bytes, unsigned seed) {
  ImageEndScanner scanner(format);
  Verdict settled = Verdict::incomplete;
  size_t at = 0;
  while (at < bytes.size()) {
    // Chunk sizes 1..16 in a pattern the seed chooses (a byte at a time is the hard case).
    seed = seed * 1103515245u + 12345u;
    const size_t n = std::min<size_t>(bytes.size() - at, 1 + (seed >> 16) % 16);
    // Each chunk in its own exact-size heap buffer, so that ASan sees a read past a chunk.
    const std::vector<char> chunk(bytes.begin() + at, bytes.begin() + at + n);
    scanner.feed({chunk.data(), chunk.size()});
    at += n;
    if (settled == Verdict::complete || settled == Verdict::broken) {
      FUZZ_CHECK(scanner.verdict() == settled, "a settled verdict never changes");
    }
    settled = scanner.verdict();
  }
  return {scanner.verdict(), scanner.offset()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, size_t size) {
  if (size == 0) return 0;
  const unsigned seed = data[0];
  const std::string_view bytes = fuzz::as_text(data + 1, size - 1);
  // As the sniffer sees it, and forced to JPEG and PNG so that garbage reaches both walkers.
  for (ImageFormat format : {sniff_image_format(bytes), ImageFormat::jpeg, ImageFormat::png}) {
    const Outcome whole = scan_whole(format, bytes);
    const Outcome chunked = scan_in_chunks(format, bytes, seed);
    FUZZ_CHECK(whole.verdict == chunked.verdict, "the verdict does not depend on the chunks");
    FUZZ_CHECK(whole.offset == chunked.offset, "the offset does not depend on the chunks");
    if (whole.verdict == Verdict::broken) {
      FUZZ_CHECK(whole.offset <= bytes.size(), "a broken offset lies inside the input");
    }
  }
  return 0;
}
