#include "thumbfetch/source/url_list.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <fstream>
#include <iostream>
#include <memory>
#include <system_error>
#include <unordered_set>

#include <fmt/format.h>

#include "thumbfetch/fetch/naming.hpp"
#include "thumbfetch/util/fd.hpp"
#include "thumbfetch/util/strings.hpp"

namespace thumbfetch {

namespace {

struct CurlUrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
struct CurlStringDeleter {
  void operator()(char* s) const { curl_free(s); }
};
using CurlString = std::unique_ptr<char, CurlStringDeleter>;

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n\f\v";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

CurlString get_part(CURLU* u, CURLUPart part) {
  char* out = nullptr;
  if (curl_url_get(u, part, &out, 0) != CURLUE_OK) return CurlString(nullptr);
  return CurlString(out);
}

}  // namespace

Result<std::string> normalize_http_url(std::string_view text) {
  for (unsigned char c : text) {
    if (c <= 0x20 || c == 0x7F) {
      return make_error(ErrorKind::refused, "invalid URL: contains spaces or control characters");
    }
  }
  const std::string lower = ascii_lower(text.substr(0, 8));
  if (!lower.starts_with("http://") && !lower.starts_with("https://")) {
    return make_error(ErrorKind::refused, "invalid URL: only http:// and https:// are fetched");
  }
  std::unique_ptr<CURLU, CurlUrlDeleter> u(curl_url());
  if (!u) return make_error(ErrorKind::internal, "libcurl cannot parse URLs");
  const std::string copy(text);
  if (CURLUcode rc = curl_url_set(u.get(), CURLUPART_URL, copy.c_str(), 0); rc != CURLUE_OK) {
    return make_error(ErrorKind::refused, fmt::format("invalid URL: {}", curl_url_strerror(rc)));
  }
  CurlString host = get_part(u.get(), CURLUPART_HOST);
  if (!host || *host.get() == '\0') return make_error(ErrorKind::refused, "invalid URL: no host");
  CurlString full = get_part(u.get(), CURLUPART_URL);
  if (!full) return make_error(ErrorKind::refused, "invalid URL");
  return std::string(full.get());
}

std::optional<UrlListReader::Entry> UrlListReader::next() {
  while (std::getline(in_, line_)) {
    ++number_;
    std::string_view text = trim(line_);
    if (number_ == 1 && text.starts_with("\xEF\xBB\xBF")) text = trim(text.substr(3));  // BOM
    if (text.empty() || text.front() == '#') continue;
    auto url = normalize_http_url(text);
    if (!url) return Entry{{}, {number_, std::string(text), url.error().message}};
    return Entry{std::move(*url), {}};
  }
  if (in_.bad()) throw std::system_error(EIO, std::generic_category(), "cannot read the URL list");
  return std::nullopt;
}

UrlList parse_url_list(std::istream& in) {
  UrlList list;
  std::unordered_set<std::string> seen;
  UrlListReader reader(in);
  while (std::optional<UrlListReader::Entry> e = reader.next()) {
    if (e->url.empty()) {
      list.invalid.push_back(std::move(e->invalid));
    } else if (!seen.insert(e->url).second) {
      ++list.duplicates;
    } else {
      list.urls.push_back(std::move(e->url));
    }
  }
  return list;
}

class FileRangeStream::Buffer : public std::streambuf {
 public:
  Buffer(const std::string& path, std::uint64_t begin, std::uint64_t end)
      : path_(path), fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)), at_(begin), end_(end) {}
  bool ok() const { return fd_.valid(); }

 protected:
  int_type underflow() override {
    if (!fd_.valid() || at_ >= end_) return traits_type::eof();
    const auto want = static_cast<size_t>(std::min<std::uint64_t>(data_.size(), end_ - at_));
    ssize_t n = -1;
    do {
      n = ::pread(fd_.get(), data_.data(), want, static_cast<off_t>(at_));
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      throw std::system_error(errno, std::generic_category(),
                              fmt::format("cannot read the URL list {} at byte {}", path_, at_));
    }
    if (n == 0) {
      if (end_ == kToEndOfFile) return traits_type::eof();
      // Lines would go missing without a word (a shard marked done without them).
      throw std::system_error(EIO, std::generic_category(),
                              fmt::format("the URL list {} ends at byte {}, before byte {} where "
                                          "this part of it ends: it changed while read",
                                          path_, at_, end_));
    }
    at_ += static_cast<std::uint64_t>(n);
    setg(data_.data(), data_.data(), data_.data() + n);
    return traits_type::to_int_type(data_[0]);
  }

 private:
  std::string path_;
  UniqueFd fd_;
  std::uint64_t at_, end_;
  std::array<char, 1 << 16> data_{};
};

FileRangeStream::FileRangeStream(const std::string& path, std::uint64_t begin, std::uint64_t stop)
    : std::istream(nullptr), buffer_(std::make_unique<Buffer>(path, begin, stop)) {
  rdbuf(buffer_.get());
  if (!buffer_->ok()) {
    setstate(std::ios::badbit);
  } else {
    // What the buffer throws leaves getline() as thrown, not as a quiet end of the stream.
    exceptions(std::ios::badbit);
  }
}

FileRangeStream::~FileRangeStream() = default;

Result<UrlList> read_url_list(const std::string& path) {
  if (path == "-") return parse_url_list(std::cin);
  std::ifstream in(path);
  if (!in) return make_error(ErrorKind::io, fmt::format("cannot read the URL list {}", path));
  return parse_url_list(in);
}

}  // namespace thumbfetch
