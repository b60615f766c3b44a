#pragma once
// Runs a job for Python: the job works on its own thread with the GIL released, while the
// calling thread wakes every `interval` seconds, takes the GIL, checks for signals (Ctrl-C in a
// notebook raises KeyboardInterrupt there, and only there) and calls the progress callback.
// When either raises, the job's stop_source is requested: the job stops starting items,
// finishes or aborts those in progress, and the caller's `work` still commits what it has; the
// Python exception is raised once the job's thread is done, so nothing runs on after it.

#include <pybind11/pybind11.h>

#include <cstdint>
#include <functional>
#include <stop_token>

#include "thumbfetch/job/observer.hpp"

namespace thumbfetch::python {

// What to call while a job runs (each may be None): progress(stage, done, total, failed) when
// the counts changed, note(line) for each line of information.
struct PythonProgress {
  pybind11::object progress;
  pybind11::object note;
  double interval = 0.1;  // seconds between two looks (signals, progress)
};

// `work` runs on its own thread and must not touch Python objects. Its exception (a
// SetupError...) is rethrown here; a Python exception raised meanwhile wins over it.
void run_released(const std::function<void(const JobObserver&, std::stop_token)>& work,
                  const PythonProgress& callbacks);

}  // namespace thumbfetch::python
