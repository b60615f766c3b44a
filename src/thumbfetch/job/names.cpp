#include "thumbfetch/job/names.hpp"

#include <fmt/format.h>

#include "thumbfetch/util/hash.hpp"
#include "thumbfetch/util/strings.hpp"

namespace thumbfetch {

namespace fs = std::filesystem;

std::string name_key(std::string_view stem) {
  return ascii_lower(stem);
}

RowFile row_file_state(const fs::path& dir, const std::string& file, std::uint64_t bytes) {
  if (file.empty() || file == "." || file == ".." || file.find('/') != std::string::npos ||
      file.front() == '.' || file.ends_with(".jsonl")) {
    return RowFile::foreign;  // not a plain name, or hidden (temp, lock), or a manifest
  }
  std::error_code ec;
  const auto status = fs::symlink_status(dir / file, ec);
  if (ec || !fs::exists(status)) return RowFile::gone;
  if (!fs::is_regular_file(status)) return RowFile::foreign;
  return fs::file_size(dir / file, ec) == bytes && !ec ? RowFile::intact : RowFile::foreign;
}

void remove_pending_outputs(const fs::path& dir, const std::string& stem) {
  if (stem.empty() || stem.front() == '.' || stem.find('/') != std::string::npos) return;
  for (const char* ext : {".jpg", ".png", ".webp"}) {
    std::error_code ec;
    if (fs::is_regular_file(fs::symlink_status(dir / (stem + ext), ec)))
      fs::remove(dir / (stem + ext), ec);
  }
}

NameBook::NameBook(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.front() == '.') continue;  // ours (temp, lock) or hidden
    folder_stems_.insert(name_key(entry.path().stem().string()));
  }
}

void NameBook::own(const std::string& key, const std::string& file_name) {
  if (file_name.empty()) return;
  const std::string stem = name_key(fs::path(file_name).stem().string());
  key_file_[key] = file_name;
  stem_owner_[stem] = key;
}

std::string NameBook::owned_file(const std::string& key) const {
  auto it = key_file_.find(key);
  return it == key_file_.end() ? std::string() : it->second;
}

bool NameBook::taken_by_other(const std::string& lower, const std::string& key) const {
  if (auto it = stem_owner_.find(lower); it != stem_owner_.end()) return it->second != key;
  // A file with this stem that no row owns: the user's, never to be replaced.
  return folder_stems_.contains(lower);
}

std::string NameBook::claim(const std::string& key, const std::string& wanted) {
  if (auto it = key_file_.find(key); it != key_file_.end()) {
    return fs::path(it->second).stem().string();
  }
  std::string stem = wanted;
  if (taken_by_other(name_key(stem), key)) {
    const std::string hashed = wanted + "-" + short_hash_hex(key);
    stem = hashed;
    for (int n = 2; taken_by_other(name_key(stem), key); ++n)
      stem = fmt::format("{}-{}", hashed, n);
  }
  stem_owner_[name_key(stem)] = key;
  return stem;
}

}  // namespace thumbfetch
