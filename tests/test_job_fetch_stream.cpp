// The fetch job streamed: the list read as the run goes, refused lines reported in their place,
// resume through the manifest index (manifest.hpp) without the rows held, the names of a folder
// kept on resume, and memory flat in the length of the list.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/run_command.hpp"
#include "support/temp_dir.hpp"
#include "thumbfetch/cli/cli.hpp"
#include "thumbfetch/fetch/manifest.hpp"
#include "thumbfetch/job/fetch_job.hpp"
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
