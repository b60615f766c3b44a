#include "rows.hpp"

#include <pybind11/stl.h>

#include <limits>

namespace py = pybind11;
using namespace pybind11::literals;

namespace thumbfetch::python {

namespace {

Py_ssize_t length_of(const std::string& bytes) {
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<Py_ssize_t>::max())) {
    throw py::value_error("text too long for Python");
  }
  return static_cast<Py_ssize_t>(bytes.size());
}

py::str stolen_str(PyObject* decoded) {
  if (decoded == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(decoded);
}

py::str path_or_empty(const std::filesystem::path& p) {
  return p.empty() ? py::str("") : path_str(p);
}

// How an item ended, in the words of the summary: an item the run stopped before it finished
// (Ctrl-C, a full disk) is "not started", as `summary["not_started"]` counts it (the command
// line writes no row for it and its next run does it), with the manifests' kind for a stopped
// item, "cancelled", never the "internal error" of an empty Error.
enum class Ended { ok, skipped, failed, not_started };

const char* status_word(Ended ended) {
  switch (ended) {
    case Ended::ok:
      return "ok";
    case Ended::skipped:
      return "skipped";
    case Ended::not_started:
      return "not started";
    case Ended::failed:
      return "failed";
  }
  return "failed";
}

// status, error_kind and error of a row.
void put_outcome(py::dict& row, Ended ended, const Error& error) {
  row["status"] = status_word(ended);
  if (ended == Ended::failed) {
    row["error_kind"] = to_string(error.kind);
    row["error"] = to_str(error.message);
  } else if (ended == Ended::not_started) {
    row["error_kind"] = to_string(ErrorKind::cancelled);
    row["error"] = error.kind == ErrorKind::cancelled && !error.message.empty()
                       ? to_str(error.message)
                       : py::str("not started: the run was stopped first");
  } else {
    row["error_kind"] = "";
    row["error"] = "";
  }
}

Ended fetch_ended(const FetchResult& r) {
  switch (r.state) {
    case FetchResult::State::ok:
      return Ended::ok;
    case FetchResult::State::skipped:
      return Ended::skipped;
    case FetchResult::State::failed:
      break;
  }
  // Aborted in flight counts as not started too (FetchJob::run's tally).
  return r.not_started() || r.error.kind == ErrorKind::cancelled ? Ended::not_started
                                                                 : Ended::failed;
}

Ended thumb_ended(const ThumbResult& r) {
  switch (r.state) {
    case ThumbResult::State::done:
      return Ended::ok;
    case ThumbResult::State::skipped:
      return Ended::skipped;
    case ThumbResult::State::failed:
      break;
  }
  return r.error.kind == ErrorKind::cancelled ? Ended::not_started : Ended::failed;
}

Ended pipeline_ended(const PipelineResult& r) {
  switch (r.state) {
    case PipelineResult::State::ok:
      return Ended::ok;
    case PipelineResult::State::skipped:
      return Ended::skipped;
    case PipelineResult::State::failed:
      break;
  }
  return !r.started || r.error.kind == ErrorKind::cancelled ? Ended::not_started : Ended::failed;
}

py::dict refused_row(const RefusedUrl& r) {
  return py::dict("url"_a = to_str(r.url), "file"_a = "", "status"_a = "failed", "http_code"_a = 0,
                  "bytes"_a = 0, "content_type"_a = "", "sha256"_a = "", "attempts"_a = 0,
                  "seconds"_a = 0.0, "error_kind"_a = to_string(ErrorKind::refused),
                  "error"_a = to_str(r.reason));
}

}  // namespace

py::str to_str(const std::string& bytes) {
  return stolen_str(PyUnicode_DecodeUTF8(bytes.data(), length_of(bytes), "surrogateescape"));
}

py::str path_str(const std::filesystem::path& path) {
  const std::string& bytes = path.native();
  return stolen_str(PyUnicode_DecodeFSDefaultAndSize(bytes.data(), length_of(bytes)));
}

py::list fetch_rows(const std::vector<std::string>& urls, const std::vector<FetchResult>* results,
                    const std::vector<RefusedUrl>& refused) {
  py::list rows;
  for (size_t i = 0; results != nullptr && i < urls.size() && i < results->size(); ++i) {
    const FetchResult& r = (*results)[i];
    const Ended ended = fetch_ended(r);
    py::dict row("url"_a = to_str(urls[i]),
                 "file"_a = ended == Ended::not_started ? py::str("") : path_or_empty(r.file),
                 "http_code"_a = r.http_code, "bytes"_a = r.bytes,
                 "content_type"_a = to_str(r.content_type), "sha256"_a = r.sha256,
                 "attempts"_a = r.attempts, "seconds"_a = r.seconds);
    put_outcome(row, ended, r.error);
    rows.append(row);
  }
  for (const RefusedUrl& r : refused) rows.append(refused_row(r));
  return rows;
}

py::list thumbs_rows(const ThumbsJob& job) {
  py::list rows;
  for (size_t i = 0; i < job.items().size(); ++i) {
    const ThumbResult& r = job.results()[i];
    const Ended ended = thumb_ended(r);
    const bool has_output =
        (ended == Ended::ok || ended == Ended::skipped) && !r.done.output.empty();
    py::dict row(
        "input"_a = path_str(job.items()[i].job.input),
        "file"_a = has_output ? path_str(r.done.output) : py::str(""),
        "width"_a = r.done.size.width, "height"_a = r.done.size.height, "bytes"_a = r.done.bytes,
        "decoder"_a = has_output ? to_string(r.done.decoder) : "", "seconds"_a = r.seconds);
    put_outcome(row, ended, r.error);
    rows.append(row);
  }
  return rows;
}

py::list run_rows(const PipelineJob* job, const std::vector<RefusedUrl>& refused) {
  py::list rows;
  for (size_t i = 0; job != nullptr && i < job->urls().size(); ++i) {
    const PipelineResult& r = job->results()[i];
    const bool failed = r.state == PipelineResult::State::failed;
    const bool kept = job->config().keep_originals && r.download.ok();
    py::dict row("url"_a = to_str(job->urls()[i]),
                 "file"_a = failed ? py::str("") : path_or_empty(r.thumbnail),
                 "original"_a = kept ? path_str(r.download.file) : py::str(""),
                 "stage"_a = failed ? to_str(r.stage) : py::str(""),
                 "http_code"_a = r.download.http_code, "bytes"_a = r.download.bytes,
                 "width"_a = r.thumb.done.size.width, "height"_a = r.thumb.done.size.height,
                 "thumb_bytes"_a = r.thumb.done.bytes, "download_seconds"_a = r.download.seconds,
                 "thumb_seconds"_a = r.thumb.seconds,
                 "seconds"_a = r.download.seconds + r.thumb.seconds);
    put_outcome(row, pipeline_ended(r), r.error);
    rows.append(row);
  }
  for (const RefusedUrl& r : refused) {
    rows.append(py::dict(
        "url"_a = to_str(r.url), "file"_a = "", "original"_a = "", "status"_a = "failed",
        "stage"_a = "download", "http_code"_a = 0, "bytes"_a = 0, "width"_a = 0, "height"_a = 0,
        "thumb_bytes"_a = 0, "download_seconds"_a = 0.0, "thumb_seconds"_a = 0.0, "seconds"_a = 0.0,
        "error_kind"_a = to_string(ErrorKind::refused), "error"_a = to_str(r.reason)));
  }
  return rows;
}

py::list bench_rows(const BenchReport& report) {
  py::list rows;
  for (size_t i = 0; i < report.rows.size(); ++i) {
    const BenchRow& row = report.rows[i];
    const RowFigures f = figures(report, i);
    rows.append(py::dict(
        "step"_a = row.step, "approach"_a = row.approach, "strategy"_a = row.strategy,
        "workers"_a = row.workers, "items"_a = row.items, "ok"_a = row.ok, "failed"_a = row.failed,
        "wall_s"_a = f.wall_median, "wall_min_s"_a = f.wall_min, "wall_max_s"_a = f.wall_max,
        "cpu_s"_a = f.cpu_median, "images_per_s"_a = f.images_per_s,
        "speedup"_a = f.speedup > 0 ? py::object(py::float_(f.speedup)) : py::none(),
        "mismatch"_a = to_str(row.mismatch), "wall_runs"_a = row.wall_runs,
        "cpu_runs"_a = row.cpu_runs));
  }
  return rows;
}

py::dict summary(const Tally& tally, const std::vector<StageTime>& stages, bool interrupted,
                 const std::optional<Error>& out_of_space) {
  py::dict failures;
  for (const auto& [kind, count] : tally.failures) failures[py::str(to_string(kind))] = count;
  py::dict stage_wall;
  for (const StageTime& s : stages) stage_wall[py::str(s.name)] = s.time.wall;
  const TimeSpent run = stage_time(stages, "run");
  return py::dict("ok"_a = tally.ok, "failed"_a = tally.failed, "skipped"_a = tally.skipped,
                  "not_started"_a = tally.not_started, "failures"_a = failures,
                  "wall_s"_a = run.wall, "cpu_s"_a = run.cpu(), "stages"_a = stage_wall,
                  "interrupted"_a = interrupted,
                  "out_of_space"_a = out_of_space ? py::object(to_str(out_of_space->message))
                                                  : py::object(py::none()),
                  "text"_a = tally.summary());
}

}  // namespace thumbfetch::python
