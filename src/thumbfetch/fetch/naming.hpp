#pragma once
// Safe, stable file names for downloads. A name comes from the URL's last path segment, cleaned
// so that it can never leave the output folder or surprise a shell: no '/', no "..", no control
// characters, no leading dot or dash, at most kMaxStemLength bytes. The extension is added later
// from the detected image type. Where two URLs would share a name, the later one (in list order)
// gets a short hash of its URL, the same on every run and whatever the strategy.

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace thumbfetch {

inline constexpr size_t kMaxStemLength = 100;

// The cleaned name stem (no extension) for `url`; "image" when nothing usable is left.
std::string safe_stem_from_url(std::string_view url);

// Stems for `urls`, in order, unique (case-insensitively) among themselves and not in `taken`
// (lowercase stems already used by other URLs, e.g. from an earlier run's manifest).
std::vector<std::string> plan_stems(const std::vector<std::string>& urls,
                                    const std::set<std::string>& taken = {});

// "host:port" in lowercase, the key for the per-host limit ("" when there is none).
std::string url_host(std::string_view url);

}  // namespace thumbfetch
#include "thumbfetch/util/strings.hpp"
