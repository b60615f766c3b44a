#include "options.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

namespace py = pybind11;

namespace thumbfetch::python {

namespace {

std::string flag_name(const std::string& keyword) {
  std::string flag = "--" + keyword;
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

// The text of one value on the command line.
std::string option_text(const std::string& function, const std::string& keyword,
                        const py::handle& value) {
  if (py::isinstance<py::str>(value)) return value.cast<std::string>();
  if (py::isinstance<py::int_>(value) || py::isinstance<py::float_>(value)) {
    return py::str(value).cast<std::string>();
  }
  if (py::hasattr(value, "__fspath__")) {
    return py::module_::import("os").attr("fspath")(value).cast<std::string>();
  }
  // (width, height) for sizes.
  if (py::isinstance<py::tuple>(value) || py::isinstance<py::list>(value)) {
    const py::sequence seq = value.cast<py::sequence>();
    if (seq.size() == 2 && py::isinstance<py::int_>(seq[0]) && py::isinstance<py::int_>(seq[1])) {
      return fmt::format("{}x{}", seq[0].cast<long>(), seq[1].cast<long>());
    }
  }
  throw py::type_error(fmt::format("{}(): {} must be a str or a number, not {}", function, keyword,
                                   py::str(value.get_type().attr("__name__")).cast<std::string>()));
}

}  // namespace

void parse_options(CLI::App& app, const py::dict& options, const std::string& function) {
  std::vector<std::string> args;
  for (const auto& [key, value] : options) {
    const std::string keyword = key.cast<std::string>();
    const std::string flag = flag_name(keyword);
    const CLI::Option* option = app.get_option_no_throw(flag);
    if (option == nullptr) {
      throw py::type_error(
          fmt::format("{}() got an unexpected keyword argument '{}'", function, keyword));
    }
    if (value.is_none()) continue;
    if (option->get_expected_min() == 0) {  // a flag: True or False
      if (!py::isinstance<py::bool_>(value)) {
        throw py::type_error(fmt::format("{}(): {} must be True or False", function, keyword));
      }
      if (value.cast<bool>()) args.push_back(flag);
      continue;
    }
    if (py::isinstance<py::bool_>(value)) {
      throw py::type_error(
          fmt::format("{}(): {} must be a str or a number, not bool", function, keyword));
    }
    args.push_back(flag);
    args.push_back(option_text(function, keyword, value));
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes a vector last argument first
  try {
    app.parse(args);
  } catch (const CLI::Error& e) {
    throw py::value_error(e.what());
  }
}

}  // namespace thumbfetch::python
