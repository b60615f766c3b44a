#include "rows.hpp"

#include <pybind11/stl.h>

namespace py = pybind11;
using namespace pybind11::literals;

namespace thumbfetch::python {

namespace {

std::string kind_of(bool failed, const Error& error) {
  return failed ? std::string(to_string(error.kind)) : "";
}

std::string path_or_empty(const std::filesystem::path& p) {
  return p.empty() ? "" : p.string();
}

const char* fetch_status(const FetchResult& r) {
  switch (r.state) {
    case FetchResult::State::ok:
      return "ok";
    case FetchResult::State::skipped:
      return "skipped";
    case FetchResult::State::failed:
      return r.not_started() ? "not started" : "failed";
  }
  return "failed";
}

py::dict refused_row(const RefusedUrl& r) {
  return py::dict("url"_a = r.url, "file"_a = "", "status"_a = "failed", "http_code"_a = 0,
                  "bytes"_a = 0, "content_type"_a = "", "sha256"_a = "", "attempts"_a = 0,
                  "seconds"_a = 0.0, "error_kind"_a = to_string(ErrorKind::refused),
                  "error"_a = r.reason);
}

}  // namespace

py::list fetch_rows(const FetchJob* job, const std::vector<RefusedUrl>& refused) {
  py::list rows;
  for (size_t i = 0; job != nullptr && i < job->urls().size(); ++i) {
    const FetchResult& r = job->results()[i];
    const bool failed = r.state == FetchResult::State::failed;
    rows.append(py::dict(
        "url"_a = job->urls()[i], "file"_a = path_or_empty(r.file), "status"_a = fetch_status(r),
        "http_code"_a = r.http_code, "bytes"_a = r.bytes, "content_type"_a = r.content_type,
        "sha256"_a = r.sha256, "attempts"_a = r.attempts, "seconds"_a = r.seconds,
        "error_kind"_a = kind_of(failed, r.error), "error"_a = failed ? r.error.message : ""));
  }
  for (const RefusedUrl& r : refused) rows.append(refused_row(r));
  return rows;
}

py::list thumbs_rows(const ThumbsJob& job) {
  py::list rows;
  for (size_t i = 0; i < job.items().size(); ++i) {
    const ThumbResult& r = job.results()[i];
    const bool failed = r.state == ThumbResult::State::failed;
    const char* status = r.state == ThumbResult::State::done      ? "ok"
                         : r.state == ThumbResult::State::skipped ? "skipped"
                         : r.error.kind == ErrorKind::cancelled   ? "not started"
                                                                  : "failed";
    const bool has_output = !failed && !r.done.output.empty();
    rows.append(py::dict(
        "input"_a = job.items()[i].job.input.string(), "file"_a = path_or_empty(r.done.output),
        "status"_a = status, "width"_a = r.done.size.width, "height"_a = r.done.size.height,
        "bytes"_a = r.done.bytes, "decoder"_a = has_output ? to_string(r.done.decoder) : "",
        "seconds"_a = r.seconds, "error_kind"_a = kind_of(failed, r.error),
        "error"_a = failed ? r.error.message : ""));
  }
  return rows;
}

py::list run_rows(const PipelineJob* job, const std::vector<RefusedUrl>& refused) {
  py::list rows;
  for (size_t i = 0; job != nullptr && i < job->urls().size(); ++i) {
    const PipelineResult& r = job->results()[i];
    const bool failed = r.state == PipelineResult::State::failed;
    const char* status = r.state == PipelineResult::State::ok        ? "ok"
                         : r.state == PipelineResult::State::skipped ? "skipped"
                         : !r.started                                ? "not started"
                                                                     : "failed";
    const bool kept = job->config().keep_originals && r.download.ok();
    rows.append(py::dict(
        "url"_a = job->urls()[i], "file"_a = failed ? "" : path_or_empty(r.thumbnail),
        "original"_a = kept ? r.download.file.string() : "", "status"_a = status,
        "stage"_a = failed ? r.stage : "", "http_code"_a = r.download.http_code,
        "bytes"_a = r.download.bytes, "width"_a = r.thumb.done.size.width,
        "height"_a = r.thumb.done.size.height, "thumb_bytes"_a = r.thumb.done.bytes,
        "download_seconds"_a = r.download.seconds, "thumb_seconds"_a = r.thumb.seconds,
        "seconds"_a = r.download.seconds + r.thumb.seconds,
        "error_kind"_a = kind_of(failed, r.error), "error"_a = failed ? r.error.message : ""));
  }
  for (const RefusedUrl& r : refused) {
    rows.append(py::dict("url"_a = r.url, "file"_a = "", "original"_a = "", "status"_a = "failed",
                         "stage"_a = "download", "http_code"_a = 0, "bytes"_a = 0, "width"_a = 0,
                         "height"_a = 0, "thumb_bytes"_a = 0, "download_seconds"_a = 0.0,
                         "thumb_seconds"_a = 0.0, "seconds"_a = 0.0,
                         "error_kind"_a = to_string(ErrorKind::refused), "error"_a = r.reason));
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
        "mismatch"_a = row.mismatch, "wall_runs"_a = row.wall_runs, "cpu_runs"_a = row.cpu_runs));
  }
  return rows;
}

py::dict summary(const Tally& tally, const std::vector<StageTime>& stages, bool interrupted) {
  py::dict failures;
  for (const auto& [kind, count] : tally.failures) failures[py::str(to_string(kind))] = count;
  py::dict stage_wall;
  for (const StageTime& s : stages) stage_wall[py::str(s.name)] = s.time.wall;
  const TimeSpent run = stage_time(stages, "run");
  return py::dict("ok"_a = tally.ok, "failed"_a = tally.failed, "skipped"_a = tally.skipped,
                  "not_started"_a = tally.not_started, "failures"_a = failures,
                  "wall_s"_a = run.wall, "cpu_s"_a = run.cpu(), "stages"_a = stage_wall,
                  "interrupted"_a = interrupted, "text"_a = tally.summary());
}

}  // namespace thumbfetch::python
