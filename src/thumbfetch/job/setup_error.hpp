#pragma once
// The one "cannot continue" error of a job: a usage or set-up problem found before any work
// (an output folder that cannot be made or written, a folder locked by another run, a report
// path that cannot be written, a source with nothing in it). The CLI prints its message once and
// exits 2; per-item failures are never SetupErrors, they are results.

#include <stdexcept>
#include <string>

namespace thumbfetch {

class SetupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The folder is locked by another run (a SetupError a caller may want to tell apart).
class FolderLockedError : public SetupError {
 public:
  using SetupError::SetupError;
};

// The source gave nothing to do (an empty URL list, no image in the inputs, no link from the
// API): found before anything is created; the CLI says why and exits 1.
class NothingToDo : public SetupError {
 public:
  using SetupError::SetupError;
};

// Stopped (Ctrl-C) before any work, e.g. while waiting for a folder's lock: the CLI exits 130.
class StoppedBeforeWork : public SetupError {
 public:
  using SetupError::SetupError;
};

}  // namespace thumbfetch
