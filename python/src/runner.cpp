#include "runner.hpp"

#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace py = pybind11;

namespace thumbfetch::python {

namespace {

// The counts the job's threads write (through the observer, one call at a time) and the Python
// thread reads.
struct Counts {
  std::string stage;
  std::uint64_t total = 0, done = 0, failed = 0;
  std::vector<std::string> notes;  // not yet handed to Python
  std::uint64_t version = 0;       // bumped on every change
};

class SharedProgress {
 public:
  JobObserver observer() {
    JobObserver o;
    o.started = [this](std::string_view stage, std::uint64_t total, std::uint64_t skipped) {
      std::lock_guard lock(mutex_);
      counts_.stage = std::string(stage);
      counts_.total = total;
      counts_.done = skipped;
      counts_.failed = 0;
      ++counts_.version;
    };
    o.settled = [this](std::string_view, std::string_view, const Error* error) {
      std::lock_guard lock(mutex_);
      ++counts_.done;
      if (error != nullptr) ++counts_.failed;
      ++counts_.version;
    };
    o.note = [this](std::string_view line) {
      std::lock_guard lock(mutex_);
      counts_.notes.emplace_back(line);
      ++counts_.version;
    };
    return o;
  }

  // The counts as they are now; the notes are handed over once.
  Counts take() {
    std::lock_guard lock(mutex_);
    Counts c = counts_;
    counts_.notes.clear();
    return c;
  }

 private:
  std::mutex mutex_;
  Counts counts_;
};

// Calls the Python callbacks with what changed since `seen` (GIL held).
void report(SharedProgress& shared, const PythonProgress& callbacks, std::uint64_t& seen) {
  Counts c = shared.take();
  if (!callbacks.note.is_none()) {
    for (const std::string& line : c.notes) callbacks.note(line);
  }
  if (c.version == seen || c.stage.empty()) return;
  seen = c.version;
  if (!callbacks.progress.is_none()) callbacks.progress(c.stage, c.done, c.total, c.failed);
}

}  // namespace

void run_released(const std::function<void(const JobObserver&, std::stop_token)>& work,
                  const PythonProgress& callbacks) {
  SharedProgress shared;
  const JobObserver observer = shared.observer();
  std::stop_source stop;
  std::mutex mutex;
  std::condition_variable finished_cv;
  bool finished = false;
  std::exception_ptr job_error;
  std::exception_ptr python_error;  // raised by a signal handler or a callback
  std::uint64_t seen = 0;
  const auto interval = std::chrono::duration<double>(callbacks.interval);
  {
    py::gil_scoped_release release;
    std::jthread worker([&] {
      try {
        work(observer, stop.get_token());
      } catch (...) {
        job_error = std::current_exception();
      }
      std::lock_guard lock(mutex);
      finished = true;
      finished_cv.notify_all();
    });
    for (bool done = false; !done;) {
      {
        std::unique_lock lock(mutex);
        done = finished_cv.wait_for(lock, interval, [&] { return finished; });
      }
      if (python_error) continue;  // stopping: just wait for the job
      py::gil_scoped_acquire acquire;
      try {
        if (PyErr_CheckSignals() != 0) throw py::error_already_set();
        report(shared, callbacks, seen);
      } catch (...) {
        python_error = std::current_exception();
        stop.request_stop();
      }
    }
  }  // the worker is joined here, before anything is raised
  if (python_error) std::rethrow_exception(python_error);
  if (job_error) std::rethrow_exception(job_error);
}

}  // namespace thumbfetch::python
