// `bench`, `run` and `demo` through the real executable, against the built-in server on
// 127.0.0.1: every row and count of the comparison, its machine-readable forms and report
// folder, the streamed pipeline's thumbnails byte for byte equal to `fetch` then `thumbs`.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/run_command.hpp"
#include "support/temp_dir.hpp"
#include "thumbfetch/cli/cli.hpp"
#include "thumbfetch/job/bench.hpp"
#include "thumbfetch/job/pipeline_job.hpp"
#include "thumbfetch/serve/image_server.hpp"
#include "thumbfetch/util/atomic_file.hpp"

using namespace thumbfetch;
using namespace thumbfetch::test;
namespace fs = std::filesystem;

namespace {

std::map<std::string, std::string> images_in(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const fs::path& p : output_images(dir)) out[p.filename().string()] = read_file(p).value();
  return out;
}

ServeConfig small_corpus(int n) {
  ServeConfig c;
  c.generate = n;
  c.spec.min_side = 200;
  c.spec.max_side = 400;
  return c;
}

}  // namespace

TEST(CliBench, EveryApproachSideBySideInEveryForm) {
  TempDir tmp;
  const fs::path report = tmp / "report";
  auto r = run_thumbfetch({"bench", "--serve", "12", "--latency", "5", "--repeat", "2", "-j", "8",
                           "-w", "2", "--format", "json", "--report", report.string(), "--work",
                           (tmp / "work").string(), "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["rows"].size(), 7u) << r.out;
  std::map<std::string, int> per_step;
  for (const auto& row : j["rows"]) {
    ++per_step[row["step"]];
    EXPECT_EQ(row["ok"], 12) << row["approach"];
    EXPECT_EQ(row["failed"], 0) << row["approach"];
    EXPECT_EQ(row["mismatch"], "") << row["approach"];
    EXPECT_EQ(row["wall_runs"].size(), 2u);
    EXPECT_GT(row["figures"]["wall_median"].get<double>(), 0);
    EXPECT_GT(row["figures"]["cpu_median"].get<double>(), 0);
  }
  EXPECT_EQ(per_step["download"], 3);
  EXPECT_EQ(per_step["thumbnails"], 3);
  EXPECT_EQ(per_step["pipeline"], 1);
  EXPECT_EQ(j["rows"][0]["strategy"], "serial");
  EXPECT_NE(j["rows"][2]["approach"].get<std::string>().find("8 concurrent transfers (async)"),
            std::string::npos);
  // The report folder: every file there and readable.
  for (const char* f : {"index.html", "report.md", "results.csv", "results.json", "chart.svg",
                        "chart.png", "contact.jpg"}) {
    EXPECT_TRUE(fs::exists(report / f)) << f;
  }
  EXPECT_EQ(read_file(report / "chart.png").value().substr(1, 3), "PNG");
  EXPECT_EQ(nlohmann::json::parse(read_file(report / "results.json").value())["rows"].size(), 7u);
  const std::string csv = read_file(report / "results.csv").value();
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 8);  // a header and 7 rows
  // The work folder keeps every run's output, the same everywhere.
  const auto serial = images_in(tmp / "work" / "thumbs-serial");
  EXPECT_EQ(serial.size(), 12u);
  EXPECT_EQ(images_in(tmp / "work" / "run"), serial);
}

TEST(CliBench, ADifferenceFromSerialIsNamed) {
  TempDir tmp;
  fs::create_directories(tmp / "a");
  fs::create_directories(tmp / "b");
  for (const char* name : {"x.jpg", "y.jpg", "z.jpg"}) {
    std::ofstream(tmp / "a" / name) << name;
    std::ofstream(tmp / "b" / name) << name;
  }
  EXPECT_EQ(compare_outputs(tmp / "a", tmp / "b"), "");
  std::ofstream(tmp / "b" / "y.jpg") << "other bytes";
  fs::remove(tmp / "b" / "z.jpg");
  std::ofstream(tmp / "b" / "w.jpg") << "w";
  std::ofstream(tmp / "b" / "manifest.jsonl") << "{}";  // not an output: ignored
  EXPECT_EQ(compare_outputs(tmp / "a", tmp / "b"),
            "1 file differs from serial, 1 missing, 1 extra");
}

TEST(CliBench, TextTableForPeople) {
  TempDir tmp;
  auto r = run_thumbfetch({"bench", "--serve", "6", "--latency", "0", "--repeat", "1", "-j", "4",
                           "-w", "2", "--work", (tmp / "work").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Download one after another (serial)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Thumbnails in 2 worker processes (processes)"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("run 1 of 1"), std::string::npos) << r.err;
}

TEST(CliRun, StreamedPipelineMakesTheBytesOfFetchThenThumbs) {
  ImageServer s(small_corpus(10));
  s.start_in_thread();
  TempDir tmp;
  {
    std::ofstream list(tmp / "urls.txt");
    for (const auto& n : s.image_names()) list << s.base_url() << "/img/" << n << "\n";
    list << s.base_url() << "/img/missing.jpg\n";  // a 404: one failure line, the rest go on
  }
  const std::string urls = (tmp / "urls.txt").string();
  auto f = run_thumbfetch({"fetch", "--urls", urls, "-o", (tmp / "fetched").string()});
  EXPECT_EQ(f.exit_code, 1) << f.err;
  ASSERT_EQ(run_thumbfetch({"thumbs", (tmp / "fetched").string(), "-o", (tmp / "thumbs").string()})
                .exit_code,
            0);
  for (const char* strategy : {"serial", "threads", "processes"}) {
    SCOPED_TRACE(strategy);
    const fs::path out = tmp / (std::string("run-") + strategy);
    auto r = run_thumbfetch({"run", "--urls", urls, "-o", out.string(), "--thumb-strategy",
                             strategy, "-w", "2", "-j", "4", "--keep-originals"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(count_lines_with(r.err, "missing.jpg: HTTP 404"), 1) << r.err;
    EXPECT_NE(r.out.find("10 ok, 1 failed"), std::string::npos) << r.out;
    EXPECT_EQ(images_in(out), images_in(tmp / "thumbs"));
    EXPECT_EQ(images_in(out / "originals"), images_in(tmp / "fetched"));
  }
  // Resumed: nothing is fetched again, and without --keep-originals none stay behind.
  auto again = run_thumbfetch({"run", "--urls", urls, "-o", (tmp / "run-serial").string()});
  EXPECT_NE(again.out.find("0 ok, 1 failed, 10 skipped"), std::string::npos) << again.out;
  auto plain = run_thumbfetch({"run", "--urls", urls, "-o", (tmp / "plain").string()});
  EXPECT_NE(plain.out.find("10 ok, 1 failed"), std::string::npos) << plain.out;
  EXPECT_FALSE(fs::exists(tmp / "plain" / "originals"));
  EXPECT_FALSE(fs::exists(tmp / "plain" / ".thumbfetch-staging"));
  EXPECT_EQ(images_in(tmp / "plain"), images_in(tmp / "thumbs"));
  std::ifstream manifest(tmp / "plain" / kRunManifestName);
  int rows = 0;
  for (std::string line; std::getline(manifest, line);) ++rows;
  EXPECT_EQ(rows, 11);
}

TEST(CliRun, ResumeRedoesOnlyWhatIsMissingOrMadeWithOtherOptions) {
  ImageServer s(small_corpus(6));
  s.start_in_thread();
  TempDir tmp;
  {
    std::ofstream list(tmp / "urls.txt");
    for (const auto& n : s.image_names()) list << s.base_url() << "/img/" << n << "\n";
  }
  const std::vector<std::string> run = {"run",
                                        "--urls",
                                        (tmp / "urls.txt").string(),
                                        "-o",
                                        (tmp / "out").string(),
                                        "--keep-originals"};
  ASSERT_EQ(run_thumbfetch(run).exit_code, 0);
  // Two thumbnails lost: made again from the kept originals, nothing downloaded again.
  const auto names = output_images(tmp / "out");
  fs::remove(names[0]);
  fs::remove(names[1]);
  auto again = run_thumbfetch(run);
  EXPECT_NE(again.out.find("2 ok, 0 failed, 4 skipped"), std::string::npos) << again.out;
  EXPECT_EQ(output_images(tmp / "out").size(), 6u);
  for (const auto& n : s.image_names()) EXPECT_EQ(s.stats().get_count("/img/" + n), 1u) << n;
  // Another size: every thumbnail is redone, at the new size, under the same names.
  auto resized = run;
  resized.insert(resized.end(), {"--size", "32x32"});
  auto r = run_thumbfetch(resized);
  EXPECT_NE(r.out.find("6 ok, 0 failed, 0 skipped"), std::string::npos) << r.out;
  EXPECT_EQ(output_images(tmp / "out"), names);
  std::ifstream manifest(tmp / "out" / kRunManifestName);
  for (std::string line; std::getline(manifest, line);) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_LE(j["width"].get<int>(), 32) << line;
  }
}

TEST(CliRun, AnEmptyListIsNothingToDoAndCreatesNothing) {
  TempDir tmp;
  std::ofstream(tmp / "empty.txt") << "# nothing here\n";
  for (const char* command : {"run", "fetch"}) {
    auto r = run_thumbfetch(
        {command, "--urls", (tmp / "empty.txt").string(), "-o", (tmp / "out").string()});
    EXPECT_EQ(r.exit_code, kExitSomeFailed) << command;
    EXPECT_NE(r.err.find("nothing to do"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(tmp / "out")) << command;
  }
  fs::create_directories(tmp / "no-images");
  auto r = run_thumbfetch({"thumbs", (tmp / "no-images").string(), "-o", (tmp / "out").string()});
  EXPECT_EQ(r.exit_code, kExitSomeFailed);
  EXPECT_NE(r.err.find("no image files"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp / "out"));
}

TEST(CliDemo, TheMainJobOfflineWithAReport) {
  TempDir tmp;
  auto r = run_thumbfetch({"demo", "-n", "60", "--latency", "5", "--repeat", "1", "-j", "8", "-o",
                           (tmp / "demo").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Download with 8 concurrent transfers (async)"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("Imgur: 60 links"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(tmp / "demo" / "index.html"));
  EXPECT_EQ(output_images(tmp / "demo" / "corpus").size(), 60u);
}
