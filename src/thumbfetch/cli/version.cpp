// `thumbfetch --version`: ours and the versions of the libraries that do the work, as linked
// (libvips and libcurl report themselves at run time; the others as built against).
#include <cstdio>  // jpeglib.h needs FILE

#include <curl/curl.h>
#include <fmt/format.h>
#include <jpeglib.h>
#include <libdeflate.h>
#include <spng.h>
#include <vips/vips.h>
#include <CLI/Version.hpp>

#include "thumbfetch/cli/cli.hpp"

// LIBJPEG_TURBO_VERSION is a bare token sequence (2.1.5): stringified.
#define THUMBFETCH_STR2(x) #x
#define THUMBFETCH_STR(x) THUMBFETCH_STR2(x)

namespace thumbfetch {

std::string version_text() {
  const curl_version_info_data* curl = curl_version_info(CURLVERSION_NOW);
  return fmt::format(
      "thumbfetch 0.1.0\n"
      "libvips {}\n"
      "libjpeg-turbo {}\n"
      "libspng {}.{}.{}\n"
      "libdeflate {}\n"
      "libcurl {} ({})\n"
      "fmt {}.{}.{}\n"
      "CLI11 {}",
      vips_version_string(), THUMBFETCH_STR(LIBJPEG_TURBO_VERSION), SPNG_VERSION_MAJOR,
      SPNG_VERSION_MINOR, SPNG_VERSION_PATCH, LIBDEFLATE_VERSION_STRING, curl->version,
      curl->ssl_version ? curl->ssl_version : "no TLS", FMT_VERSION / 10000,
      FMT_VERSION / 100 % 100, FMT_VERSION % 100, CLI11_VERSION);
}

}  // namespace thumbfetch
