#pragma once
// The batch: which files to thumbnail, what each output is called, and the per-image result
// that every strategy returns (as a value a report can aggregate).

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "thumbfetch/thumbnail/thumbnailer.hpp"
#include "thumbfetch/util/error.hpp"

namespace thumbfetch {

// Whether the worker hashes the input (SHA-256 of the bytes it decodes, for a manifest).
enum class HashInput { no, yes };

struct ThumbJob {
  std::filesystem::path input;
  std::filesystem::path output_stem;  // output path without the extension
  HashInput hash = HashInput::no;
};

struct ThumbResult {
  enum class State { done, failed, skipped };
  State state = State::failed;
  ThumbDone done;      // when done
  Error error;         // when failed
  double seconds = 0;  // wall time spent on this image
  // HashInput::yes: SHA-256 (hex) of the input bytes the image was made from, computed from
  // the bytes the decoder read (no second read); "" when the file could not be read.
  std::string input_sha256;
};

enum class Recursive { no, yes };

// Expands INPUT arguments: files stay as given (even missing ones, which then fail with a
// reason), directories contribute the image files in them, sorted. Hidden files and our own
// temp files are left out.
// `skip_folder`, when set, names sub-folders a recursive scan does not enter (another run's
// output folder inside the input tree); folders given as arguments are always read.
std::vector<std::filesystem::path> collect_inputs(
    const std::vector<std::filesystem::path>& args, Recursive recursive,
    const std::function<bool(const std::filesystem::path&)>& skip_folder = {});

// Runs one job on `thumbnailer`, timing it.
ThumbResult run_job(Thumbnailer& thumbnailer, const ThumbJob& job);

}  // namespace thumbfetch
