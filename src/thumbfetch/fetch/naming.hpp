#pragma once
// Safe, stable file names for downloads. A name comes from the URL's last path segment, cleaned
// so that it can never leave the output folder or surprise a shell: no '/', no "..", no control
// characters, no leading dot or dash, at most kMaxStemLength bytes. The extension is added later
// from the detected image type. Which URL gets which name in a folder is job/names.hpp's work.

#include <string>
#include <string_view>

namespace thumbfetch {

inline constexpr size_t kMaxStemLength = 100;

// The cleaned name stem (no extension) for `url`; "image" when nothing usable is left.
std::string safe_stem_from_url(std::string_view url);

// "host:port" in lowercase, the key for the per-host limit ("" when there is none).
std::string url_host(std::string_view url);

}  // namespace thumbfetch
#include "thumbfetch/util/strings.hpp"
