#include "thumbfetch/fetch/naming.hpp"

#include <algorithm>

#include "thumbfetch/util/strings.hpp"

namespace thumbfetch {

namespace {

// The path of an absolute URL: after "scheme://authority", before '?' or '#'.
std::string_view url_path(std::string_view url) {
  size_t start = url.find("://");
  start = start == std::string_view::npos ? 0 : start + 3;
  size_t path = url.find_first_of("/?#", start);
  if (path == std::string_view::npos || url[path] != '/') return {};
  size_t end = url.find_first_of("?#", path);
  return url.substr(path, end == std::string_view::npos ? url.size() - path : end - path);
}

bool is_name_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '+' || c == '@' || c == '=' || c == ',';
}

}  // namespace

std::string safe_stem_from_url(std::string_view url) {
  // Decode first, then take the last segment: "%2F" must not smuggle a '/' past the split.
  std::string path = percent_decode(url_path(url));
  std::replace(path.begin(), path.end(), '\\', '/');
  while (!path.empty() && path.back() == '/') path.pop_back();
  std::string segment =
      path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  // Drop the extension: the real one comes from the bytes.
  if (size_t dot = segment.find_last_of('.'); dot != std::string::npos && dot > 0) {
    segment.resize(dot);
  }
  std::string stem;
  for (unsigned char c : segment) {
    char keep = is_name_char(c) ? static_cast<char>(c) : '_';
    if (keep == '_' && !stem.empty() && stem.back() == '_') continue;  // one '_' per run
    stem.push_back(keep);
  }
  // No hidden files, nothing that reads as an option, no "." or "..", no trailing dots.
  size_t lead = 0;
  while (lead < stem.size() && (stem[lead] == '.' || stem[lead] == '-' || stem[lead] == '_')) {
    ++lead;
  }
  stem.erase(0, lead);
  if (stem.size() > kMaxStemLength) stem.resize(kMaxStemLength);
  while (!stem.empty() && (stem.back() == '.' || stem.back() == '_')) stem.pop_back();
  return stem.empty() ? "image" : stem;
}

std::string url_host(std::string_view url) {
  size_t start = url.find("://");
  if (start == std::string_view::npos) return {};
  start += 3;
  size_t end = url.find_first_of("/?#", start);
  std::string_view authority =
      url.substr(start, end == std::string_view::npos ? url.npos : end - start);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  return ascii_lower(authority);
}

}  // namespace thumbfetch
