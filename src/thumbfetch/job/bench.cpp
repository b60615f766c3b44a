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
    std::vector<std::string> argv = {fs::read_symlink("/proc/self/exe").string(),
                                     "serve",
                                     "--dir",
                                     corpus.string(),
                                     "--port",
                                     "0",
                                     "--latency",
                                     std::to_string(c.serve_latency_ms),
                                     "--imgur-pages",
                                     std::to_string(pages)};
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

std::string sha_of(const fs::path& p) {
  auto data = read_file(p);
  return data ? sha256_hex(*data) : std::string();
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
    else if (sha_of(path) != sha_of(it->second))
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

BenchOutcome run_bench(const BenchConfig& c, const JobObserver& observer, std::stop_token stop) {
  std::error_code ec;
  fs::create_directories(c.work_dir, ec);
  if (!fs::is_directory(c.work_dir)) {
    throw SetupError(
        fmt::format("cannot create the work folder {}: {}", c.work_dir.string(), ec.message()));
  }
  std::optional<ServedCorpus> server;
  const BenchInput in = bench_input(c, server, observer, stop);
  const int n = static_cast<int>(in.urls.size());
  const fs::path w = c.work_dir;
  BenchOutcome out;
  out.report.title = "thumbfetch bench";
  out.report.machine = describe_machine();
  out.report.source = in.source;
  out.report.repeat = c.repeat;

  observer.say("warm-up: one download and one thumbnail run, not measured");
  fetch_once(c, in.urls, FetchStrategyKind::async, c.fetch_jobs, w / "warmup-download", observer,
             stop);
  thumbs_once(c, w / "warmup-download", ThumbStrategyKind::threads, c.thumb_workers,
              w / "warmup-thumbs", observer, stop);
  fs::remove_all(w / "warmup-download", ec);
  fs::remove_all(w / "warmup-thumbs", ec);

  auto add = [&](BenchRow row, const fs::path& dir, const fs::path& reference, auto&& run) {
    measure_row(row, c.repeat, dir, observer, stop, run);
    if (!reference.empty() && dir != reference) row.mismatch = compare_outputs(reference, dir);
    out.report.rows.push_back(std::move(row));
  };
  const fs::path fetched = w / "download-serial";
  const int j = c.fetch_jobs, k = c.thumb_workers;
  add(make_row("download", "Download one after another (serial)", "serial", 1, n), fetched, fetched,
      [&](const fs::path& d) {
        return fetch_once(c, in.urls, FetchStrategyKind::serial, 1, d, observer, stop);
      });
  add(make_row("download", fmt::format("Download with {} threads (threads)", j), "threads", j, n),
      w / "download-threads", fetched, [&](const fs::path& d) {
        return fetch_once(c, in.urls, FetchStrategyKind::threads, j, d, observer, stop);
      });
  add(make_row("download", fmt::format("Download with {} concurrent transfers (async)", j), "async",
               j, n),
      w / "download-async", fetched, [&](const fs::path& d) {
        return fetch_once(c, in.urls, FetchStrategyKind::async, j, d, observer, stop);
      });

  const fs::path thumbs = w / "thumbs-serial";
  const int images = static_cast<int>(output_images(fetched).size());
  add(make_row("thumbnails", "Thumbnails one after another (serial)", "serial", 1, images), thumbs,
      thumbs, [&](const fs::path& d) {
        return thumbs_once(c, fetched, ThumbStrategyKind::serial, 1, d, observer, stop);
      });
  add(make_row("thumbnails", fmt::format("Thumbnails on {} threads (threads)", k), "threads", k,
               images),
      w / "thumbs-threads", thumbs, [&](const fs::path& d) {
        return thumbs_once(c, fetched, ThumbStrategyKind::threads, k, d, observer, stop);
      });
  add(make_row("thumbnails", fmt::format("Thumbnails in {} worker processes (processes)", k),
               "processes", k, images),
      w / "thumbs-processes", thumbs, [&](const fs::path& d) {
        return thumbs_once(c, fetched, ThumbStrategyKind::processes, k, d, observer, stop);
      });
  add(make_row("pipeline",
               fmt::format("Download and thumbnail streamed (run: async x{}, threads x{})", j, k),
               "run", j, n),
      w / "run", thumbs,
      [&](const fs::path& d) { return pipeline_once(c, in.urls, d, observer, stop); });
  out.thumbnails = thumbs;
  return out;
}

}  // namespace thumbfetch
