// `_thumbfetch`: the compiled part of the `thumbfetch` package (python/thumbfetch/). The
// package gives the functions their signatures, progress bars and DataFrames; this part runs
// the library's jobs and maps their set-up errors onto thumbfetch.Error and its subclasses.
#include <pybind11/pybind11.h>

#include "jobs.hpp"
#include "thumbfetch/fetch/transfer.hpp"
#include "thumbfetch/job/setup_error.hpp"

namespace py = pybind11;
using namespace pybind11::literals;

namespace tp = thumbfetch::python;

namespace {

tp::Call call_from(py::dict options, py::object progress, py::object note, double interval,
                   std::string exe) {
  return tp::Call{
      std::move(options), {std::move(progress), std::move(note), interval}, std::move(exe)};
}

void register_errors(py::module_& m) {
  static py::exception<thumbfetch::SetupError> error(m, "Error");
  static py::exception<thumbfetch::SetupError> setup(m, "SetupError", error.ptr());
  static py::exception<thumbfetch::FolderLockedError> locked(m, "FolderLockedError", setup.ptr());
  static py::exception<thumbfetch::NothingToDo> nothing(m, "NothingToDoError", setup.ptr());
  // Most specific first. Stopped while waiting for a lock: Ctrl-C, which Python raises itself.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const thumbfetch::FolderLockedError& e) {
      locked(e.what());
    } catch (const thumbfetch::NothingToDo& e) {
      nothing(e.what());
    } catch (const thumbfetch::StoppedBeforeWork&) {
      PyErr_SetNone(PyExc_KeyboardInterrupt);
    } catch (const thumbfetch::SetupError& e) {
      setup(e.what());
    }
  });
}

}  // namespace

PYBIND11_MODULE(_thumbfetch, m) {
  m.doc() = "thumbfetch's job layer (use the `thumbfetch` package around it)";
  static thumbfetch::CurlGlobal curl;  // once, at import, before any job's thread starts
  register_errors(m);
  m.def(
      "fetch",
      [](py::iterable urls, std::string out_dir, py::dict options, py::object progress,
         py::object note, double interval, std::string exe) {
        return tp::fetch(urls, out_dir, call_from(options, progress, note, interval, exe));
      },
      "urls"_a, "out_dir"_a, "options"_a, "progress"_a, "note"_a, "interval"_a, "exe"_a,
      "Download `urls` into `out_dir`: {'rows': [...], 'summary': {...}}");
  m.def(
      "thumbs",
      [](py::object inputs, std::string out_dir, py::dict options, py::object progress,
         py::object note, double interval, std::string exe) {
        return tp::thumbs(inputs, out_dir, call_from(options, progress, note, interval, exe));
      },
      "inputs"_a, "out_dir"_a, "options"_a, "progress"_a, "note"_a, "interval"_a, "exe"_a,
      "Thumbnail `inputs` into `out_dir`: {'rows': [...], 'summary': {...}}");
  m.def(
      "run",
      [](py::iterable urls, std::string out_dir, py::dict options, py::object progress,
         py::object note, double interval, std::string exe) {
        return tp::run(urls, out_dir, call_from(options, progress, note, interval, exe));
      },
      "urls"_a, "out_dir"_a, "options"_a, "progress"_a, "note"_a, "interval"_a, "exe"_a,
      "Download and thumbnail `urls` as one pipeline into `out_dir`");
  m.def(
      "bench",
      [](py::object urls, py::dict options, py::object progress, py::object note, double interval,
         std::string exe) {
        return tp::bench(urls, call_from(options, progress, note, interval, exe));
      },
      "urls"_a, "options"_a, "progress"_a, "note"_a, "interval"_a, "exe"_a,
      "Every approach on the same input: {'rows': [...], 'summary': {...}}");
  m.def(
      "imgur_links",
      [](py::dict options, py::object note, double interval) {
        return tp::imgur_links(call_from(options, py::none(), note, interval, ""));
      },
      "options"_a, "note"_a, "interval"_a, "Links from the Imgur API v3 gallery");
  m.def("read_url_list", &tp::read_url_list, "path"_a,
        "A URL list file: {'urls': [...], 'invalid': [(line, text, reason)...]}");
}
