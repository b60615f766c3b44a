#pragma once
// The flags that describe a thumbnail, shared by `thumbs` and its `worker` processes.

#include <CLI/CLI.hpp>

#include <string>

#include "thumbfetch/thumbnail/options.hpp"

namespace thumbfetch {

struct ThumbFlags {
  std::string size = "128x128";
  std::string mode = "fit";
  std::string format = "jpeg";
  std::string background = "white";
  int quality = 85;
  std::string max_pixels = "100M";
  bool allow_truncated = false;
  double reducing_gap = 2.0;

  // `format_flag`: the name of the output-format flag (bench's own --format is its table's).
  void add_to(CLI::App& command, const std::string& format_flag = "--format");
  // Throws CLI::ValidationError for values the parsers refuse and for flags that cannot both
  // hold (a --size side left free with a --mode other than fit).
  ThumbOptions to_options() const;
  // Warns about flags given where they have no effect (--quality with --format png).
  void warn_ineffective() const;

 private:
  const CLI::App* command_ = nullptr;
  std::string format_flag_;
};

}  // namespace thumbfetch
