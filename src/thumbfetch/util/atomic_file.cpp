#include "thumbfetch/util/atomic_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
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
  // ".NAME.PID-XXXXXX.tfpart": hidden, unique, recognisable as ours, and naming the process
  // that writes it, so stale clean-up can tell a live run's file from a dead run's.
  std::string pattern =
      (final_path_.parent_path() /
       fmt::format(".{}.{}-XXXXXX{}", final_path_.filename().string(), ::getpid(), kTempSuffix))
          .string();
  int fd = ::mkostemps(pattern.data(), static_cast<int>(kTempSuffix.size()), O_CLOEXEC);
  if (fd < 0) {
    error_ = make_error(write_error_kind(errno),
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
      return make_error(
          write_error_kind(errno),
          fmt::format("cannot write {}: {}", final_path_.string(), errno_text(errno)));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return Ok{};
}

namespace {

// rename() that never replaces: renameat2(RENAME_NOREPLACE) where the file system has it,
// else link() + unlink(), which fails the same way (EEXIST) on file systems without it (NFS).
int rename_no_replace(const char* from, const char* to) {
  if (::renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return -1;
  if (::link(from, to) != 0) return -1;
  ::unlink(from);
  return 0;
}

}  // namespace

Status AtomicFile::commit(Overwrite overwrite) {
  int fd = fd_.release();
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(temp_path_.c_str());
    return make_error(write_error_kind(err),
                      fmt::format("cannot write {}: {}", final_path_.string(), errno_text(err)));
  }
  const int rc = overwrite == Overwrite::yes
                     ? ::rename(temp_path_.c_str(), final_path_.c_str())
                     : rename_no_replace(temp_path_.c_str(), final_path_.c_str());
  if (rc != 0) {
    int err = errno;
    ::unlink(temp_path_.c_str());
    if (err == EEXIST) {
      return make_error(ErrorKind::write,
                        fmt::format("{} appeared during the run and is not ours: not replaced",
                                    final_path_.string()));
    }
    return make_error(ErrorKind::write, fmt::format("cannot rename into {}: {}",
                                                    final_path_.string(), errno_text(err)));
  }
  return Ok{};
}

Status write_file_atomically(const fs::path& path, std::span<const unsigned char> bytes,
                             Overwrite overwrite) {
  AtomicFile file(path);
  if (!file.ok()) return file.error();
  if (auto st = file.write(bytes); !st) return st.error();
  return file.commit(overwrite);
}

namespace {

// What a file that is not a regular one is, for a message.
const char* file_type_name(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISDIR(mode)) return "a folder";
  return "an unknown file type";
}

}  // namespace

Result<UniqueFd> open_regular_file(const fs::path& path, std::uint64_t* size) {
  // O_NONBLOCK: open() of a FIFO returns at once instead of waiting for a writer (it has no
  // effect on reads of regular files); the type is then checked on the descriptor itself.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd.valid())
    return make_error(ErrorKind::io, fmt::format("cannot open: {}", errno_text(errno)));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return make_error(ErrorKind::io, fmt::format("cannot stat: {}", errno_text(errno)));
  if (!S_ISREG(st.st_mode)) {
    return make_error(ErrorKind::io,
                      fmt::format("not a regular file ({})", file_type_name(st.st_mode)));
  }
  if (size) *size = static_cast<std::uint64_t>(st.st_size);
  return fd;
}

Result<std::string_view> read_file_into(const fs::path& path, std::uint64_t max_bytes,
                                        std::string& buffer) {
  std::uint64_t size = 0;
  auto fd = open_regular_file(path, &size);
  if (!fd) return fd.error();
  if (size > max_bytes) {
    return make_error(ErrorKind::too_large,
                      fmt::format("{} bytes, more than the {} allowed", size, max_bytes));
  }
  // Grown, never shrunk: a reused buffer is zeroed only where it grows.
  if (buffer.size() < size) buffer.resize(static_cast<size_t>(size));
  size_t got = 0;
  while (got < size) {
    ssize_t n = ::read(fd->get(), buffer.data() + got, static_cast<size_t>(size) - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(ErrorKind::io, fmt::format("cannot read: {}", errno_text(errno)));
    if (n == 0) break;  // the file shrank under us: keep what is there
    got += static_cast<size_t>(n);
  }
  // A file that grows under us is read up to its size when opened.
  return std::string_view(buffer.data(), got);
}

Result<std::string> read_file(const fs::path& path, std::uint64_t max_bytes) {
  std::string data;
  auto read = read_file_into(path, max_bytes, data);
  if (!read) return read.error();
  data.resize(read->size());
  return data;
}

namespace {

// The writer's process id in ".NAME.PID-XXXXXX.tfpart", 0 when the name has none.
pid_t temp_file_writer(const std::string& name) {
  const std::string_view body = std::string_view(name).substr(0, name.size() - kTempSuffix.size());
  const size_t dot = body.rfind('.');
  const size_t dash = body.rfind('-');
  if (dot == std::string_view::npos || dash == std::string_view::npos || dash < dot) return 0;
  pid_t pid = 0;
  for (char c : body.substr(dot + 1, dash - dot - 1)) {
    if (c < '0' || c > '9' || pid > 100'000'000) return 0;
    pid = pid * 10 + (c - '0');
  }
  return pid;
}

// Gone: no such process, or a zombie (a killed run's worker not reaped yet still answers kill).
bool process_is_gone(pid_t pid) {
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno == ESRCH)) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

}  // namespace

int remove_stale_temp_files(const fs::path& dir) {
  int removed = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file(ec) || !is_temp_file_name(name)) continue;
    if (process_is_gone(temp_file_writer(name)) && fs::remove(entry.path(), ec)) ++removed;
  }
  return removed;
}

}  // namespace thumbfetch
