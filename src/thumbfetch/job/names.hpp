#pragma once
// Output names in a folder, given by the item alone. An item (a URL, an input file) asks for the
// stem its own name suggests; it gets that stem unless the stem is taken (case-insensitively):
// owned by another item in the manifest or earlier in this run, or used by a file in the folder
// that no manifest row owns (the user's file, an input). Then the stem gets "-" and a short hash
// of the item's own key, so the name never depends on which other items are in the run, and a
// file the run does not own is never replaced. An item the manifest already names keeps its
// name on every later run.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace thumbfetch {

class NameBook {
 public:
  // Reads the folder's file names (all but hidden ones); files named by own() later are ours.
  explicit NameBook(const std::filesystem::path& dir);
  NameBook() = default;  // an empty folder

  // The manifest says `key` owns the file `file_name` ("photo.jpg") in the folder.
  void own(const std::string& key, const std::string& file_name);

  // The stem `key` writes under (without extension): the stem it owns, else `wanted`, else
  // `wanted` + "-" + short hash of `key` (then "-2", "-3" ... in the unlikely case that is
  // taken too). Recorded, so the next claim by another key sees it taken.
  std::string claim(const std::string& key, const std::string& wanted);

  // The file `key` owned according to the manifest ("" when none).
  std::string owned_file(const std::string& key) const;

 private:
  bool taken_by_other(const std::string& lower_stem, const std::string& key) const;

  std::unordered_map<std::string, std::string> stem_owner_;  // lowercase stem -> key
  std::unordered_map<std::string, std::string> key_file_;    // key -> owned file name
  std::unordered_multiset<std::string> folder_stems_;        // lowercase stems of files present
};

// What became of a file an earlier run's manifest row names: a plain name in the folder that is
// gone (the name is free again), or there with the size the row recorded (still ours), or there
// with another size, or not a plain name at all (someone else's now, or a row edited to point
// elsewhere: never to be owned, replaced or removed).
enum class RowFile { gone, intact, foreign };
RowFile row_file_state(const std::filesystem::path& dir, const std::string& file,
                       std::uint64_t bytes);

// Removes what a killed run may have written under `stem` in `dir` just before it died (a
// "pending" row names it): regular files STEM.jpg, STEM.png, STEM.webp.
void remove_pending_outputs(const std::filesystem::path& dir, const std::string& stem);

// "photo" from "photo.jpg", lowercase, as names are compared.
std::string name_key(std::string_view stem);

}  // namespace thumbfetch
