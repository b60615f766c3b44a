#include "thumbfetch/cli/dataset_flags.hpp"

#include <fmt/format.h>

#include "thumbfetch/job/tar_output.hpp"

namespace thumbfetch {

void DatasetFlags::add_to(CLI::App& command) {
  command
      .add_option("--output-format", format,
                  "files: thumbnails as files; tar: also webdataset shards NNNNN.tar (KEY.jpg, "
                  "KEY.json, KEY.orig.* with --keep-originals) once every item settled")
      ->check(CLI::IsMember({"files", "tar"}))
      ->capture_default_str();
  command.add_option("--tar-size", tar_size, "Samples per tar with --output-format tar")
      ->check(CLI::Range(1, 10'000'000))
      ->capture_default_str();
}

bool DatasetFlags::pack(const std::filesystem::path& dir, bool keep_originals, bool quiet) const {
  if (format != "tar") return true;
  auto packed =
      write_dataset_tars(dir, TarOptions{static_cast<std::size_t>(tar_size), keep_originals});
  if (!packed) {
    fmt::print(stderr, "thumbfetch: cannot write the tars: {}\n", packed.error().message);
    return false;
  }
  if (!quiet)
    fmt::print("{} samples in {} tars in {}\n", packed->items, packed->tars, dir.string());
  return true;
}

}  // namespace thumbfetch
