#include "jobs.hpp"

#include <pybind11/stl.h>

#include <cerrno>
#include <optional>
#include <thread>
#include <unordered_set>

#include <fmt/format.h>

#include "options.hpp"
#include "rows.hpp"
#include "thumbfetch/cli/bench_flags.hpp"
#include "thumbfetch/cli/checks.hpp"
#include "thumbfetch/cli/fetch_flags.hpp"
#include "thumbfetch/cli/out_of_space.hpp"
#include "thumbfetch/cli/thumb_flags.hpp"
#include "thumbfetch/job/bench.hpp"
#include "thumbfetch/job/setup_error.hpp"
#include "thumbfetch/report/html_report.hpp"
#include "thumbfetch/source/url_list.hpp"

namespace py = pybind11;
using namespace pybind11::literals;

namespace thumbfetch::python {

namespace fs = std::filesystem;

namespace {

int cores() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// What the folder lock shows a second run.
std::string command_for(const std::string& function) {
  return fmt::format("python: thumbfetch.{}()", function);
}

// A list of links from Python, checked as a URL list's lines are: each normalised (an invalid
// one is a refused row of its own), duplicates kept once.
struct GivenUrls {
  std::vector<std::string> urls;
  std::vector<RefusedUrl> refused;
};

GivenUrls given_urls(const py::iterable& items, const std::string& function) {
  if (py::isinstance<py::str>(items)) {
    throw py::type_error(fmt::format(
        "{}(): urls must be a list of URLs, not a str (read_url_list(path) reads a file)",
        function));
  }
  GivenUrls given;
  std::unordered_set<std::string> seen;
  for (const py::handle& item : items) {
    if (!py::isinstance<py::str>(item)) {
      throw py::type_error(
          fmt::format("{}(): urls must hold str, not {}", function,
                      py::str(item.get_type().attr("__name__")).cast<std::string>()));
    }
    const std::string text = item.cast<std::string>();
    auto url = normalize_http_url(text);
    if (!url) {
      given.refused.push_back({text, url.error().message});
    } else if (seen.insert(*url).second) {
      given.urls.push_back(*url);
    }
  }
  if (given.urls.empty() && given.refused.empty()) throw NothingToDo("no URLs given");
  return given;
}

bool is_path(const py::handle& item) {
  return py::isinstance<py::str>(item) || py::isinstance<py::bytes>(item) ||
         py::hasattr(item, "__fspath__");
}

std::vector<fs::path> given_paths(const py::object& items, const std::string& function) {
  const py::module_ os = py::module_::import("os");
  auto path_of = [&](const py::handle& item) {
    if (!is_path(item)) {
      throw py::type_error(
          fmt::format("{}(): inputs must be paths (str, bytes or os.PathLike), not {}", function,
                      py::str(item.get_type().attr("__name__")).cast<std::string>()));
    }
    // The bytes of the name (os.fsencode), so a name that is not UTF-8 gets through as str
    // ("caf\udce9.jpg") or bytes.
    return fs::path(os.attr("fsencode")(item).cast<std::string>());
  };
  if (is_path(items)) return {path_of(items)};
  std::vector<fs::path> paths;
  if (!py::isinstance<py::iterable>(items)) {
    throw py::type_error(fmt::format("{}(): inputs must be a path or a list of paths", function));
  }
  for (const py::handle& item : items) paths.push_back(path_of(item));
  return paths;
}

// The refused URLs counted in the summary as the command line counts a list's bad lines.
Tally with_refused(Tally tally, const std::vector<RefusedUrl>& refused) {
  for (size_t i = 0; i < refused.size(); ++i) tally.add_failure(ErrorKind::refused);
  return tally;
}

// {"rows", "summary"}; a manifest that could not be rewritten is a warning (the run's files
// and its appended rows are there), unless for the full disk the summary already reports (the
// package raises OSError(ENOSPC) for it, as the command prints one message).
py::dict outcome(py::list rows, py::dict summary, const Status& committed,
                 const std::optional<Error>& out_of_space) {
  if (!committed && worth_reporting(committed.error(), out_of_space)) {
    const std::string message = "cannot write the manifest: " + committed.error().message;
    if (PyErr_WarnEx(PyExc_RuntimeWarning, message.c_str(), 1) != 0) throw py::error_already_set();
  }
  return py::dict("rows"_a = rows, "summary"_a = summary);
}

}  // namespace

py::dict fetch(const py::iterable& urls, const std::string& out_dir, const Call& call) {
  TransferFlags transfer;
  bool wait = false;
  CLI::App app;
  transfer.add_to(app);
  app.add_flag("--wait", wait);
  parse_options(app, call.options, "fetch");
  FetchConfig config;
  config.policy = checked([&] { return transfer.to_policy(); });
  config.strategy = checked([&] { return transfer.to_strategy(); });
  config.concurrency = transfer.jobs;
  config.wait = wait ? WaitForLock::yes : WaitForLock::no;
  config.out_dir = out_dir;
  config.command = command_for("fetch");
  const GivenUrls given = given_urls(urls, "fetch");
  config.source.given = given.urls;
  std::optional<FetchJob> job;
  Status committed = Ok{};
  // The job keeps no rows (a command's list may be millions long); this call returns them all.
  std::vector<FetchResult> results(given.urls.size());
  if (!given.urls.empty()) {
    run_released(
        [&](const JobObserver& observer, std::stop_token stop) {
          job.emplace(FetchJob::plan(std::move(config), observer, stop));
          job->run(observer, stop, [&](size_t i, const FetchResult& r) { results[i] = r; });
          committed = job->commit();
        },
        call.callbacks);
  }
  const FetchJob* done = job ? &*job : nullptr;
  const std::optional<Error> full = done ? done->out_of_space() : std::nullopt;
  return outcome(
      fetch_rows(given.urls, done ? &results : nullptr, given.refused),
      summary(with_refused(done ? done->tally() : Tally{}, given.refused),
              done ? done->stages() : std::vector<StageTime>{}, done && done->interrupted(), full),
      committed, full);
}

py::dict thumbs(const py::object& inputs, const std::string& out_dir, const Call& call) {
  ThumbFlags flags;
  ThumbsConfig config;  // its defaults are the command's: threads, 120 s
  std::string strategy(to_string(config.strategy));
  int jobs = cores();
  std::string timeout = "120s";  // the command's default
  bool recursive = false, wait = false;
  CLI::App app;
  flags.add_to(app);
  app.add_option("--strategy", strategy);
  app.add_option("-j,--jobs", jobs)->check(whole_range(1, 1024));
  app.add_option("--timeout", timeout);
  app.add_flag("--skip-existing", config.skip_existing);
  app.add_flag("-r,--recursive", recursive);
  app.add_flag("--mirror-tree", config.mirror_tree);
  app.add_flag("--wait", wait);
  parse_options(app, call.options, "thumbs");
  const auto kind = parse_thumb_strategy(strategy);
  if (!kind) throw py::value_error("--strategy: " + kind.error().message);
  config.inputs = given_paths(inputs, "thumbs");
  config.recursive = recursive ? Recursive::yes : Recursive::no;
  config.out_dir = out_dir;
  config.options = checked([&] { return flags.to_options(); });
  config.timeout_seconds =
      checked([&] { return duration_flag("--timeout", timeout, ZeroAllowed::yes); });
  config.strategy = *kind;
  config.workers = jobs;
  config.worker_exe = call.exe;
  config.wait = wait ? WaitForLock::yes : WaitForLock::no;
  config.command = command_for("thumbs");
  std::optional<ThumbsJob> job;
  Status committed = Ok{};
  run_released(
      [&](const JobObserver& observer, std::stop_token stop) {
        job.emplace(ThumbsJob::plan(std::move(config), stop));
        job->run(observer, stop);
        committed = job->commit();
      },
      call.callbacks);
  return outcome(thumbs_rows(*job),
                 summary(job->tally(), job->stages(), job->interrupted(), job->out_of_space()),
                 committed, job->out_of_space());
}

namespace {

// The flags of `run` (the command's RunArgs): fetch's, the thumbnail's and the pipeline's own.
struct RunFlags {
  TransferFlags transfer;
  ThumbFlags thumb;
  std::string thumb_strategy = "threads";
  std::string thumb_timeout = "120s";  // the command's default
  PipelineConfig config;

  void add_to(CLI::App& app, int& workers, bool& wait) {
    transfer.add_to(app);
    thumb.add_to(app);
    app.add_option("--thumb-strategy", thumb_strategy);
    app.add_option("-w,--workers", workers)->check(whole_range(1, 1024));
    app.add_option("--thumb-timeout", thumb_timeout);
    app.add_flag("--keep-originals", config.keep_originals);
    app.add_flag("--wait", wait);
  }
};

}  // namespace

py::dict run(const py::iterable& urls, const std::string& out_dir, const Call& call) {
  RunFlags flags;
  int workers = cores();
  bool wait = false;
  CLI::App app;
  flags.add_to(app, workers, wait);
  parse_options(app, call.options, "run");
  const auto kind = parse_thumb_strategy(flags.thumb_strategy);
  if (!kind) throw py::value_error("--thumb-strategy: " + kind.error().message);
  PipelineConfig config = flags.config;
  config.timeout_seconds = checked(
      [&] { return duration_flag("--thumb-timeout", flags.thumb_timeout, ZeroAllowed::yes); });
  config.policy = checked([&] { return flags.transfer.to_policy(); });
  config.fetch_strategy = checked([&] { return flags.transfer.to_strategy(); });
  config.concurrency = flags.transfer.jobs;
  config.options = checked([&] { return flags.thumb.to_options(); });
  config.thumb_strategy = *kind;
  config.workers = workers;
  config.worker_exe = call.exe;
  config.wait = wait ? WaitForLock::yes : WaitForLock::no;
  config.out_dir = out_dir;
  config.command = command_for("run");
  const GivenUrls given = given_urls(urls, "run");
  config.source.given = given.urls;
  std::optional<PipelineJob> job;
  Status committed = Ok{};
  if (!given.urls.empty()) {
    run_released(
        [&](const JobObserver& observer, std::stop_token stop) {
          job.emplace(PipelineJob::plan(std::move(config), observer, stop));
          job->run(observer, stop);
          committed = job->commit();
        },
        call.callbacks);
  }
  const PipelineJob* done = job ? &*job : nullptr;
  const std::optional<Error> full = done ? done->out_of_space() : std::nullopt;
  return outcome(
      run_rows(done, given.refused),
      summary(with_refused(done ? done->tally() : Tally{}, given.refused),
              done ? done->stages() : std::vector<StageTime>{}, done && done->interrupted(), full),
      committed, full);
}

py::dict bench(const py::object& urls, const Call& call) {
  BenchFlags flags;
  int serve = 0, latency_ms = 50;
  CLI::App app;
  flags.add_to(app);
  app.add_option("--serve", serve)->check(CLI::Range(1, 1000000));
  app.add_option("--latency", latency_ms)->check(CLI::Range(0, 60000));
  app.add_option("--report", flags.report_dir);
  parse_options(app, call.options, "bench");
  BenchConfig config;
  checked([&] {
    flags.apply(config);
    return 0;
  });
  if ((serve > 0) == !urls.is_none()) {
    throw py::value_error("bench(): give one source: urls or serve=N");
  }
  if (flags.work_dir.empty()) throw py::value_error("bench(): give work=DIR");
  GivenUrls given;
  if (serve > 0) {
    config.serve_images = serve;
    config.serve_latency_ms = latency_ms;
  } else {
    given = given_urls(urls, "bench");
    config.source.given = given.urls;
  }
  config.work_dir = flags.work_dir;
  config.exe = call.exe;
  config.command = command_for("bench");
  if (!flags.report_dir.empty()) {
    std::error_code ec;
    fs::create_directories(flags.report_dir, ec);  // the report's own folder, made up front
    check_output_file(flags.report_dir / "index.html", "report");
  }
  std::optional<BenchOutcome> out;
  run_released([&](const JobObserver& observer,
                   std::stop_token stop) { out.emplace(run_bench(config, observer, stop)); },
               call.callbacks);
  py::dict about("title"_a = out->report.title, "machine"_a = out->report.machine,
                 "source"_a = out->report.source, "repeat"_a = out->report.repeat,
                 "refused"_a = given.refused.size());
  Status written = Ok{};
  if (!flags.report_dir.empty()) {
    written = write_report_dir(out->report, flags.report_dir, output_images(out->thumbnails));
    about["report"] = path_str(flags.report_dir / "index.html");
  }
  if (!written) throw SetupError("cannot write the report: " + written.error().message);
  return py::dict("rows"_a = bench_rows(out->report), "summary"_a = about);
}

py::list imgur_links(const Call& call) {
  SourceFlags flags;
  CLI::App app;
  flags.add_to(app);
  parse_options(app, call.options, "imgur_links");
  LinkSource source = flags.to_source();
  source.imgur = true;
  try {
    check_link_source(source);
  } catch (const SetupError& e) {
    throw py::value_error(e.what());
  }
  Links links;
  run_released(
      [&](const JobObserver& observer, std::stop_token stop) {
        CancelFlag cancel(stop);
        links = collect_links(source, FetchPolicy{}, observer, cancel.get());
      },
      call.callbacks);
  if (links.urls.empty() && !links.why_empty.empty()) {
    if (PyErr_WarnEx(PyExc_RuntimeWarning, links.why_empty.c_str(), 1) != 0) {
      throw py::error_already_set();
    }
  }
  return py::cast(links.urls);
}

py::dict read_url_list(const std::string& path) {
  auto list = thumbfetch::read_url_list(path);
  if (!list) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      errno = ENOENT;  // FileNotFoundError, as open() raises
      PyErr_SetFromErrnoWithFilename(PyExc_OSError, path.c_str());
    } else {
      PyErr_SetString(PyExc_OSError, (path + ": " + list.error().message).c_str());
    }
    throw py::error_already_set();
  }
  py::list invalid;
  for (const InvalidUrlLine& bad : list->invalid) {
    invalid.append(py::make_tuple(bad.line, to_str(bad.text), to_str(bad.reason)));
  }
  py::list urls;
  for (const std::string& url : list->urls) urls.append(to_str(url));
  return py::dict("urls"_a = urls, "invalid"_a = invalid);
}

}  // namespace thumbfetch::python
