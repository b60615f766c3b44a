// `thumbfetch fetch` as a user runs it: exit codes, one line per failure, the summary, resume,
// the Imgur source with a masked Client-ID, kill -9 and Ctrl-C mid-run. The server runs in the
// test process, on 127.0.0.1.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "support/run_command.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_until.hpp"
#include "thumbfetch/cli/cli.hpp"
#include "thumbfetch/fetch/manifest.hpp"
#include "thumbfetch/serve/image_server.hpp"
#include "thumbfetch/util/atomic_file.hpp"

using namespace thumbfetch;
using namespace thumbfetch::test;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

ServeConfig small_corpus(int n) {
  ServeConfig c;
  c.generate = n;
  c.spec.min_side = 48;
  c.spec.max_side = 96;
  return c;
}

fs::path write_list(const fs::path& path, const std::vector<std::string>& lines) {
  std::ofstream out(path);
  for (const auto& l : lines) out << l << "\n";
  return path;
}

std::vector<std::string> image_urls(const ImageServer& s) {
  std::vector<std::string> urls;
  for (const auto& n : s.image_names()) urls.push_back(s.base_url() + "/img/" + n);
  return urls;
}

// Files under final names must be complete: the exact bytes the server has.
void expect_only_complete_files(const fs::path& dir, const ImageServer& s) {
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name == kManifestName || name.front() == '.') continue;  // temp files, the lock
    EXPECT_EQ(slurp(e.path()), s.image_bytes(name)) << name << " is partial or foreign";
  }
}

bool has_temp_file(const fs::path& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (is_temp_file_name(e.path().filename())) return true;
  }
  return false;
}

int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(FetchCli, ExitCodesFailureLinesSummaryAndResume) {
  ImageServer s(small_corpus(6));
  s.start_in_thread();
  TempDir tmp;
  auto urls = image_urls(s);
  const std::string bad = urls[0] + "?fault=500";
  std::vector<std::string> lines = urls;
  lines.insert(lines.begin(), "# my list");
  lines.push_back("");
  lines.push_back(urls[1]);  // a duplicate: fetched once
  lines.push_back(bad);
  lines.push_back("gopher://127.0.0.1/x.jpg");
  const fs::path list = write_list(tmp / "urls.txt", lines);
  const fs::path out = tmp / "out" / "nested";  // created when missing

  CommandResult r = run_thumbfetch({"fetch", "--urls", list.string(), "-o", out.string(),
                                    "--retries", "0", "--stall-timeout", "1s", "-j", "4"});
  EXPECT_EQ(r.exit_code, kExitSomeFailed) << r.err;
  EXPECT_EQ(count_lines_with(r.err, bad + ": HTTP 500"), 1) << r.err;
  EXPECT_EQ(count_lines_with(r.err, "gopher://127.0.0.1/x.jpg: refused: invalid URL"), 1) << r.err;
  EXPECT_NE(r.out.find("6 ok, 2 failed, 0 skipped (1 HTTP error, 1 refused)"), std::string::npos)
      << r.out;
  for (const auto& n : s.image_names()) {
    EXPECT_EQ(s.stats().get_count("/img/" + n), n == s.image_names()[0] ? 2u : 1u) << n;
    EXPECT_EQ(slurp(out / n), s.image_bytes(n));
  }
  auto rows = load_manifest(out);
  ASSERT_EQ(rows.size(), 7u);
  EXPECT_EQ(rows[6].url, bad);
  EXPECT_EQ(rows[6].status, "failed");
  EXPECT_EQ(rows[6].http_code, 500);

  // Again: the completed ones are skipped, the failed one is tried again.
  r = run_thumbfetch({"fetch", "--urls", list.string(), "-o", out.string(), "--retries", "0",
                      "--strategy", "threads"});
  EXPECT_EQ(r.exit_code, kExitSomeFailed);
  EXPECT_NE(r.out.find("0 ok, 2 failed, 6 skipped"), std::string::npos) << r.out;
  for (const auto& n : s.image_names()) {
    EXPECT_EQ(s.stats().get_count("/img/" + n), n == s.image_names()[0] ? 3u : 1u) << n;
  }
  EXPECT_EQ(load_manifest(out).size(), 7u);

  // All good: exit 0. A deleted file is fetched again.
  fs::remove(out / s.image_names()[2]);
  r = run_thumbfetch({"fetch", "--urls", write_list(tmp / "good.txt", urls).string(), "-o",
                      out.string(), "--strategy", "serial", "-q"});
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_EQ(slurp(out / s.image_names()[2]), s.image_bytes(s.image_names()[2]));
}

TEST(FetchCli, UsageErrorsExitTwo) {
  TempDir tmp;
  EXPECT_EQ(run_thumbfetch({"fetch", "-o", (tmp / "o").string()}).exit_code, kExitUsage);
  EXPECT_EQ(
      run_thumbfetch({"fetch", "--urls", "-", "--imgur", "-o", (tmp / "o").string()}).exit_code,
      kExitUsage);
  EXPECT_EQ(run_thumbfetch(
                {"fetch", "--urls", (tmp / "missing.txt").string(), "-o", (tmp / "o").string()})
                .exit_code,
            kExitUsage);
  EXPECT_EQ(run_thumbfetch({"fetch", "--urls", "-", "-o", (tmp / "o").string(), "--strategy",
                            "carrier-pigeon"})
                .exit_code,
            kExitUsage);
  EXPECT_EQ(run_thumbfetch({"fetch", "--imgur", "-o", (tmp / "o").string()}, {"IMGUR_CLIENT_ID="})
                .exit_code,
            kExitUsage);
}

// The first IPv4 address of this machine that is not loopback, or "" when there is none.
std::string non_loopback_ipv4() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return {};
  std::string found;
  for (ifaddrs* a = list; a != nullptr && found.empty(); a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    if (a->ifa_flags & IFF_LOOPBACK) continue;
    char text[INET_ADDRSTRLEN];
    const auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
    if (::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text)) found = text;
  }
  ::freeifaddrs(list);
  return found;
}

TEST(FetchCli, ImgurRefusesToSendTheClientIdInClearTextOffThisMachine) {
  // The server listens on every address, so a request to this machine's own network address
  // would reach it: the refusal has to come before any request, not from a failed connection.
  const std::string address = non_loopback_ipv4();
  if (address.empty()) GTEST_SKIP() << "no non-loopback IPv4 address";
  ServeConfig c = small_corpus(2);
  c.host = "0.0.0.0";
  ImageServer s(c);
  s.start_in_thread();
  TempDir tmp;
  const std::string api = "http://" + address + ":" + std::to_string(s.port());
  const CommandResult r =
      run_thumbfetch({"fetch", "--imgur", "--imgur-api", api, "--imgur-client-id",
                      "very-secret-client-id-42", "-n", "5", "-o", (tmp / "out").string()});
  EXPECT_EQ(r.exit_code, kExitUsage) << r.out << r.err;
  EXPECT_EQ(count_lines_with(r.err, "in clear text"), 1) << r.err;
  EXPECT_EQ(r.err.find("very-secret-client-id-42"), std::string::npos);
  EXPECT_EQ(s.stats().total_requests, 0u);
  EXPECT_FALSE(fs::exists(tmp / "out" / kManifestName));
}

TEST(FetchCli, ImgurSourceNeverPrintsTheClientId) {
  ServeConfig c = small_corpus(4);
  c.imgur_client_id = "very-secret-client-id-42";
  c.imgur_pages = 1;
  c.imgur_per_page = 20;
  ImageServer s(c);
  s.start_in_thread();
  TempDir tmp;
  const CommandResult r = run_thumbfetch(
      {"fetch", "--imgur", "--imgur-api", s.base_url(), "-n", "10", "-o", (tmp / "out").string()},
      {"IMGUR_CLIENT_ID=very-secret-client-id-42"});
  EXPECT_EQ(r.exit_code, kExitOk) << r.out << r.err;
  EXPECT_EQ(r.out.find("very-secret-client-id-42"), std::string::npos);
  EXPECT_EQ(r.err.find("very-secret-client-id-42"), std::string::npos);
  EXPECT_NE(r.err.find("very****"), std::string::npos) << r.err;  // notes go with the progress
  EXPECT_EQ(load_manifest(tmp / "out").size(), 10u);

  // The limit path: the run goes on with what was collected.
  ServeConfig limited = c;
  limited.imgur_rate_limit = 1;
  limited.imgur_pages = 3;
  ImageServer s2(limited);
  s2.start_in_thread();
  const CommandResult r2 =
      run_thumbfetch({"fetch", "--imgur", "--imgur-api", s2.base_url(), "--imgur-client-id",
                      "very-secret-client-id-42", "-n", "500", "-o", (tmp / "out2").string()});
  EXPECT_EQ(r2.exit_code, kExitOk) << r2.err;
  EXPECT_NE(r2.err.find("Imgur API limit reached: collected "), std::string::npos) << r2.err;
  EXPECT_NE(r2.err.find(" of 500 links (resets at "), std::string::npos) << r2.err;
  EXPECT_GT(load_manifest(tmp / "out2").size(), 0u);
}

// A server slow enough that a run lasts a few seconds: latency plus a per-connection bandwidth.
ServeConfig slow_corpus() {
  ServeConfig c;
  c.generate = 8;
  c.spec.min_side = 300;
  c.spec.max_side = 400;
  c.latency_ms = 100;
  c.bandwidth_kbps = 24;
  return c;
}

TEST(FetchCli, CtrlCExits130WithAManifest) {
  ImageServer s(slow_corpus());
  s.start_in_thread();
  TempDir tmp;
  const auto list = write_list(tmp / "urls.txt", image_urls(s)).string();
  const fs::path out = tmp / "out";
  for (const char* strategy : {"async", "threads", "serial"}) {
    SCOPED_TRACE(strategy);
    fs::remove_all(out);
    const pid_t pid = start_thumbfetch(
        {"fetch", "--urls", list, "-o", out.string(), "-j", "3", "--strategy", strategy});
    // Mid-transfer: a body is streaming into a temp file, which Ctrl-C must not leave behind.
    ASSERT_TRUE(wait_until([&] { return has_temp_file(out); }, std::chrono::seconds(30)));
    const auto start = std::chrono::steady_clock::now();
    ::kill(pid, SIGINT);
    EXPECT_EQ(wait_exit(pid), kExitInterrupted);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
    EXPECT_TRUE(fs::exists(out / kManifestName));
    expect_only_complete_files(out, s);
    for (const auto& e : fs::directory_iterator(out)) {
      EXPECT_FALSE(is_temp_file_name(e.path().filename())) << e.path();
    }
    for (const auto& row : load_manifest(out)) {
      EXPECT_TRUE(row.status == "ok" || row.status == "cancelled") << row.url << " " << row.error;
    }
  }
}

}  // namespace
