#include "thumbfetch/job/folder.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "thumbfetch/job/setup_error.hpp"
#include "thumbfetch/util/atomic_file.hpp"

namespace thumbfetch {

namespace fs = std::filesystem;

namespace {

void make_folder(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!fs::is_directory(dir)) {
    throw SetupError(fmt::format("cannot create the output folder {}: {}", dir.string(),
                                 ec ? ec.message() : "a file of that name is in the way"));
  }
}

// A probe file proves the folder takes new files (permissions, read-only mounts, a full disk
// are found here rather than once per item).
void probe_writable(const fs::path& dir) {
  AtomicFile probe(dir / ".thumbfetch-probe");
  if (!probe.ok()) {
    throw SetupError(fmt::format("the output folder {} is not writable: {}", dir.string(),
                                 probe.error().message));
  }
  static constexpr unsigned char kByte[] = {'x'};
  if (auto st = probe.write(kByte); !st) {
    throw SetupError(
        fmt::format("the output folder {} is not writable: {}", dir.string(), st.error().message));
  }
}  // the probe is never committed: its destructor removes it

std::string read_holder(int fd) {
  char buf[1024];
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string text(buf, n > 0 ? static_cast<size_t>(n) : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  std::string joined;
  for (char c : text) joined += c == '\n' ? std::string(", ") : std::string(1, c);
  text = std::move(joined);
  return text.empty() ? "a run that is still starting" : text;
}

void write_holder(int fd, const std::string& command) {
  const auto now = std::chrono::system_clock::now();
  const std::string text =
      fmt::format("pid {}\nsince {:%Y-%m-%d %H:%M:%S}\ncommand {}\n", ::getpid(),
                  fmt::localtime(std::chrono::system_clock::to_time_t(now)), command);
  if (::ftruncate(fd, 0) == 0) {
    [[maybe_unused]] ssize_t n = ::pwrite(fd, text.data(), text.size(), 0);
  }
}

UniqueFd take_lock(const fs::path& dir, const std::string& command, WaitForLock wait,
                   std::stop_token stop) {
  const fs::path path = dir / kLockName;
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) {
    throw SetupError(
        fmt::format("cannot open the lock file {}: {}", path.string(), std::strerror(errno)));
  }
  bool told = false;
  while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      throw SetupError(fmt::format("cannot lock {}: {}", path.string(), std::strerror(errno)));
    }
    const std::string holder = read_holder(fd.get());
    if (wait == WaitForLock::no) {
      throw FolderLockedError(fmt::format(
          "{} is in use by another thumbfetch run ({}); wait for it to finish, or give --wait",
          dir.string(), holder));
    }
    if (!told) {
      fmt::print(stderr, "thumbfetch: waiting for the run that holds {} ({})\n", dir.string(),
                 holder);
      told = true;
    }
    if (stop.stop_requested()) {
      throw StoppedBeforeWork(fmt::format("interrupted while waiting for {}", dir.string()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  write_holder(fd.get(), command);
  return fd;
}

}  // namespace

OutputFolder OutputFolder::open(const fs::path& dir, const std::string& command, WaitForLock wait,
                                std::stop_token stop) {
  make_folder(dir);
  probe_writable(dir);
  UniqueFd lock = take_lock(dir, command, wait, stop);
  remove_stale_temp_files(dir);
  return OutputFolder(dir, std::move(lock));
}

void check_output_file(const fs::path& path, const std::string& what) {
  if (path.empty() || path == "-") return;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    throw SetupError(fmt::format("cannot write the {} to {}: it is a folder", what, path.string()));
  }
  const fs::path parent = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  if (!fs::is_directory(parent, ec)) {
    throw SetupError(fmt::format("cannot write the {} to {}: the folder {} does not exist", what,
                                 path.string(), parent.string()));
  }
  if (::access(parent.c_str(), W_OK) != 0) {
    throw SetupError(
        fmt::format("cannot write the {} to {}: {}", what, path.string(), std::strerror(errno)));
  }
}

std::string command_line(int argc, const char* const* argv) {
  std::string out;
  bool secret_next = false;
  for (int i = 0; i < argc; ++i) {
    std::string arg = i == 0 ? fs::path(argv[0]).filename().string() : std::string(argv[i]);
    // The lock file and reports are readable by others: never a whole Client-ID in them.
    if (secret_next) arg = "...";
    secret_next = arg == "--imgur-client-id";
    if (arg.starts_with("--imgur-client-id=")) arg = "--imgur-client-id=...";
    const bool quote = arg.empty() || arg.find_first_of(" \t'\"$") != std::string::npos;
    if (i > 0) out += ' ';
    out += quote ? fmt::format("'{}'", arg) : arg;
  }
  return out;
}

}  // namespace thumbfetch
