#pragma once
// A job's results as Python data: one dict per item, the same keys in every row of a job (so
// the package turns them into a DataFrame with fixed columns and dtypes), and a summary dict.

#include <pybind11/pybind11.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "thumbfetch/job/fetch_job.hpp"
#include "thumbfetch/job/pipeline_job.hpp"
#include "thumbfetch/job/thumbs_job.hpp"
#include "thumbfetch/report/bench_table.hpp"

namespace thumbfetch::python {

// Bytes that reach Python as str, never a UnicodeDecodeError after the work is done: a path as
// os.fsdecode() shows it (a name that is not UTF-8, b"caf\xe9.jpg", is "caf\udce9.jpg", and
// os.fsencode() gives the bytes back); any other text (URLs, a server's headers, messages that
// quote them) as UTF-8 with the bytes that are not kept as surrogates ("surrogateescape").
pybind11::str path_str(const std::filesystem::path& path);
pybind11::str to_str(const std::string& bytes);

// A URL the module refused before the job (not http(s), malformed): a failed row of its own,
// as the command line reports a bad line of a URL list.
struct RefusedUrl {
  std::string url;
  std::string reason;
};

// url, file, status, http_code, bytes, content_type, sha256, attempts, seconds, error_kind, error
// `job` is null when every URL was refused and no job ran.
// results[i] belongs to urls[i] (a default FetchResult: never started); none when nothing ran.
pybind11::list fetch_rows(const std::vector<std::string>& urls,
                          const std::vector<FetchResult>* results,
                          const std::vector<RefusedUrl>& refused);
// input, file, status, width, height, bytes, decoder, seconds, error_kind, error
pybind11::list thumbs_rows(const ThumbsJob& job);
// url, file, original, status, stage, http_code, bytes, width, height, thumb_bytes,
// download_seconds, thumb_seconds, seconds, error_kind, error
pybind11::list run_rows(const PipelineJob* job, const std::vector<RefusedUrl>& refused);
// step, approach, strategy, workers, items, ok, failed, wall_s, wall_min_s, wall_max_s, cpu_s,
// images_per_s, speedup, mismatch, wall_runs, cpu_runs
pybind11::list bench_rows(const BenchReport& report);

// ok, failed, skipped, not_started, the failures by kind, wall and CPU seconds of the run
// stage, every stage's wall time, interrupted, out_of_space (the first full-disk error's message
// when a full disk stopped the run, else None).
pybind11::dict summary(const Tally& tally, const std::vector<StageTime>& stages, bool interrupted,
                       const std::optional<Error>& out_of_space);

}  // namespace thumbfetch::python
