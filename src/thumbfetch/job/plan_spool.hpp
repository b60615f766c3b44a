#pragma once
// A run's plan, one record per list entry, written once by plan() and read once by run(), so
// that what was decided for each URL (its name, whether it is resumed) is not held in memory:
// a list of ten million entries costs a file of about its own size, not gigabytes of strings.
// The file is made in the output folder and unlinked at once: nobody else sees it, and a
// killed run leaves nothing behind.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "thumbfetch/source/url_list.hpp"
#include "thumbfetch/util/fd.hpp"

namespace thumbfetch {

inline constexpr std::uint64_t kNoRow = ~std::uint64_t{0};

struct PlannedItem {
  bool refused = false;
  InvalidUrlLine invalid;  // refused: the line and why
  std::string url, stem;
  std::uint64_t index = 0;          // the URL's place among the run's URLs
  std::uint64_t source_index = 0;   // its place in the source's metadata (Imgur)
  std::uint64_t previous = kNoRow;  // the offset of its row in the manifest, if any
  bool skip = false;                // done by an earlier run: its file is there whole
};

class PlanSpool {
 public:
  // Throws SetupError when the file cannot be made.
  explicit PlanSpool(const std::filesystem::path& dir);
  PlanSpool() = default;

  void write(const PlannedItem& item);
  // After the last write(): the records are read from the first.
  void rewind();
  // The next record, nullopt after the last one written. Throws std::runtime_error when the
  // file cannot be read or ends before every record written was read (never a quiet end).
  std::optional<PlannedItem> read();

 private:
  void flush();
  bool fill(size_t need);
  bool get(void* out, size_t n);
  bool get_string(std::string& out);
  std::optional<PlannedItem> read_record(char type);
  [[noreturn]] void cut_short() const;

  UniqueFd fd_;
  std::string buffer_;
  size_t at_ = 0;                         // reading: the next byte in buffer_
  std::uint64_t written_ = 0, read_ = 0;  // records
};

}  // namespace thumbfetch
