// The magic-byte sniffer (util/sniff): any bytes as a file's head. It names a format or says
// what the bytes look like, and 16 bytes decide (more never change the answer), as the header
// promises and as the callers rely on when they read only the head of a file.

#include <string>

#include "fuzz_check.hpp"
#include "thumbfetch/util/sniff.hpp"

using namespace thumbfetch;

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, size_t size) {
  const std::string_view head = fuzz::as_text(data, size);
  const ImageFormat format = sniff_image_format(head);
  FUZZ_CHECK(!format_name(format).empty() && !format_extension(format).empty(), "named");
  if (head.size() > 16) {
    FUZZ_CHECK(sniff_image_format(head.substr(0, 16)) == format, "16 bytes are enough");
  }
  if (format == ImageFormat::unknown) {
    const std::string what = describe_non_image(head);
    FUZZ_CHECK(!what.empty(), "a non-image is described");
  }
  return 0;
}
