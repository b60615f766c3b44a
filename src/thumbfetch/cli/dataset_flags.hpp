#pragma once
// --output-format files|tar and --tar-size on `run`: the thumbnails as loose files only, or also
// packed as webdataset-style tars once every item has settled (job/tar_output.hpp).

#include <CLI/CLI.hpp>

#include <filesystem>
#include <string>

namespace thumbfetch {

struct DatasetFlags {
  std::string format = "files";
  int tar_size = 1000;

  void add_to(CLI::App& command);
  // With tar: packs `dir` and says so; false (after a message on stderr) when packing failed.
  // With files: true, nothing done.
  bool pack(const std::filesystem::path& dir, bool keep_originals, bool quiet) const;
};

}  // namespace thumbfetch
