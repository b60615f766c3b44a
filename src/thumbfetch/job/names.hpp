#pragma once
// Output names in a folder, given by the item alone. An item (a URL, an input file) asks for the
// stem its own name suggests; it gets that stem unless the stem is taken (case-insensitively):
// owned by another item in the manifest or earlier in this run, or used by a file in the folder
// that no manifest row owns (the user's file, an input). Then the stem gets "-" and a short hash
// of the item's own key, so the name never depends on which other items are in the run, and a
// file the run does not own is never replaced. An item the manifest already names keeps its
// name on every later run.
//
// Names are remembered as 64-bit hashes (16-32 bytes a name, so a run of millions stays small):
// two stems that hash alike only make the later one take its hashed form, which is safe; two
// keys would have to hash alike and want the same stem to be taken for one, which 64 bits make
// negligible (about 10^-6 for a list of ten million).

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "thumbfetch/util/error.hpp"
#include "thumbfetch/util/flat_hash.hpp"

namespace thumbfetch {

class NameBook {
 public:
  // Reads the folder's file names (all but hidden ones); files named by own() later are ours.
  explicit NameBook(const std::filesystem::path& dir);
  NameBook() = default;  // an empty folder

  // The manifest says `key` owns the file `file_name` ("photo.jpg") in the folder.
  void own(const std::string& key, const std::string& file_name);
  // The same, but only the name is taken: claim() does not know `key` owns it, so the caller
  // that looks the owner's rows up itself passes the owned stem as `wanted` (fetch: a million
  // URLs' file names are not held).
  void note_owner(const std::string& key, const std::string& file_name);

  // The stem `key` writes under (without extension): the stem it owns, else `wanted`, else
  // `wanted` + "-" + short hash of `key` (then "-2", "-3" ... in the unlikely case that is
  // taken too). Recorded, so the next claim by another key sees it taken.
  std::string claim(const std::string& key, const std::string& wanted);
  // claim(), and whether `key` had already claimed that stem in this run (a repeated item).
  struct Claim {
    std::string stem;
    bool again = false;
  };
  Claim claim_once(const std::string& key, const std::string& wanted);

  // A name another thing in the folder will have (a subfolder to be made), as a file found
  // there: never given to an item.
  void reserve(const std::string& name);

  // The file `key` owned according to the manifest ("" when none).
  std::string owned_file(const std::string& key) const;

 private:
  bool taken_by_other(const std::string& lower_stem, std::uint64_t owner) const;

  // key_of(lowercase stem) -> the owner's key_of(key) with bit 0 cleared, bit 0 set when the
  // stem was claimed in this run.
  FlatHashMap64 stem_owner_;
  std::unordered_map<std::string, std::string> key_file_;  // key -> owned file name (own())
  FlatHashMap64 folder_stems_;  // key_of(lowercase stem) of files present -> 1
};

// --mirror-tree: names in a tree of folders under the output folder, one NameBook per folder (a
// clash is resolved within its folder, as without the tree). A name is a relative path made only
// of the input's own path components below its root ("a/b/c"); plain_relative() refuses any
// other, and make_subfolders() reaches a folder only through real folders, never a symlink.
class NameTree {
 public:
  // Folders are read when first named, each only through real folders under `root`.
  explicit NameTree(std::filesystem::path root) : root_(std::move(root)) {}
  NameTree() = default;  // an empty folder

  // The manifest says `key` owns `rel_file` ("a/b/photo.jpg").
  void own(const std::string& key, const std::string& rel_file);
  // Each folder along `rel_dir` ("a/b") will be made: its name is taken in its parent, so no
  // thumbnail there gets a name a folder needs ("x.jpg/" beside x.png -> x.jpg).
  void reserve_folder(const std::string& rel_dir);
  // The relative stem `key` writes under in `rel_dir` ("" for the top): "a/b/photo".
  std::string claim(const std::string& key, const std::string& rel_dir, const std::string& wanted);

 private:
  NameBook& book(const std::string& rel_dir);

  std::filesystem::path root_;
  std::unordered_map<std::string, NameBook> books_;  // rel_dir -> its names
};

// True for a relative path of plain components: none empty, ".", ".." or hidden (ours: temp,
// lock), not absolute, not a manifest.
bool plain_relative(std::string_view rel);

// True when `rel_dir` is a plain relative path and each of its folders under `dir` is a real
// folder (none a symlink); true for "" (the folder itself).
bool real_folder(const std::filesystem::path& dir, const std::string& rel_dir);

// Makes the folders of `rel_dir` under `dir`, one mkdir at a time. A component already there
// must be a real folder: a symlink (perhaps pointing out of `dir`) or a file is in the way and is
// never followed or replaced.
Status make_subfolders(const std::filesystem::path& dir, const std::filesystem::path& rel_dir);

// What became of a file an earlier run's manifest row names: a plain name in the folder that is
// gone (the name is free again), or there with the size the row recorded (still ours), or there
// with another size, or not a plain name at all (someone else's now, or a row edited to point
// elsewhere: never to be owned, replaced or removed).
enum class RowFile { gone, intact, foreign };
// `in_folder`: the folder under `dir` the file must be in ("" for a plain name, as fetch and run
// write; "a/b" for --mirror-tree), so a row edited to name a file elsewhere is never ours.
RowFile row_file_state(const std::filesystem::path& dir, const std::string& file,
                       std::uint64_t bytes, std::string_view in_folder = {});

// Removes what a killed run may have written under `stem` in `dir` just before it died (a
// "pending" row names it): regular files STEM.jpg, STEM.png, STEM.webp.
void remove_pending_outputs(const std::filesystem::path& dir, const std::string& stem,
                            std::string_view in_folder = {});

// The folder part of a relative name: "a/b" for "a/b/c.jpg", "" for "c.jpg".
std::string folder_of(const std::string& rel);

// "photo" from "photo.jpg", lowercase, as names are compared.
std::string name_key(std::string_view stem);

}  // namespace thumbfetch
