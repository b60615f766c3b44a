#include "thumbfetch/util/jsonl_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "thumbfetch/util/atomic_file.hpp"

namespace thumbfetch {

JsonlFile::JsonlFile(std::filesystem::path path) : path_(std::move(path)) {
  fd_.reset(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666));
  if (!fd_.valid()) {
    warned_ = true;
    fmt::print(stderr, "thumbfetch: cannot open {}: {}\n", path_.string(), std::strerror(errno));
  }
}

std::int64_t JsonlFile::append(std::string_view line) {
  if (!fd_.valid()) return -1;
  std::string whole;
  whole.reserve(line.size() + 1);
  whole.append(line).push_back('\n');
  const off_t before = ::lseek(fd_.get(), 0, SEEK_END);
  const ssize_t n = ::write(fd_.get(), whole.data(), whole.size());
  if (n == static_cast<ssize_t>(whole.size())) return before;
  const int err = n < 0 ? errno : ENOSPC;  // a short write is a full disk
  append_errno_ = err;
  // A torn row would glue itself to the next one and lose both: cut it off.
  if (n > 0 && before >= 0) {
    [[maybe_unused]] const int cut = ::ftruncate(fd_.get(), before);  // best effort
  }
  // A full disk is the run's to report, once (job/out_of_space.hpp), or the final rewrite's.
  if (!warned_ && write_error_kind(err) != ErrorKind::no_space) {
    warned_ = true;
    fmt::print(stderr, "thumbfetch: cannot append to {}: {}\n", path_.string(), std::strerror(err));
  }
  return -1;
}

Status JsonlFile::rewrite(const std::function<void(const LineSink&)>& produce) {
  return rewrite_checked([&](const LineSink& sink) -> Status {
    produce(sink);
    return Ok{};
  });
}

Status JsonlFile::rewrite_checked(const std::function<Status(const LineSink&)>& produce) {
  fd_.reset();
  AtomicFile file(path_);
  if (!file.ok()) return file.error();
  std::string buffer;
  Status status = Ok{};
  auto flush = [&] {
    if (status.ok()) {
      status = file.write({reinterpret_cast<const unsigned char*>(buffer.data()), buffer.size()});
    }
    buffer.clear();
  };
  const Status produced = produce([&](std::string_view line) {
    buffer.append(line).push_back('\n');
    if (buffer.size() >= (1 << 16)) flush();
  });
  if (!produced) return produced.error();  // the temp file goes with `file`
  flush();
  if (!status) return status.error();
  return file.commit();
}

}  // namespace thumbfetch
