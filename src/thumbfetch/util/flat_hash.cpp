#include "thumbfetch/util/flat_hash.hpp"

#include <functional>

#include "thumbfetch/util/hash.hpp"

namespace thumbfetch {

std::uint64_t key_of(std::string_view text) {
  const std::uint64_t key = mix64(std::hash<std::string_view>{}(text) ^ fnv1a64(text));
  return key == 0 ? 1 : key;
}

size_t FlatHashMap64::slot_of(std::uint64_t key) const {
  const size_t mask = slots_.size() - 1;
  size_t i = static_cast<size_t>(mix64(key)) & mask;
  while (slots_[i].key != 0 && slots_[i].key != key) i = (i + 1) & mask;
  return i;
}

const std::uint64_t* FlatHashMap64::find(std::uint64_t key) const {
  if (slots_.empty()) return nullptr;
  const Slot& slot = slots_[slot_of(key)];
  return slot.key == key ? &slot.value : nullptr;
}

void FlatHashMap64::put(std::uint64_t key, std::uint64_t value) {
  if ((size_ + 1) * 4 > slots_.size() * 3) grow();
  Slot& slot = slots_[slot_of(key)];
  if (slot.key == 0) {
    slot.key = key;
    ++size_;
  }
  slot.value = value;
}

void FlatHashMap64::grow() {
  // Small at first: --mirror-tree keeps two tables per folder, and most folders hold a few
  // names (1024 slots were 16 KiB a table: 640 MB for 20,000 folders).
  constexpr size_t kFirstSlots = 16;
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.empty() ? kFirstSlots : old.size() * 2, Slot{});
  for (const Slot& s : old) {
    if (s.key != 0) slots_[slot_of(s.key)] = s;
  }
}

}  // namespace thumbfetch
