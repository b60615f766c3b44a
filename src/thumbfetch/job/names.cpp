#include "thumbfetch/job/names.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "thumbfetch/util/hash.hpp"
#include "thumbfetch/util/strings.hpp"

namespace thumbfetch {

namespace fs = std::filesystem;

std::string name_key(std::string_view stem) {
  return ascii_lower(stem);
}

namespace {

// Every folder between `dir` and `rel`'s file is a real folder (or missing), never a symlink.
bool real_folders_along(const fs::path& dir, const fs::path& rel) {
  fs::path at = dir;
  for (const fs::path& part : rel.parent_path()) {
    at /= part;
    std::error_code ec;
    const auto status = fs::symlink_status(at, ec);
    if (ec || !fs::exists(status)) return true;  // nothing further to follow
    if (!fs::is_directory(status)) return false;
  }
  return true;
}

}  // namespace

bool real_folder(const fs::path& dir, const std::string& rel_dir) {
  if (rel_dir.empty()) return true;
  if (!plain_relative(rel_dir) || !real_folders_along(dir, fs::path(rel_dir) / "x")) return false;
  std::error_code ec;
  return fs::is_directory(fs::symlink_status(dir / rel_dir, ec));
}

bool plain_relative(std::string_view rel) {
  if (rel.empty() || rel.front() == '/' || rel.ends_with(".jsonl")) return false;
  size_t start = 0;
  while (start <= rel.size()) {
    const size_t end = std::min(rel.find('/', start), rel.size());
    const std::string_view part = rel.substr(start, end - start);
    if (part.empty() || part.front() == '.') return false;  // also "." and ".."
    start = end + 1;
  }
  return true;
}

Status make_subfolders(const fs::path& dir, const fs::path& rel_dir) {
  if (rel_dir.empty()) return Ok{};
  if (!plain_relative(rel_dir.generic_string())) {
    return make_error(ErrorKind::refused, fmt::format("{} is not a plain folder path under the "
                                                      "output folder",
                                                      rel_dir.string()));
  }
  fs::path at = dir;
  for (const fs::path& part : rel_dir) {
    at /= part;
    std::error_code made, seen;
    fs::create_directory(at, made);  // mkdir(2): an existing name, even a symlink, stays as is
    const auto status = fs::symlink_status(at, seen);
    if (fs::is_directory(status)) continue;
    const std::string why = fs::is_symlink(status) ? "a symlink is in the way"
                            : fs::exists(status)   ? "a file is in the way"
                            : made                 ? made.message()
                                                   : "it could not be made";
    return make_error(ErrorKind::write,
                      fmt::format("cannot make the folder {}: {}", at.string(), why));
  }
  return Ok{};
}

std::string folder_of(const std::string& rel) {
  const size_t slash = rel.rfind('/');
  return slash == std::string::npos ? std::string() : rel.substr(0, slash);
}

RowFile row_file_state(const fs::path& dir, const std::string& file, std::uint64_t bytes,
                       std::string_view in_folder) {
  if (!plain_relative(file) || folder_of(file) != in_folder || !real_folders_along(dir, file)) {
    return RowFile::foreign;  // not a plain name, or hidden (temp, lock), or a manifest
  }
  std::error_code ec;
  const auto status = fs::symlink_status(dir / file, ec);
  if (ec || !fs::exists(status)) return RowFile::gone;
  if (!fs::is_regular_file(status)) return RowFile::foreign;
  return fs::file_size(dir / file, ec) == bytes && !ec ? RowFile::intact : RowFile::foreign;
}

void remove_pending_outputs(const fs::path& dir, const std::string& stem,
                            std::string_view in_folder) {
  if (!plain_relative(stem) || folder_of(stem) != in_folder || !real_folders_along(dir, stem))
    return;
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
    folder_stems_.put(key_of(name_key(entry.path().stem().string())), 1);
  }
}

namespace {

std::uint64_t owner_of(const std::string& key) {
  return key_of(key) & ~std::uint64_t{1};
}

}  // namespace

void NameBook::own(const std::string& key, const std::string& file_name) {
  if (file_name.empty()) return;
  key_file_[key] = file_name;
  note_owner(key, file_name);
}

void NameBook::note_owner(const std::string& key, const std::string& file_name) {
  if (file_name.empty()) return;
  stem_owner_.put(key_of(name_key(fs::path(file_name).stem().string())), owner_of(key));
}

void NameBook::reserve(const std::string& name) {
  folder_stems_.put(key_of(name_key(fs::path(name).stem().string())), 1);
}

std::string NameBook::owned_file(const std::string& key) const {
  auto it = key_file_.find(key);
  return it == key_file_.end() ? std::string() : it->second;
}

bool NameBook::taken_by_other(const std::string& lower, std::uint64_t owner) const {
  const std::uint64_t stem = key_of(lower);
  if (const std::uint64_t* had = stem_owner_.find(stem)) return (*had & ~std::uint64_t{1}) != owner;
  // A file with this stem that no row owns: the user's, never to be replaced.
  return folder_stems_.contains(stem);
}

std::string NameBook::claim(const std::string& key, const std::string& wanted) {
  return claim_once(key, wanted).stem;
}

NameBook::Claim NameBook::claim_once(const std::string& key, const std::string& wanted) {
  if (auto it = key_file_.find(key); it != key_file_.end()) {
    return {fs::path(it->second).stem().string(), false};
  }
  const std::uint64_t owner = owner_of(key);
  std::string stem = wanted;
  if (taken_by_other(name_key(stem), owner)) {
    const std::string hashed = wanted + "-" + short_hash_hex(key);
    stem = hashed;
    for (int n = 2; taken_by_other(name_key(stem), owner); ++n)
      stem = fmt::format("{}-{}", hashed, n);
  }
  const std::uint64_t lower = key_of(name_key(stem));
  const std::uint64_t* had = stem_owner_.find(lower);
  const bool again = had != nullptr && *had == (owner | 1);
  stem_owner_.put(lower, owner | 1);
  return {std::move(stem), again};
}

NameBook& NameTree::book(const std::string& rel_dir) {
  auto it = books_.find(rel_dir);
  if (it != books_.end()) return it->second;
  const fs::path dir = root_ / rel_dir;
  std::error_code ec;
  // A folder reached through a symlink is not read: nothing will be written there.
  const bool readable = !root_.empty() && real_folder(root_, rel_dir) &&
                        fs::is_directory(fs::symlink_status(dir, ec));
  return books_.emplace(rel_dir, readable ? NameBook(dir) : NameBook()).first->second;
}

void NameTree::own(const std::string& key, const std::string& rel_file) {
  const fs::path rel(rel_file);
  book(rel.parent_path().generic_string()).own(key, rel.filename().string());
}

void NameTree::reserve_folder(const std::string& rel_dir) {
  fs::path parent;
  for (const fs::path& part : fs::path(rel_dir)) {
    book(parent.generic_string()).reserve(part.string());
    parent /= part;
  }
}

std::string NameTree::claim(const std::string& key, const std::string& rel_dir,
                            const std::string& wanted) {
  const std::string stem = book(rel_dir).claim(key, wanted);
  return rel_dir.empty() ? stem : rel_dir + "/" + stem;
}

}  // namespace thumbfetch
