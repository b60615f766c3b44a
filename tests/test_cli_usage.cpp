// Usage problems as a new user meets them (issue 10, point 1): a bad value or two flags that
// cannot both hold end the run with exit 2 and one readable message before any work (no output
// folder); a flag that has no effect where it was given is warned about, and the run goes on.
// 0 means "no limit" wherever a limit is optional.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "support/image_fixtures.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"
#include "thumbfetch/serve/image_server.hpp"

using namespace thumbfetch;
using namespace thumbfetch::test;
namespace fs = std::filesystem;

namespace {

struct Paths {
  TempDir tmp;
  fs::path images = tmp / "images";
  fs::path list = tmp / "urls.txt";
  fs::path out = tmp / "out";
};

// Two small JPEGs and a URL list (that nothing is ever fetched from: each case stops first).
void make_inputs(Paths& s) {
  fs::create_directories(s.images);
  write_quadrant_jpeg(s.images / "a.jpg", 300, 200);
  write_quadrant_jpeg(s.images / "b.jpg", 200, 300);
  std::ofstream(s.list) << "http://127.0.0.1:9/img/a.jpg\n";
}

bool has_long_number(const std::string& text) {
  return std::regex_search(text, std::regex("[0-9]{20,}"));
}

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

}  // namespace

TEST(CliUsage, BadValuesAreRefusedReadablyBeforeAnyWork) {
  Paths s;
  make_inputs(s);
  const std::vector<std::string> thumbs = {"thumbs", s.images.string(), "-o", s.out.string()};
  const std::vector<std::string> fetch = {"fetch", "--urls", s.list.string(), "-o", s.out.string()};
  struct Case {
    std::vector<std::string> args;
    std::string flag;  // the message names it
    std::string says;  // and says this
  };
  const std::vector<Case> cases = {
      {with(thumbs, {"--timeout", "-1"}), "--timeout", "negative"},
      {with(thumbs, {"--max-pixels", "-5"}), "--max-pixels", "negative"},
      {with(thumbs, {"--max-pixels", "lots"}), "--max-pixels", "50M"},
      {with(thumbs, {"--reducing-gap", "0.5"}), "--reducing-gap", "1 to 8"},
      {with(thumbs, {"-j", "0"}), "--jobs", "1 to 1024"},
      {with(fetch, {"-n", "-5"}), "--count", "negative"},
      {with(fetch, {"--per-host", "-1"}), "--per-host", "negative"},
      {with(fetch, {"--timeout", "-5s"}), "--timeout", "negative"},
      {with(fetch, {"--connect-timeout", "0"}), "--connect-timeout", "more than 0"},
      {with(fetch, {"-H", "no colon here"}), "--header", "Name: value"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args[0] + " " + c.flag);
    auto r = run_thumbfetch(c.args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(c.flag), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
    EXPECT_FALSE(has_long_number(r.err)) << r.err;
    EXPECT_EQ(r.err.find("000000"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(s.out)) << "a usage error created the output folder";
  }
}

TEST(CliUsage, FlagsThatCannotBothHoldAreRefused) {
  Paths s;
  make_inputs(s);
  const std::vector<std::string> thumbs = {"thumbs", s.images.string(), "-o", s.out.string()};
  auto r = run_thumbfetch(with(thumbs, {"-q", "-v"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--quiet and --verbose"), std::string::npos) << r.err;
  // A free side is "fit, never enlarge" by the other side: cover cannot fill an open box.
  r = run_thumbfetch(with(thumbs, {"-s", "256x", "--mode", "cover"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--mode fit"), std::string::npos) << r.err;
  EXPECT_EQ(count_lines_with(r.err, "256x"), 1) << "one message: " << r.err;
  EXPECT_FALSE(fs::exists(s.out));
}

TEST(CliUsage, FlagsWithoutEffectAreWarnedAboutAndTheRunGoesOn) {
  ServeConfig c;
  c.generate = 2;
  c.spec.min_side = 48;
  c.spec.max_side = 64;
  ImageServer server(c);
  server.start_in_thread();
  Paths s;
  make_inputs(s);
  {
    std::ofstream list(s.list);
    for (const auto& n : server.image_names()) list << server.base_url() << "/img/" << n << "\n";
  }
  auto r = run_thumbfetch({"fetch", "--urls", s.list.string(), "-o", (s.tmp / "f").string(),
                           "--strategy", "serial", "-j", "64", "--imgur-nsfw"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_lines_with(r.err, "warning: -j 64 has no effect with --strategy serial"), 1)
      << r.err;
  EXPECT_EQ(count_lines_with(r.err, "warning: --imgur-nsfw has no effect with --urls"), 1) << r.err;

  r = run_thumbfetch({"thumbs", s.images.string(), "-o", s.out.string(), "--timeout", "5",
                      "--strategy", "threads", "--format", "png", "--quality", "50"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_lines_with(r.err, "warning: --timeout has no effect with --strategy threads"), 1)
      << r.err;
  EXPECT_EQ(count_lines_with(r.err, "warning: --quality has no effect with --format png"), 1)
      << r.err;
  EXPECT_TRUE(fs::exists(s.out / "a.png"));

  // Given where they do apply: no warning.
  r = run_thumbfetch({"thumbs", s.images.string(), "-o", (s.tmp / "p").string(), "--timeout", "5",
                      "--strategy", "processes", "-j", "1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_lines_with(r.err, "warning"), 0) << r.err;
}

TEST(CliUsage, ZeroMeansNoLimitWhereverALimitIsOptional) {
  ServeConfig c;
  c.generate = 2;
  c.spec.min_side = 48;
  c.spec.max_side = 64;
  ImageServer server(c);
  server.start_in_thread();
  Paths s;
  make_inputs(s);
  {
    std::ofstream list(s.list);
    for (const auto& n : server.image_names()) list << server.base_url() << "/img/" << n << "\n";
  }
  auto r = run_thumbfetch(
      {"thumbs", s.images.string(), "-o", s.out.string(), "--max-pixels", "0", "--timeout", "0"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(s.out / "a.jpg"));
  r = run_thumbfetch({"fetch", "--urls", s.list.string(), "-o", (s.tmp / "f").string(),
                      "--max-bytes", "0", "--timeout", "0", "--per-host", "0", "-n", "0"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(s.tmp / "f" / server.image_names()[1]));
}
