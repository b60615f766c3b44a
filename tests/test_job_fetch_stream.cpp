// The fetch job streamed: the list read as the run goes, refused lines reported in their place,
// resume through the manifest index (manifest.hpp) without the rows held, the names of a folder
// kept on resume, and memory flat in the length of the list.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include "support/run_command.hpp"
#include "support/temp_dir.hpp"
#include "thumbfetch/cli/cli.hpp"
#include "thumbfetch/fetch/manifest.hpp"
#include "thumbfetch/job/fetch_job.hpp"
#include "thumbfetch/job/plan_spool.hpp"
#include "thumbfetch/job/setup_error.hpp"
#include "thumbfetch/serve/image_server.hpp"

using namespace thumbfetch;
using namespace thumbfetch::test;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

fs::path write_lines(const fs::path& path, const std::vector<std::string>& lines) {
  std::ofstream out(path);
  for (const auto& l : lines) out << l << "\n";
  return path;
}

ServeConfig small_corpus(int n) {
  ServeConfig c;
  c.generate = n;
  c.spec.min_side = 48;
  c.spec.max_side = 96;
  return c;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
    lines.push_back(text.substr(start, end - start));
  return lines;
}

// The current resident memory of this process, in bytes.
std::uint64_t resident_bytes() {
  std::ifstream in("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  in >> size >> resident;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

// The descriptor this process holds on an unlinked file it made in `dir` (a plan file), or -1.
int unlinked_fd_in(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const std::string target = fs::read_symlink(e.path(), ec).string();
    if (!ec && target.starts_with(dir.string()) && target.ends_with("(deleted)")) {
      return std::stoi(e.path().filename().string());
    }
  }
  return -1;
}

TEST(FetchStream, RefusedLinesBeforeGoodOnesAreEachReportedInTheirPlace) {
  ImageServer s(small_corpus(3));
  s.start_in_thread();
  TempDir tmp;
  std::vector<std::string> lines = {"ftp://127.0.0.1/a.jpg", "not a url",
                                    "http://no host.test/x.jpg"};
  for (const auto& n : s.image_names()) lines.push_back(s.base_url() + "/img/" + n);
  lines.push_back("gopher://127.0.0.1/late.jpg");
  const fs::path list = write_lines(tmp / "urls.txt", lines);
  const CommandResult r = run_thumbfetch(
      {"fetch", "--urls", list.string(), "-o", (tmp / "out").string(), "-v", "-j", "2"});
  EXPECT_EQ(r.exit_code, kExitSomeFailed) << r.err;
  EXPECT_NE(r.out.find("3 ok, 4 failed, 0 skipped (4 refused)"), std::string::npos) << r.out;
  // Each refused line once, with its line number, the first three before any download.
  const std::vector<std::string> err = lines_of(r.err);
  std::vector<size_t> at;
  for (const auto& [text, number] :
       std::vector<std::pair<std::string, int>>{{"ftp://127.0.0.1/a.jpg", 1},
                                                {"not a url", 2},
                                                {"http://no host.test/x.jpg", 3},
                                                {"gopher://127.0.0.1/late.jpg", 7}}) {
    EXPECT_EQ(count_lines_with(r.err, text + ": refused"), 1) << text << "\n" << r.err;
    EXPECT_EQ(count_lines_with(r.err, "(line " + std::to_string(number) + ")"), 1) << r.err;
    for (size_t i = 0; i < err.size(); ++i)
      if (err[i].starts_with(text + ": refused")) at.push_back(i);
  }
  ASSERT_EQ(at.size(), 4u);
  size_t first_ok = err.size();
  for (size_t i = 0; i < err.size(); ++i)
    if (err[i].ends_with(": ok")) first_ok = std::min(first_ok, i);
  EXPECT_LT(at[2], first_ok) << r.err;
  EXPECT_EQ(count_lines_with(r.err, ": ok"), 3) << r.err;
  for (const auto& n : s.image_names()) EXPECT_EQ(slurp(tmp / "out" / n), s.image_bytes(n));
}

// A folder as the code before streaming left it (the manifest's format is unchanged): rows of
// other URLs, a URL with a failed row then an ok one (a run stopped before its rewrite), a
// hashed name from a clash, a torn last line. The resume finds each row through the index.
TEST(FetchStream, ResumeOfAnEarlierFolderThroughTheIndex) {
  ImageServer s(small_corpus(2));
  s.start_in_thread();
  TempDir tmp;
  const fs::path out = tmp / "out";
  const std::string a = s.base_url() + "/img/" + s.image_names()[0];
  const std::string b = s.base_url() + "/img/" + s.image_names()[1];
  // The same file name wanted by two URLs: the first run gives one the hashed name.
  const std::string a2 = a + "?copy=1";
  const fs::path list = write_lines(tmp / "urls.txt", {a, a2, b});
  CommandResult r = run_thumbfetch({"fetch", "--urls", list.string(), "-o", out.string()});
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  std::map<std::string, std::string> file_of;
  for (const ManifestRow& row : load_manifest(out)) file_of[row.url] = row.file;
  ASSERT_EQ(file_of.size(), 3u);
  EXPECT_NE(file_of[a], file_of[a2]);

  // What a stopped run leaves: an older failed row of b before its ok row is not the latest; a
  // row of another URL; a torn last line.
  const std::string manifest = slurp(out / kManifestName);
  {
    std::ofstream rewritten(out / kManifestName, std::ios::trunc);
    rewritten << R"({"url":"http://elsewhere.test/x.jpg","file":"x.jpg","status":"ok","bytes":5})"
              << "\n"
              << R"({"url":")" << b << R"(","file":"","status":"failed","error_kind":"http"})"
              << "\n"
              << manifest << R"({"url":"http://torn)";
  }
  // One file gone: fetched again under its own (hashed) name, whatever the list's order now.
  fs::remove(out / file_of[a2]);
  const auto before_a = s.stats().get_count("/img/" + s.image_names()[0]);
  r = run_thumbfetch(
      {"fetch", "--urls", write_lines(tmp / "again.txt", {a2, b, a}).string(), "-o", out.string()});
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("1 ok, 0 failed, 2 skipped"), std::string::npos) << r.out;
  EXPECT_EQ(s.stats().get_count("/img/" + s.image_names()[0]), before_a + 1);
  EXPECT_EQ(s.stats().get_count("/img/" + s.image_names()[1]), 1u);
  const std::vector<ManifestRow> rows = load_manifest(out);
  ASSERT_EQ(rows.size(), 4u);
  // The other URL's row first, then this run's in list order, one row per URL.
  EXPECT_EQ(rows[0].url, "http://elsewhere.test/x.jpg");
  EXPECT_EQ(rows[1].url, a2);
  EXPECT_EQ(rows[1].file, file_of[a2]);
  EXPECT_EQ(rows[2].url, b);
  EXPECT_EQ(rows[2].status, "ok");
  EXPECT_EQ(rows[3].url, a);
  EXPECT_EQ(rows[3].file, file_of[a]);
  EXPECT_EQ(slurp(out / file_of[a2]), s.image_bytes(s.image_names()[0]));
  EXPECT_EQ(lines_of(slurp(out / kManifestName)).size(), 4u);  // compacted, the torn line gone
}

TEST(FetchStream, ManifestIndexFindsTheLatestRowOfEachUrl) {
  TempDir tmp;
  write_lines(tmp / kManifestName,
              {R"({"url":"http://h/a.jpg","file":"","status":"failed"})",
               R"({"url":"http://h/b.jpg","file":"b.jpg","status":"ok","bytes":3})", "not json",
               R"({"url":"http://h/a.jpg","file":"a.jpg","status":"ok","bytes":4})"});
  {  // a whole row with no newline (an editor's): read, as load_manifest() reads it
    std::ofstream last(tmp / kManifestName, std::ios::app);
    last << R"({"url":"http://h/d.jpg","file":"d.jpg","status":"ok","bytes":2})";
  }
  ManifestIndex index(tmp.path());
  EXPECT_EQ(index.size(), 3u);
  EXPECT_EQ(load_manifest(tmp.path()).size(), 3u);
  auto d = index.take("http://h/d.jpg");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->first.file, "d.jpg");
  EXPECT_TRUE(slurp(tmp / kManifestName).ends_with("}\n"));  // appends start on a line of their own
  auto a = index.take("http://h/a.jpg");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->first.status, "ok");
  EXPECT_EQ(a->first.file, "a.jpg");
  EXPECT_FALSE(index.take("http://h/c.jpg"));
  // b was never asked for: it is the one row kept for other URLs.
  const std::vector<std::uint64_t> others = index.untaken();
  ASSERT_EQ(others.size(), 1u);
  LinesAt lines(tmp / kManifestName);
  auto line = lines.line(others[0]);
  ASSERT_TRUE(line);
  EXPECT_NE(line->find("b.jpg"), std::string_view::npos);
  EXPECT_FALSE(lines.line(a->second + 1000));
}

// A plan file cut short under the run (a failing disk): reading it says so, rather than end the
// list early with URLs never reported.
TEST(FetchStream, APlanFileCutShortIsAnErrorNotTheEndOfTheList) {
  TempDir tmp;
  PlanSpool spool(tmp.path());
  constexpr int kItems = 1000;
  for (int i = 0; i < kItems; ++i) {
    PlannedItem item;
    item.index = static_cast<std::uint64_t>(i);
    item.url = "http://h/" + std::to_string(i) + ".jpg";
    item.stem = std::to_string(i);
    spool.write(item);
  }
  spool.rewind();
  const int fd = unlinked_fd_in(tmp.path());
  ASSERT_GE(fd, 0);
  struct stat st {};
  ASSERT_EQ(::fstat(fd, &st), 0);
  ASSERT_EQ(::ftruncate(fd, st.st_size / 2), 0);
  int read = 0;
  EXPECT_THROW(
      {
        while (spool.read()) ++read;
      },
      std::runtime_error);
  EXPECT_GT(read, 0);
  EXPECT_LT(read, kItems);
}

// Rows the commit cannot read back (the file was cut under the run): the manifest is left as
// appended, valid rows a resume reads, rather than replaced by a shorter one; commit says so.
TEST(FetchStream, ACommitThatCannotReadARowBackKeepsTheManifestAsAppended) {
  ImageServer s(small_corpus(4));
  s.start_in_thread();
  TempDir tmp;
  std::vector<std::string> urls;
  for (const auto& n : s.image_names()) urls.push_back(s.base_url() + "/img/" + n);
  FetchConfig config;
  config.source.urls_file = write_lines(tmp / "urls.txt", urls).string();
  config.out_dir = tmp / "out";
  config.strategy = FetchStrategyKind::serial;
  FetchJob job = FetchJob::plan(std::move(config), {});
  job.run({}, {});
  ASSERT_EQ(job.tally().ok, 4);
  const fs::path manifest = tmp / "out" / kManifestName;
  fs::resize_file(manifest, fs::file_size(manifest) - 10);  // the last row torn
  const std::string cut = slurp(manifest);
  const Status committed = job.commit();
  ASSERT_FALSE(committed.ok()) << "a row was dropped without a word";
  EXPECT_NE(committed.error().message.find("could not be read back"), std::string::npos)
      << committed.error().message;
  EXPECT_EQ(slurp(manifest), cut) << "replaced by a shorter manifest";
  EXPECT_EQ(load_manifest(tmp / "out").size(), 3u);
}

// Lines read back by offset in any order, short and long (past the first small window, past a
// whole read), the same as the file's; a torn last line and an offset past the end are none.
TEST(FetchStream, LinesAtReadsEachLineInAnyOrder) {
  TempDir tmp;
  std::vector<std::string> lines;
  std::vector<std::uint64_t> offsets;
  std::string text;
  for (int i = 0; i < 3000; ++i) {
    const size_t length = i % 500 == 7 ? (3u << 20) : i % 50 == 3 ? 10'000 : 40 + i % 300;
    lines.push_back(std::string(length, static_cast<char>('a' + i % 26)) + std::to_string(i));
    offsets.push_back(text.size());
    text += lines.back() + "\n";
  }
  { std::ofstream(tmp / "rows.jsonl", std::ios::binary) << text << "torn"; }
  std::vector<size_t> order(lines.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::vector<size_t> shuffled = order;
  std::mt19937 rng(3);
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  for (const auto& sequence : {order, shuffled}) {
    LinesAt at(tmp / "rows.jsonl");
    for (size_t i : sequence) {
      auto line = at.line(offsets[i]);
      ASSERT_TRUE(line) << i;
      ASSERT_EQ(*line, lines[i]) << i;
    }
    EXPECT_FALSE(at.line(text.size()));  // the torn last line
    EXPECT_FALSE(at.line(text.size() + 100));
  }
}

// Ctrl-C while a long list is planned answers within a few thousand lines (StoppedBeforeWork:
// exit 130), not once the whole list is read.
TEST(FetchStream, AStopWhilePlanningALongListEndsThePlan) {
  TempDir tmp;
  {
    std::ofstream out(tmp / "urls.txt");
    for (int i = 0; i < 50'000; ++i) out << "http://127.0.0.1:9/p/" << i << ".jpg\n";
  }
  FetchConfig config;
  config.source.urls_file = (tmp / "urls.txt").string();
  config.out_dir = tmp / "out";
  std::stop_source stop;
  stop.request_stop();
  EXPECT_THROW(FetchJob::plan(std::move(config), {}, stop.get_token()), StoppedBeforeWork);
}

// The plan of a long list holds a few dozen bytes per URL, not the URLs: a generous bound (it
// takes about 60), far below what holding the list, its names and its rows took (the code
// before streaming: 278 MB resident for this list of 300,000 URLs, about 880 bytes per URL).
TEST(FetchStream, PlanMemoryIsFlatInTheLengthOfTheList) {
#if defined(__SANITIZE_ADDRESS__)
  // ASan's shadow memory and quarantine grow resident memory by design: measured in the normal
  // build only.
  GTEST_SKIP() << "resident memory is not the program's under ASan";
#endif
  TempDir tmp;
  constexpr int kUrls = 300'000;
  {
    std::ofstream out(tmp / "urls.txt");
    for (int i = 0; i < kUrls; ++i)
      out << "http://127.0.0.1:9/some/long/path/for/images/photo-number-" << i << ".jpg\n";
  }
  const std::uint64_t before = resident_bytes();
  FetchConfig config;
  config.source.urls_file = (tmp / "urls.txt").string();
  config.out_dir = tmp / "out";
  FetchJob job = FetchJob::plan(std::move(config), {});
  const std::uint64_t grown = resident_bytes() - std::min(before, resident_bytes());
  EXPECT_EQ(job.url_count(), static_cast<size_t>(kUrls));
  EXPECT_LT(grown, 160u * kUrls) << grown / kUrls << " bytes per URL";
}

}  // namespace
