#pragma once
// Keyword arguments onto the command line's own flags: each keyword becomes "--name value"
// (`per_host=4` is `--per-host 4`, `size=(256, 256)` is `--size 256x256`, `True` a bare flag,
// `None` the flag's default) and is parsed by the same CLI11 options the command registers. So
// the module takes the options, defaults, checks and error messages of the command line, and
// a new flag there is a new keyword here.

#include <CLI/CLI.hpp>

#include <pybind11/pybind11.h>

#include <string>

namespace thumbfetch::python {

// Parses `options` into the flags registered on `app`. Throws TypeError for a keyword the
// command has no flag for or a value of the wrong type, ValueError with the command line's
// message for a value its checks refuse. `function` names the caller in messages ("fetch").
void parse_options(CLI::App& app, const pybind11::dict& options, const std::string& function);

// Runs `make` (a to_policy(), to_options()...) and turns a CLI::ValidationError into ValueError.
template <typename Make>
auto checked(Make&& make) {
  try {
    return make();
  } catch (const CLI::Error& e) {
    throw pybind11::value_error(e.what());
  }
}

}  // namespace thumbfetch::python
