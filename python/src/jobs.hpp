#pragma once
// The module's functions: each takes its keywords as the command's flags (options.hpp), runs
// the same job as the command (plan, run, commit) through run_released (GIL released, Ctrl-C
// and progress polled), and returns {"rows": [dict...], "summary": dict}. The package
// (python/thumbfetch/__init__.py) wraps them with signatures, tqdm and DataFrames.

#include <pybind11/pybind11.h>

#include <string>

#include "runner.hpp"

namespace thumbfetch::python {

// What every job function takes besides its own arguments.
struct Call {
  pybind11::dict options;  // keyword -> value, as the command's flags
  PythonProgress callbacks;
  std::string exe;  // the thumbfetch executable: worker processes and the bench's server
};

pybind11::dict fetch(const pybind11::iterable& urls, const std::string& out_dir, const Call& call);
// inputs: a path (str or os.PathLike) or an iterable of them.
pybind11::dict thumbs(const pybind11::object& inputs, const std::string& out_dir, const Call& call);
pybind11::dict run(const pybind11::iterable& urls, const std::string& out_dir, const Call& call);
// urls: None with the `serve` keyword (the built-in server with N generated images).
pybind11::dict bench(const pybind11::object& urls, const Call& call);
// The Imgur gallery's links (keywords: the command's --imgur-* flags and count).
pybind11::list imgur_links(const Call& call);
// A URL list file: its URLs, and its bad lines as (line, text, reason).
pybind11::dict read_url_list(const std::string& path);

}  // namespace thumbfetch::python
