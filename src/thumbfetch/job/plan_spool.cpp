#include "thumbfetch/job/plan_spool.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "thumbfetch/job/setup_error.hpp"

namespace thumbfetch {

namespace {

constexpr size_t kChunk = 1 << 16;

void put(std::string& out, const void* data, size_t n) {
  out.append(static_cast<const char*>(data), n);
}

void put_string(std::string& out, const std::string& s) {
  const auto n = static_cast<std::uint32_t>(s.size());
  put(out, &n, sizeof n);
  out.append(s);
}

}  // namespace

PlanSpool::PlanSpool(const std::filesystem::path& dir) {
  fd_.reset(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (!fd_.valid()) {  // a file system without O_TMPFILE: a named file, unlinked at once
    std::string name = (dir / ".thumbfetch-plan-XXXXXX").string();
    fd_.reset(::mkostemp(name.data(), O_CLOEXEC));
    if (fd_.valid()) ::unlink(name.c_str());
  }
  if (!fd_.valid()) {
    throw SetupError(fmt::format("cannot make the run's plan file in {}: {}", dir.string(),
                                 std::strerror(errno)));
  }
}

void PlanSpool::write(const PlannedItem& item) {
  const char type = item.refused ? 'B' : 'U';
  put(buffer_, &type, 1);
  if (item.refused) {
    put(buffer_, &item.invalid.line, sizeof item.invalid.line);
    put_string(buffer_, item.invalid.text);
    put_string(buffer_, item.invalid.reason);
  } else {
    const char skip = item.skip ? 1 : 0;
    put(buffer_, &skip, 1);
    put(buffer_, &item.index, sizeof item.index);
    put(buffer_, &item.source_index, sizeof item.source_index);
    put(buffer_, &item.previous, sizeof item.previous);
    put_string(buffer_, item.url);
    put_string(buffer_, item.stem);
  }
  ++written_;
  if (buffer_.size() >= kChunk) flush();
}

void PlanSpool::flush() {
  size_t done = 0;
  while (done < buffer_.size()) {
    const ssize_t n = ::write(fd_.get(), buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      throw SetupError(fmt::format("cannot write the run's plan file: {}",
                                   n < 0 ? std::strerror(errno) : "no space left"));
    }
    done += static_cast<size_t>(n);
  }
  buffer_.clear();
}

void PlanSpool::rewind() {
  flush();
  ::lseek(fd_.get(), 0, SEEK_SET);
  at_ = 0;
  read_ = 0;
}

bool PlanSpool::fill(size_t need) {
  if (buffer_.size() - at_ >= need) return true;
  buffer_.erase(0, at_);
  at_ = 0;
  while (buffer_.size() < need) {
    const size_t had = buffer_.size();
    buffer_.resize(had + std::max(kChunk, need));
    ssize_t n = -1;
    do {
      n = ::read(fd_.get(), buffer_.data() + had, buffer_.size() - had);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      throw std::runtime_error(
          fmt::format("cannot read the run's plan file: {}", std::strerror(errno)));
    }
    buffer_.resize(had + static_cast<size_t>(n));
    if (n == 0) return false;
  }
  return true;
}

bool PlanSpool::get(void* out, size_t n) {
  if (!fill(n)) return false;
  std::memcpy(out, buffer_.data() + at_, n);
  at_ += n;
  return true;
}

bool PlanSpool::get_string(std::string& out) {
  std::uint32_t n = 0;
  if (!get(&n, sizeof n) || !fill(n)) return false;
  out.assign(buffer_.data() + at_, n);
  at_ += n;
  return true;
}

std::optional<PlannedItem> PlanSpool::read() {
  if (!fd_.valid()) return std::nullopt;
  char type = 0;
  if (!get(&type, 1)) {
    if (read_ != written_) cut_short();
    return std::nullopt;
  }
  std::optional<PlannedItem> item = read_record(type);
  if (!item) cut_short();
  ++read_;
  return item;
}

std::optional<PlannedItem> PlanSpool::read_record(char type) {
  PlannedItem item;
  item.refused = type == 'B';
  if (item.refused) {
    if (get(&item.invalid.line, sizeof item.invalid.line) && get_string(item.invalid.text) &&
        get_string(item.invalid.reason)) {
      return item;
    }
    return std::nullopt;
  }
  char skip = 0;
  if (get(&skip, 1) && get(&item.index, sizeof item.index) &&
      get(&item.source_index, sizeof item.source_index) &&
      get(&item.previous, sizeof item.previous) && get_string(item.url) && get_string(item.stem)) {
    item.skip = skip != 0;
    return item;
  }
  return std::nullopt;
}

// URLs would otherwise never be reported, and a shard be marked done without them.
void PlanSpool::cut_short() const {
  throw std::runtime_error(fmt::format(
      "the run's plan file ends after {} of its {} records: it was cut short", read_, written_));
}

}  // namespace thumbfetch
