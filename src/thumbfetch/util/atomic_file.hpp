#pragma once
// Files appear under their final name only when complete: data goes to a hidden temp file in
// the same directory and is renamed to the final name on commit. A temp file that is never
// committed is removed by the destructor; one left by a killed run is removed by the next run
// (remove_stale_temp_files), and never carries a final name. Temp names carry the writing
// process's id, so a run removes only the leftovers of processes that are gone.

#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <string>

#include "thumbfetch/util/error.hpp"
#include "thumbfetch/util/fd.hpp"

namespace thumbfetch {

// Whether commit() may replace a file that already has the final name. Outputs of a run use
// `no`: a file the run does not own is never replaced (the job layer removes its own stale
// outputs before redoing them); manifests and reports, which the run does own, use `yes`.
enum class Overwrite { no, yes };

class AtomicFile {
 public:
  // Opens a temp file beside `final_path`. Check ok() / error() before writing.
  explicit AtomicFile(std::filesystem::path final_path);
  AtomicFile(AtomicFile&&) = default;
  AtomicFile& operator=(AtomicFile&&) = delete;
  ~AtomicFile();

  bool ok() const { return fd_.valid(); }
  const Error& error() const { return error_; }
  int fd() const { return fd_.get(); }
  const std::filesystem::path& temp_path() const { return temp_path_; }

  Status write(std::span<const unsigned char> bytes);
  // Closes and renames the temp file to the final name. With Overwrite::no an existing file of
  // that name is left alone and the commit fails (ErrorKind::write, "already exists").
  // After this the object owns nothing.
  Status commit(Overwrite overwrite = Overwrite::yes);

 private:
  std::filesystem::path final_path_;
  std::filesystem::path temp_path_;
  UniqueFd fd_;
  Error error_;
};

// Writes `bytes` to `path` atomically (temp file + rename).
Status write_file_atomically(const std::filesystem::path& path,
                             std::span<const unsigned char> bytes,
                             Overwrite overwrite = Overwrite::yes);

// Opens a regular file for reading, without ever blocking (opening a FIFO with no writer would
// wait for one): a FIFO, device, socket or folder is an ErrorKind::io that says which. `size`,
// when given, receives the file's size.
Result<UniqueFd> open_regular_file(const std::filesystem::path& path,
                                   std::uint64_t* size = nullptr);

// Reads a whole regular file (open_regular_file); one larger than `max_bytes` is an
// ErrorKind::too_large, refused before a byte is read. A missing file is an ErrorKind::io.
Result<std::string> read_file(const std::filesystem::path& path,
                              std::uint64_t max_bytes = std::numeric_limits<std::uint64_t>::max());

// read_file into a caller's buffer, reused from file to file (a worker's): the bytes read, a
// view into `buffer`, which is grown when too small and never shrunk or zeroed again.
Result<std::string_view> read_file_into(const std::filesystem::path& path, std::uint64_t max_bytes,
                                        std::string& buffer);

// Removes temp files that a killed run left in `dir`: those whose writer process no longer
// exists (and old-style names with no process id). Returns how many.
int remove_stale_temp_files(const std::filesystem::path& dir);

// True for names that AtomicFile uses for its temp files.
bool is_temp_file_name(const std::string& name);

}  // namespace thumbfetch
