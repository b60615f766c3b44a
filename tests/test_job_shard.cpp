// Shards of a URL list: byte ranges that cover every line exactly once for any N, the task's
// number from a scheduler's environment, refused resumes, DONE only when complete, status specs
// and the merge's precedence.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <random>

#include <nlohmann/json.hpp>

#include "support/temp_dir.hpp"
#include "thumbfetch/job/setup_error.hpp"
#include "thumbfetch/job/shard.hpp"
#include "thumbfetch/job/shard_report.hpp"
#include "thumbfetch/util/atomic_file.hpp"
#include "thumbfetch/util/fd.hpp"
#include "thumbfetch/util/json_bytes.hpp"

using namespace thumbfetch;
using namespace thumbfetch::test;
namespace fs = std::filesystem;

namespace {

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

// The ranges of all N shards, checked to be contiguous and to start at line starts.
std::vector<ByteRange> all_ranges(const std::string& text, int n, const fs::path& path) {
  write_text(path, text);
  UniqueFd fd(::open(path.c_str(), O_RDONLY));
  std::vector<ByteRange> out;
  for (int k = 0; k < n; ++k) {
    auto r = shard_byte_range(fd.get(), text.size(), {k, n});
    EXPECT_TRUE(r.ok());
    out.push_back(*r);
  }
  return out;
}

void expect_exact_cover(const std::string& text, int n, const fs::path& path) {
  const auto ranges = all_ranges(text, n, path);
  std::uint64_t at = 0;
  std::string joined;
  for (const ByteRange& r : ranges) {
    ASSERT_EQ(r.begin, at) << "gap or overlap at shard boundary, N=" << n;
    ASSERT_LE(r.begin, r.end);
    // A range starts at a line start: the file's start or just after a newline.
    if (r.begin > 0 && r.begin < text.size()) {
      ASSERT_EQ(text[r.begin - 1], '\n') << "N=" << n;
    }
    joined += text.substr(r.begin, r.end - r.begin);
    at = r.end;
  }
  EXPECT_EQ(at, text.size()) << "N=" << n;
  EXPECT_EQ(joined, text) << "N=" << n;
}

}  // namespace

TEST(JobShard, ByteRangesCoverEveryLineExactlyOnceForManyN) {
  TempDir tmp;
  std::mt19937 rng(7);
  std::vector<std::string> texts = {
      "",
      "http://a/1",                                  // one line, no final newline
      "http://a/1\n",                                // one line
      "\n\n\n",                                      // empty lines only
      "http://a/1\r\nhttp://a/2\r\n\r\nhttp://a/3",  // CRLF, an empty line, no final newline
  };
  std::string many;
  for (int i = 0; i < 500; ++i) {
    many += std::string(rng() % 3 == 0 ? "" : "http://h/") + std::to_string(rng()) +
            (i % 7 == 0 ? "\r\n" : "\n");
  }
  texts.push_back(many);
  texts.push_back(std::string(200'000, 'x') + "\nhttp://b/1\n" + std::string(70'000, 'y'));
  for (const std::string& text : texts) {
    for (int n : {1, 2, 3, 4, 5, 7, 16, 64, 499, 500, 501, 1000}) {
      expect_exact_cover(text, n, tmp / "list.txt");
    }
  }
}

TEST(JobShard, EachUrlLandsInExactlyOneShard) {
  TempDir tmp;
  std::string text;
  for (int i = 0; i < 97; ++i) text += "http://127.0.0.1/img/" + std::to_string(i) + ".jpg\n";
  write_text(tmp / "list.txt", text);
  for (int n : {1, 4, 10, 97, 200}) {
    std::map<std::string, int> seen;
    for (int k = 0; k < n; ++k) {
      const fs::path root = tmp / ("out" + std::to_string(n));
      ShardTask task = ShardTask::begin(tmp / "list.txt", root, {k, n});
      // The range as the job reads it.
      for (const std::string& url : collect_links(task.source(), {}, {}, nullptr).urls) ++seen[url];
    }
    EXPECT_EQ(seen.size(), 97u) << "N=" << n;
    for (const auto& [url, times] : seen) EXPECT_EQ(times, 1) << url << " N=" << n;
  }
}

// More shards than bytes: most ranges are empty, [0, 0) among them, and an empty range is no
// line at all (it once read as "to the end of the file": a 25-byte list fetched in 3 shards).
TEST(JobShard, MoreShardsThanBytesGiveEachUrlToExactlyOneShard) {
  TempDir tmp;
  for (const std::string& text :
       {std::string("http://127.0.0.1/a.jpg\n"), std::string("http://h/1\nhttp://h/2\n")}) {
    write_text(tmp / "list.txt", text);
    for (int n : {64, 1000}) {
      std::map<std::string, int> seen;
      int busy = 0;
      for (int k = 0; k < n; ++k) {
        const fs::path root = tmp / ("out" + std::to_string(n) + "-" + std::to_string(text.size()));
        ShardTask task = ShardTask::begin(tmp / "list.txt", root, {k, n});
        const std::vector<std::string> urls = collect_links(task.source(), {}, {}, nullptr).urls;
        for (const std::string& url : urls) ++seen[url];
        EXPECT_EQ(task.empty(), urls.empty()) << "shard " << k << " of " << n;
        if (!task.empty()) ++busy;
      }
      EXPECT_EQ(busy, static_cast<int>(seen.size())) << "N=" << n;
      EXPECT_EQ(seen.size(), static_cast<size_t>(std::count(text.begin(), text.end(), '\n')))
          << "N=" << n;
      for (const auto& [url, times] : seen) EXPECT_EQ(times, 1) << url << " N=" << n;
    }
  }
}

// A list cut short after the shard took its range: the job's read says so, it does not end
// the shard early (which would then be marked DONE with lines never seen).
TEST(JobShard, AListCutShortUnderAShardIsAnErrorNotItsEnd) {
  TempDir tmp;
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "http://h/" + std::to_string(i) + ".jpg\n";
  write_text(tmp / "list.txt", text);
  ShardTask task = ShardTask::begin(tmp / "list.txt", tmp / "out", {1, 2});
  ASSERT_GT(task.range().begin, 0u);
  fs::resize_file(tmp / "list.txt",
                  task.range().begin + (task.range().end - task.range().begin) / 2);
  EXPECT_THROW(collect_links(task.source(), {}, {}, nullptr), SetupError);
}

TEST(JobShard, ParsesSpecsAndSchedulerEnvironments) {
  EXPECT_EQ(*parse_shard_spec("3/64"), (ShardSpec{3, 64}));
  for (const char* bad : {"64/64", "-1/4", "1/0", "1", "a/b", "1/4x", ""}) {
    EXPECT_FALSE(parse_shard_spec(bad).ok()) << bad;
  }
  auto env = [](std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  };
  EXPECT_EQ(*shard_from_env(env({{"SLURM_ARRAY_TASK_ID", "5"}, {"SLURM_ARRAY_TASK_COUNT", "8"}})),
            (ShardSpec{5, 8}));
  // A resubmitted subset (--array=5) has COUNT 1: --shard-count gives the real N.
  EXPECT_EQ(
      *shard_from_env(env({{"SLURM_ARRAY_TASK_ID", "5"}, {"SLURM_ARRAY_TASK_COUNT", "1"}}), 8),
      (ShardSpec{5, 8}));
  EXPECT_FALSE(shard_from_env(env({{"JOB_COMPLETION_INDEX", "2"}})).ok());
  EXPECT_EQ(*shard_from_env(env({{"JOB_COMPLETION_INDEX", "2"}}), 3), (ShardSpec{2, 3}));
  // SGE task ids are 1-based.
  EXPECT_EQ(*shard_from_env(env({{"SGE_TASK_ID", "1"}, {"SGE_TASK_LAST", "4"}})),
            (ShardSpec{0, 4}));
  EXPECT_EQ(*shard_from_env(env({{"SGE_TASK_ID", "4"}, {"SGE_TASK_LAST", "4"}})),
            (ShardSpec{3, 4}));
  EXPECT_FALSE(shard_from_env(env({})).ok());
  EXPECT_FALSE(
      shard_from_env(env({{"SLURM_ARRAY_TASK_ID", "8"}, {"SLURM_ARRAY_TASK_COUNT", "8"}})).ok());
  EXPECT_EQ(shard_name({3, 8}), "3-of-8");
  EXPECT_EQ(*parse_shard_name("3-of-8"), (ShardSpec{3, 8}));
  EXPECT_FALSE(parse_shard_name("8-of-8").has_value());
}

TEST(JobShard, AResumeWithAnotherListOrAnotherNIsRefused) {
  TempDir tmp;
  std::string text;
  for (int i = 0; i < 20; ++i) text += "http://h/" + std::to_string(i) + "\n";
  write_text(tmp / "list.txt", text);
  const fs::path root = tmp / "out";
  ShardTask first = ShardTask::begin(tmp / "list.txt", root, {1, 4});
  fs::create_directories(first.dir());
  first.record();
  // The same list and N resumes; a copy elsewhere (same bytes, another mtime) too.
  EXPECT_NO_THROW(ShardTask::begin(tmp / "list.txt", root, {1, 4}));
  write_text(tmp / "copy.txt", text);
  EXPECT_NO_THROW(ShardTask::begin(tmp / "copy.txt", root, {2, 4}));
  // Another N.
  try {
    ShardTask::begin(tmp / "list.txt", root, {1, 5});
    ADD_FAILURE() << "another N was accepted";
  } catch (const SetupError& e) {
    EXPECT_NE(std::string(e.what()).find("N=4"), std::string::npos) << e.what();
  }
  // Another list (one more line).
  write_text(tmp / "other.txt", text + "http://h/20\n");
  try {
    ShardTask::begin(tmp / "other.txt", root, {1, 4});
    ADD_FAILURE() << "another list was accepted";
  } catch (const SetupError& e) {
    EXPECT_NE(std::string(e.what()).find("another URL list"), std::string::npos) << e.what();
  }
  // Same size, same head and tail, a changed line inside shard 1's range.
  std::string edited = text;
  edited[text.find("h/6")] = 'x';
  write_text(tmp / "edited.txt", edited);
  EXPECT_THROW(ShardTask::begin(tmp / "edited.txt", root, {1, 4}), SetupError);
}

TEST(JobShard, DoneOnlyWhenEveryItemSettled) {
  TempDir tmp;
  write_text(tmp / "list.txt", "http://h/1\nhttp://h/2\n");
  ShardTask task = ShardTask::begin(tmp / "list.txt", tmp / "out", {0, 1});
  fs::create_directories(task.dir());
  task.record();
  task.finish({1.0, 2.0, 1, 0, /*all_settled=*/false});
  EXPECT_FALSE(task.done());
  EXPECT_FALSE(fs::exists(task.dir() / kShardDone));
  task.finish({3.0, 5.0, 2, 0, /*all_settled=*/true});
  EXPECT_TRUE(task.done());
  const ShardsOverview o = shard_overview(tmp / "out");
  ASSERT_EQ(o.shards.size(), 1u);
  EXPECT_EQ(o.shards[0].state, ShardState::done);
  EXPECT_EQ(o.shards[0].attempts, 2);
  EXPECT_DOUBLE_EQ(o.shards[0].wall, 3.0);
}

TEST(JobShard, ArraySpecs) {
  EXPECT_EQ(array_spec({}), "");
  EXPECT_EQ(array_spec({3}), "3");
  EXPECT_EQ(array_spec({3, 17, 204, 205, 206, 207, 208, 209, 210}), "3,17,204-210");
  EXPECT_EQ(array_spec({210, 3, 204, 17, 205, 205, 206, 207, 208, 209}), "3,17,204-210");
  EXPECT_EQ(array_spec({0, 1, 3, 4}), "0-1,3-4");
}

TEST(JobShard, OkBeatsPermanentBeatsTemporary) {
  EXPECT_GT(row_rank("ok", "", 200), row_rank("failed", "not an image", 200));
  EXPECT_GT(row_rank("failed", "not an image", 200), row_rank("failed", "network error", 0));
  EXPECT_GT(row_rank("failed", "HTTP error", 404), row_rank("failed", "HTTP error", 503));
  EXPECT_GT(row_rank("failed", "timeout", 0), row_rank("pending", "", 0));
  EXPECT_EQ(row_rank("failed", "cancelled", 0), 0);
  EXPECT_EQ(row_rank("failed", "http_status", 429), row_rank("failed", "network", 0));
}

TEST(JobShard, MergeKeepsTheBestRowPerUrlAndRefusesMissingShards) {
  TempDir tmp;
  write_text(tmp / "list.txt", "http://h/a\nhttp://h/b\nhttp://h/c\nhttp://h/d\n");
  const fs::path root = tmp / "out";
  ShardTask t0 = ShardTask::begin(tmp / "list.txt", root, {0, 2});
  fs::create_directories(t0.dir());
  t0.record();
  // Several attempts appended to one manifest, as a killed and resumed task leaves them.
  write_text(t0.dir() / "run.jsonl",
             R"({"url":"http://h/a","status":"failed","error_kind":"network error"})"
             "\n"
             R"({"url":"http://h/a","status":"ok","file":"a.jpg","bytes":10})"
             "\n"
             R"({"url":"http://h/b","status":"failed","error_kind":"not an image"})"
             "\n"
             R"({"url":"http://h/b","status":"failed","error_kind":"timeout"})"
             "\n"
             R"({"url":"http://h/a","status":"failed","error_kind":"network error"})"
             "\n"
             R"({"url":"http://h/a","status":"pen)");  // a torn last line
  t0.finish({1, 2, 1, 1, true});
  EXPECT_THROW(merge_shards(root, {}), ShardsNotDone);
  try {
    merge_shards(root, {});
  } catch (const ShardsNotDone& e) {
    EXPECT_NE(std::string(e.what()).find("(1)"), std::string::npos) << e.what();
  }
  const MergeResult m = merge_shards(root, {.partial = true});
  EXPECT_EQ(m.urls, 2);
  EXPECT_EQ(m.ok, 1);
  EXPECT_EQ(m.failed_permanent, 1);
  EXPECT_EQ(m.failed_temporary, 0);
  EXPECT_EQ(m.bytes, 10u);
  const std::string merged = read_file(root / kMergedManifest).value();
  EXPECT_NE(merged.find(R"("url":"http://h/a","status":"ok","file":"parts/0-of-2/a.jpg")"),
            std::string::npos)
      << merged;
  EXPECT_NE(merged.find(R"("error_kind":"not an image")"), std::string::npos) << merged;
  EXPECT_EQ(std::count(merged.begin(), merged.end(), '\n'), 2);
}

TEST(JobShard, ErrorKindsReadBackFromTheirNames) {
  for (int k = 0; k <= static_cast<int>(ErrorKind::internal); ++k) {
    const auto kind = static_cast<ErrorKind>(k);
    EXPECT_EQ(error_kind_from_string(to_string(kind)), kind) << to_string(kind);
  }
  EXPECT_EQ(error_kind_from_string("no_space"), ErrorKind::no_space);
  EXPECT_EQ(error_kind_from_string("network errors"), std::nullopt);
  EXPECT_EQ(error_kind_from_string(""), std::nullopt);
}

TEST(JobShard, MergeTakesAFullDiskAsTemporaryAndAnUntrustedCertificateAsPermanent) {
  TempDir tmp;
  write_text(tmp / "list.txt", "http://h/a\nhttp://h/b\nhttp://h/c\nhttp://h/d\n");
  const fs::path root = tmp / "out";
  ShardTask t0 = ShardTask::begin(tmp / "list.txt", root, {0, 1});
  fs::create_directories(t0.dir());
  t0.record();
  const std::string cert =
      R"("status":"failed","error_kind":"network error","error":"certificate not trusted: x")";
  write_text(
      t0.dir() / "run.jsonl",
      // a: a permanent failure beats the later full disk (another attempt may pass).
      R"({"url":"http://h/a","status":"failed","error_kind":"not an image"})"
      "\n"
      R"({"url":"http://h/a","status":"failed","error_kind":"no space left on device"})"
      "\n"
      // b: a full disk alone is temporary.
      R"({"url":"http://h/b","status":"failed","error_kind":"no space left on device"})"
      "\n"
      // c: an untrusted certificate is the same next time: it beats a connection error.
      R"({"url":"http://h/c",)" +
          cert + "}\n" +
          R"({"url":"http://h/c","status":"failed","error_kind":"network error","error":"x"})"
          "\n"
          R"({"url":"http://h/d",)" +
          cert + "}\n");
  t0.finish({1, 2, 0, 4, true});
  const MergeResult m = merge_shards(root, {});
  EXPECT_EQ(m.urls, 4);
  EXPECT_EQ(m.failed_permanent, 3);  // a, c, d
  EXPECT_EQ(m.failed_temporary, 1);  // b
  const std::string merged = read_file(root / kMergedManifest).value();
  EXPECT_NE(merged.find(R"({"url":"http://h/a","status":"failed","error_kind":"not an image",)"),
            std::string::npos)
      << merged;
  EXPECT_NE(merged.find(R"({"url":"http://h/c",)" + cert), std::string::npos) << merged;
}

TEST(JobShard, MergeRelocatesTheExactBytesOfAFileName) {
  TempDir tmp;
  write_text(tmp / "list.txt", "http://h/a\n");
  const fs::path root = tmp / "out";
  ShardTask t0 = ShardTask::begin(tmp / "list.txt", root, {0, 1});
  fs::create_directories(t0.dir());
  t0.record();
  const std::string name = "a\xff.jpg";  // not UTF-8: the manifest keeps it in file_hex
  write_text(t0.dir() / "run.jsonl",
             R"({"url":"http://h/a","status":"ok","file":"a\ufffd.jpg","file_hex":")" +
                 hex_bytes(name) + R"(","original":"originals/a.png"})" + "\n");
  t0.finish({1, 2, 1, 0, true});
  merge_shards(root, {});
  std::ifstream in(root / kMergedManifest);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  const auto row = nlohmann::ordered_json::parse(line);
  EXPECT_EQ(get_bytes(row, "file"), "parts/0-of-1/" + name);
  EXPECT_EQ(get_bytes(row, "original"), "parts/0-of-1/originals/a.png");
  EXPECT_FALSE(row.contains("original_hex"));
}
