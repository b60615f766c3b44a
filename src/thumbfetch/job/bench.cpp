#include "thumbfetch/job/bench.hpp"

#include <poll.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <map>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "thumbfetch/job/fetch_job.hpp"
#include "thumbfetch/job/pipeline_job.hpp"
#include "thumbfetch/job/setup_error.hpp"
#include "thumbfetch/job/thumbs_job.hpp"
#include "thumbfetch/serve/synthetic_images.hpp"
#include "thumbfetch/thumbnail/vips_runtime.hpp"
#include "thumbfetch/util/atomic_file.hpp"
#include "thumbfetch/util/child_process.hpp"
#include "thumbfetch/util/sha256.hpp"
#include "thumbfetch/util/stopwatch.hpp"

namespace thumbfetch {

namespace fs = std::filesystem;

namespace {

// The built-in server as a child process (`thumbfetch serve`), so that its CPU time is not
// counted as the downloads' own: RUSAGE_SELF would include a server thread.
class ServedCorpus {
 public:
  ServedCorpus(const BenchConfig& c, const fs::path& corpus) {
    const int pages = c.serve_images / 40 + 2;  // enough still images after albums and GIFs
    const fs::path exe = c.exe.empty() ? fs::read_symlink("/proc/self/exe") : c.exe;
    std::vector<std::string> argv = {exe.string(),    "serve",
                                     "--dir",         corpus.string(),
                                     "--port",        "0",
                                     "--latency",     std::to_string(c.serve_latency_ms),
                                     "--imgur-pages", std::to_string(pages)};
    auto child = ChildProcess::spawn(argv);
    if (!child) throw SetupError("cannot start the built-in server: " + child.error().message);
    process_.emplace(std::move(child).value());
    base_url_ = read_address();
  }
  ~ServedCorpus() {
    if (process_) {
      process_->kill(SIGTERM);
      process_->wait();
    }
  }
  const std::string& base_url() const { return base_url_; }

 private:
  // Its first stdout line is "listening on http://127.0.0.1:PORT".
  std::string read_address() {
    std::string line;
    char c = 0;
    pollfd p{process_->stdout_fd(), POLLIN, 0};
    while (line.size() < 200 && ::poll(&p, 1, 120'000) > 0 && ::read(p.fd, &c, 1) == 1 &&
           c != '\n') {
      line.push_back(c);
    }
    const std::string prefix = "listening on ";
    if (!line.starts_with(prefix)) throw SetupError("the built-in server did not start: " + line);
    return line.substr(prefix.size());
  }

  std::optional<ChildProcess> process_;
  std::string base_url_;
};

std::vector<std::string> served_links(const BenchConfig& c, const ServedCorpus& server,
                                      const fs::path& corpus, const JobObserver& observer,
                                      std::stop_token stop) {
  LinkSource s;
  s.count = c.serve_images;
  if (c.serve_via_imgur) {
    s.imgur = true;
    s.imgur_query.api_base = server.base_url();
    s.imgur_query.client_id = "test-client-id";
  } else {
    for (const fs::path& f : output_images(corpus)) {
      s.given.push_back(server.base_url() + "/img/" + f.filename().string());
    }
  }
  CancelFlag cancel(stop);
  return collect_links(s, c.policy, observer, cancel.get()).urls;
}

struct Measured {
  double wall = 0, cpu = 0;
  Tally tally;
};

template <typename Run>
Measured measure(Run&& run) {
  Stopwatch clock;
  Measured m;
  m.tally = run();
  const TimeSpent t = clock.elapsed();
  m.wall = t.wall;
  m.cpu = t.cpu();
  return m;
}

JobObserver silent() {
  return {};
}

Tally fetch_once(const BenchConfig& c, const std::vector<std::string>& urls, FetchStrategyKind kind,
                 int jobs, const fs::path& dir, const JobObserver& progress, std::stop_token stop) {
  FetchConfig f;
  f.source.given = urls;
  f.out_dir = dir;
  f.policy = c.policy;
  f.strategy = kind;
  f.concurrency = jobs;
  f.command = c.command;
  FetchJob job = FetchJob::plan(std::move(f), silent(), stop);
  job.run(progress, stop);
  (void)job.commit();
  return job.tally();
}

Tally thumbs_once(const BenchConfig& c, const fs::path& input, ThumbStrategyKind kind, int workers,
                  const fs::path& dir, const JobObserver& progress, std::stop_token stop) {
  ThumbsConfig t;
  t.inputs = {input};
  t.out_dir = dir;
  t.options = c.options;
  t.strategy = kind;
  t.workers = workers;
  t.worker_exe = c.exe;
  t.command = c.command;
  ThumbsJob job = ThumbsJob::plan(std::move(t), stop);
  job.run(progress, stop);
  (void)job.commit();
  return job.tally();
}

Tally pipeline_once(const BenchConfig& c, const std::vector<std::string>& urls, const fs::path& dir,
                    const JobObserver& progress, std::stop_token stop) {
  PipelineConfig p;
  p.source.given = urls;
  p.out_dir = dir;
  p.policy = c.policy;
  p.concurrency = c.fetch_jobs;
  p.options = c.options;
  p.workers = c.thumb_workers;
  p.worker_exe = c.exe;
  p.command = c.command;
  PipelineJob job = PipelineJob::plan(std::move(p), silent(), stop);
  job.run(progress, stop);
  (void)job.commit();
  return job.tally();
}

// Runs one approach `repeat` times into `dir` (cleared before each run) and fills its row.
template <typename Run>
void measure_row(BenchRow& row, int repeat, const fs::path& dir, const JobObserver& observer,
                 std::stop_token stop, Run&& run) {
  for (int r = 0; r < repeat && !stop.stop_requested(); ++r) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    const Measured m = measure([&] { return run(dir); });
    row.wall_runs.push_back(m.wall);
    row.cpu_runs.push_back(m.cpu);
    row.ok = m.tally.ok;
    row.failed = m.tally.failed;
    observer.say(fmt::format("{}: run {} of {}: {:.2f} s, cpu {:.2f} s, {} ok, {} failed",
                             row.approach, r + 1, repeat, m.wall, m.cpu, m.tally.ok,
                             m.tally.failed));
  }
}

BenchRow make_row(std::string step, std::string approach, std::string strategy, int workers,
                  int items) {
  BenchRow row;
  row.step = std::move(step);
  row.approach = std::move(approach);
  row.strategy = std::move(strategy);
  row.workers = workers;
  row.items = items;
  return row;
}

}  // namespace

std::vector<fs::path> output_images(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.front() == '.' || name.ends_with(".jsonl") || !e.is_regular_file(ec)) continue;
    out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string compare_outputs(const fs::path& reference, const fs::path& other) {
  std::map<std::string, fs::path> ref, got;
  for (const fs::path& p : output_images(reference)) ref[p.filename().string()] = p;
  for (const fs::path& p : output_images(other)) got[p.filename().string()] = p;
  int differ = 0, missing = 0, extra = 0;
  for (const auto& [name, path] : ref) {
    auto it = got.find(name);
    if (it == got.end())
      ++missing;
    else if (file_sha256(path) != file_sha256(it->second))
      ++differ;
  }
  for (const auto& [name, path] : got) extra += ref.contains(name) ? 0 : 1;
  std::vector<std::string> parts;
  if (differ > 0)
    parts.push_back(
        fmt::format("{} {} from serial", differ, differ == 1 ? "file differs" : "files differ"));
  if (missing > 0) parts.push_back(fmt::format("{} missing", missing));
  if (extra > 0) parts.push_back(fmt::format("{} extra", extra));
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::string describe_machine() {
  std::string cpu = "unknown CPU";
  std::ifstream info("/proc/cpuinfo");
  for (std::string line; std::getline(info, line);) {
    if (line.starts_with("model name")) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  }
  utsname u{};
  ::uname(&u);
  return fmt::format("{} cores, {}, {} {}", std::thread::hardware_concurrency(), cpu, u.sysname,
                     u.release);
}

namespace {

struct BenchInput {
  std::vector<std::string> urls;
  std::string source;  // in words, for the report
};

BenchInput bench_input(const BenchConfig& c, std::optional<ServedCorpus>& server,
                       const JobObserver& observer, std::stop_token stop) {
  BenchInput in;
  if (c.serve_images <= 0) {
    CancelFlag cancel(stop);
    Links links = collect_links(c.source, c.policy, observer, cancel.get());
    in.urls = std::move(links.urls);
    in.source = !c.source.urls_file.empty()
                    ? fmt::format("{} URLs from {}", in.urls.size(), c.source.urls_file)
                : c.source.imgur ? fmt::format("{} links from the Imgur API", in.urls.size())
                                 : fmt::format("{} URLs", in.urls.size());
  } else {
    const fs::path corpus = c.corpus_dir.empty() ? c.work_dir / "corpus" : c.corpus_dir;
    observer.say(
        fmt::format("corpus: {} web-sized photo-like images in {} (made once, then reused)",
                    c.serve_images, corpus.string()));
    init_vips("thumbfetch");
    if (auto st = write_synthetic_corpus(corpus, c.serve_images); !st) {
      throw SetupError("cannot write the corpus: " + st.error().message);
    }
    server.emplace(c, corpus);
    in.urls = served_links(c, *server, corpus, observer, stop);
    in.source = fmt::format("{} images from thumbfetch serve on 127.0.0.1, +{} ms per request{}",
                            in.urls.size(), c.serve_latency_ms,
                            c.serve_via_imgur ? ", links from its Imgur API look-alike" : "");
  }
  if (in.urls.empty()) throw SetupError("nothing to benchmark: the source gave no links");
  return in;
}

}  // namespace

namespace {

// One bench run: the input, where the runs write, and the report they fill, row by row.
struct Bench {
  const BenchConfig& c;
  const std::vector<std::string>& urls;
  const JobObserver& observer;
  std::stop_token stop;
  BenchReport& report;

  fs::path dir(const std::string& name) const { return c.work_dir / name; }

  // Measures one approach into `out` and compares its files with `reference`'s.
  template <typename Run>
  void add(BenchRow row, const fs::path& out, const fs::path& reference, Run&& run) {
    measure_row(row, c.repeat, out, observer, stop, run);
    if (out != reference) row.mismatch = compare_outputs(reference, out);
    report.rows.push_back(std::move(row));
  }

  void warm_up() {
    observer.say("warm-up: one download and one thumbnail run, not measured");
    fetch_once(c, urls, FetchStrategyKind::async, c.fetch_jobs, dir("warmup-download"), observer,
               stop);
    thumbs_once(c, dir("warmup-download"), ThumbStrategyKind::threads, c.thumb_workers,
                dir("warmup-thumbs"), observer, stop);
    std::error_code ec;
    fs::remove_all(dir("warmup-download"), ec);
    fs::remove_all(dir("warmup-thumbs"), ec);
  }

  void downloads() {
    const int n = static_cast<int>(urls.size()), j = c.fetch_jobs;
    const fs::path serial = dir("download-serial");
    auto fetch = [&](FetchStrategyKind kind, int jobs) {
      return [&, kind, jobs](const fs::path& d) {
        return fetch_once(c, urls, kind, jobs, d, observer, stop);
      };
    };
    add(make_row("download", "Download one after another (serial)", "serial", 1, n), serial, serial,
        fetch(FetchStrategyKind::serial, 1));
    add(make_row("download", fmt::format("Download with {} threads (threads)", j), "threads", j, n),
        dir("download-threads"), serial, fetch(FetchStrategyKind::threads, j));
    add(make_row("download", fmt::format("Download with {} concurrent transfers (async)", j),
                 "async", j, n),
        dir("download-async"), serial, fetch(FetchStrategyKind::async, j));
  }

  // Thumbnails of the serial download's files.
  void thumbnails() {
    const fs::path input = dir("download-serial"), serial = dir("thumbs-serial");
    const int n = static_cast<int>(output_images(input).size()), k = c.thumb_workers;
    auto thumbs = [&](ThumbStrategyKind kind, int workers) {
      return [&, kind, workers](const fs::path& d) {
        return thumbs_once(c, input, kind, workers, d, observer, stop);
      };
    };
    add(make_row("thumbnails", "Thumbnails one after another (serial)", "serial", 1, n), serial,
        serial, thumbs(ThumbStrategyKind::serial, 1));
    add(make_row("thumbnails", fmt::format("Thumbnails on {} threads (threads)", k), "threads", k,
                 n),
        dir("thumbs-threads"), serial, thumbs(ThumbStrategyKind::threads, k));
    add(make_row("thumbnails", fmt::format("Thumbnails in {} worker processes (processes)", k),
                 "processes", k, n),
        dir("thumbs-processes"), serial, thumbs(ThumbStrategyKind::processes, k));
  }

  void pipeline() {
    add(make_row("pipeline",
                 fmt::format("Download and thumbnail streamed (run: async x{}, threads x{})",
                             c.fetch_jobs, c.thumb_workers),
                 "run", c.fetch_jobs, static_cast<int>(urls.size())),
        dir("run"), dir("thumbs-serial"),
        [&](const fs::path& d) { return pipeline_once(c, urls, d, observer, stop); });
  }
};

}  // namespace

BenchOutcome run_bench(const BenchConfig& c, const JobObserver& observer, std::stop_token stop) {
  std::error_code ec;
  fs::create_directories(c.work_dir, ec);
  if (!fs::is_directory(c.work_dir)) {
    throw SetupError(
        fmt::format("cannot create the work folder {}: {}", c.work_dir.string(), ec.message()));
  }
  std::optional<ServedCorpus> server;
  const BenchInput in = bench_input(c, server, observer, stop);
  BenchOutcome out;
  out.report.title = "thumbfetch bench";
  out.report.machine = describe_machine();
  out.report.source = in.source;
  out.report.repeat = c.repeat;
  Bench bench{c, in.urls, observer, stop, out.report};
  bench.warm_up();
  bench.downloads();
  bench.thumbnails();
  bench.pipeline();
  out.thumbnails = c.work_dir / "thumbs-serial";
  return out;
}

}  // namespace thumbfetch
