#include "thumbfetch/util/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

namespace thumbfetch {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kTempSuffix = ".tfpart";

std::string errno_text(int err) {
  return std::strerror(err);
}

// The umask can only be read by setting it, which is process-wide: read it once (thread-safe
// static initialisation) and never touch it again while threads write files.
mode_t process_umask() {
  static const mode_t mask = [] {
    const mode_t m = ::umask(0);
    ::umask(m);
    return m;
  }();
  return mask;
}

}  // namespace

bool is_temp_file_name(const std::string& name) {
  return name.size() > kTempSuffix.size() + 1 && name.front() == '.' && name.ends_with(kTempSuffix);
}

AtomicFile::AtomicFile(fs::path final_path) : final_path_(std::move(final_path)) {
  // ".NAME.XXXXXX.tfpart": hidden, unique, and recognisable as ours for stale clean-up.
  std::string pattern = (final_path_.parent_path() / ("." + final_path_.filename().string() +
                                                      ".XXXXXX" + std::string(kTempSuffix)))
                            .string();
  int fd = ::mkostemps(pattern.data(), static_cast<int>(kTempSuffix.size()), O_CLOEXEC);
  if (fd < 0) {
    error_ = make_error(ErrorKind::write,
                        fmt::format("cannot create a temp file in {}: {}",
                                    final_path_.parent_path().string(), errno_text(errno)));
    return;
  }
  // mkstemp creates 0600; thumbnails and downloads are ordinary files (0666 less the umask).
  ::fchmod(fd, 0666 & ~process_umask());
  fd_.reset(fd);
  temp_path_ = pattern;
}

AtomicFile::~AtomicFile() {
  if (fd_.valid()) {
    fd_.reset();
    ::unlink(temp_path_.c_str());
  }
}

Status AtomicFile::write(std::span<const unsigned char> bytes) {
  const unsigned char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(fd_.get(), p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(ErrorKind::write, fmt::format("cannot write {}: {}", final_path_.string(),
                                                      errno_text(errno)));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return Ok{};
}

Status AtomicFile::commit() {
  int fd = fd_.release();
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(temp_path_.c_str());
    return make_error(ErrorKind::write,
                      fmt::format("cannot write {}: {}", final_path_.string(), errno_text(err)));
  }
  if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
    int err = errno;
    ::unlink(temp_path_.c_str());
    return make_error(ErrorKind::write, fmt::format("cannot rename into {}: {}",
                                                    final_path_.string(), errno_text(err)));
  }
  return Ok{};
}

Status write_file_atomically(const fs::path& path, std::span<const unsigned char> bytes) {
  AtomicFile file(path);
  if (!file.ok()) return file.error();
  if (auto st = file.write(bytes); !st) return st.error();
  return file.commit();
}

Result<std::string> read_file(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid())
    return make_error(ErrorKind::io, fmt::format("cannot open: {}", errno_text(errno)));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return make_error(ErrorKind::io, "not a regular file");
  }
  std::string data;
  data.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < data.size()) {
    ssize_t n = ::read(fd.get(), data.data() + got, data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(ErrorKind::io, fmt::format("cannot read: {}", errno_text(errno)));
    if (n == 0) break;  // the file shrank under us: keep what is there
    got += static_cast<size_t>(n);
  }
  data.resize(got);
  return data;
}

int remove_stale_temp_files(const fs::path& dir) {
  int removed = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file(ec) && is_temp_file_name(entry.path().filename().string())) {
      if (fs::remove(entry.path(), ec)) ++removed;
    }
  }
  return removed;
}

}  // namespace thumbfetch
