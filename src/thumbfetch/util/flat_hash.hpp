#pragma once
// A compact hash table from 64-bit keys to 64-bit values: open addressing, linear probing, one
// 16-byte slot per entry at a load of at most 3/4, so a table of ten million entries takes
// 160-320 MB where a std::unordered_map of strings took gigabytes. Keys are hashes
// (key_of() below), so the table is for answers that may err only on the safe side.

#include <cstdint>
#include <string_view>
#include <vector>

namespace thumbfetch {

// A well-mixed 64-bit key for `text` (never 0: the empty slot).
std::uint64_t key_of(std::string_view text);

class FlatHashMap64 {
 public:
  // The value of `key`, or nullptr.
  const std::uint64_t* find(std::uint64_t key) const;
  // Sets `key` to `value` (adding it when new).
  void put(std::uint64_t key, std::uint64_t value);
  bool contains(std::uint64_t key) const { return find(key) != nullptr; }
  size_t size() const { return size_; }

 private:
  struct Slot {
    std::uint64_t key = 0;  // 0: empty
    std::uint64_t value = 0;
  };
  size_t slot_of(std::uint64_t key) const;
  void grow();

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace thumbfetch
