#pragma once
// A list of image URLs, one per line: blank lines and '#' comments are skipped, surrounding
// white space trimmed, each URL checked (http or https, a host, no spaces) and normalised by
// libcurl's URL parser, duplicates (after normalisation) kept once, in first-seen order.

#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "thumbfetch/util/error.hpp"

namespace thumbfetch {

struct InvalidUrlLine {
  int line = 0;  // 1-based
  std::string text;
  std::string reason;
};

struct UrlList {
  std::vector<std::string> urls;
  std::vector<InvalidUrlLine> invalid;
  int duplicates = 0;
};

// The normalised form of an absolute http(s) URL, or why it is not one (ErrorKind::refused).
Result<std::string> normalize_http_url(std::string_view text);

UrlList parse_url_list(std::istream& in);

// A URL list read one line at a time, so a list of millions is never held: each call gives the
// next URL (normalised) or the next refused line. Duplicates are not removed here (a streamed
// run finds them by name, job/names.hpp).
class UrlListReader {
 public:
  struct Entry {
    std::string url;  // empty for a refused line
    InvalidUrlLine invalid;
  };
  explicit UrlListReader(std::istream& in) : in_(in) {}
  // nullopt at the end of the list; std::system_error when the stream could not be read.
  std::optional<Entry> next();

 private:
  std::istream& in_;
  std::string line_;
  int number_ = 0;
};

// FileRangeStream's stop for "to the end of the file" (an empty range [0, 0) is a range too:
// a shard of a list shorter in bytes than the number of shards).
inline constexpr std::uint64_t kToEndOfFile = ~std::uint64_t{0};

// The bytes [begin, stop) of a file as an input stream (pread, 64 KiB at a time): a shard's part
// of a list, read without holding it. bad() when the file cannot be opened. A read error, or a
// file that ends before `stop` (it was cut short since the range was taken), throws
// std::system_error out of the read: never taken for the end of the list.
class FileRangeStream : public std::istream {
 public:
  FileRangeStream(const std::string& path, std::uint64_t begin, std::uint64_t stop = kToEndOfFile);
  ~FileRangeStream() override;

 private:
  class Buffer;
  std::unique_ptr<Buffer> buffer_;
};

// Reads FILE, or standard input for "-". A file that cannot be read is an ErrorKind::io.
Result<UrlList> read_url_list(const std::string& path);

}  // namespace thumbfetch
