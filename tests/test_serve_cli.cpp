#include <gtest/gtest.h>

#include <poll.h>
#include <signal.h>
#include <sys/resource.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "support/run_command.hpp"
#include "support/serve_test_client.hpp"
#include "thumbfetch/util/child_process.hpp"

using namespace thumbfetch;
using namespace thumbfetch::testing;
using thumbfetch::test::first_line;

TEST(ServeCli, PrintsItsUrlServesAndExitsZeroOnSigterm) {
  auto child = ChildProcess::spawn(
      {THUMBFETCH_EXE, "serve", "--generate", "3", "--port", "0", "--latency", "5", "--seed", "4"});
  ASSERT_TRUE(child.ok()) << child.error().message;
  std::string line = first_line(child->stdout_fd());
  std::smatch m;
  ASSERT_TRUE(std::regex_match(line, m, std::regex(R"(listening on http://127\.0\.0\.1:(\d+)\n)")))
      << line;
  auto port = static_cast<std::uint16_t>(std::stoi(m[1].str()));
  RawResponse list = http_request(port, "/list.txt");
  EXPECT_EQ(list.status, 200);
  EXPECT_NE(list.body.find("/img/img_0002."), std::string::npos);
  RawResponse stats = http_request(port, "/stats");
  EXPECT_EQ(nlohmann::json::parse(stats.body)["get_counts"]["/list.txt"], 1);
  child->kill(SIGTERM);
  EXPECT_EQ(child->wait(), "exited with status 0");
}

TEST(ServeCli, NeedsSomethingToServe) {
  auto child = ChildProcess::spawn({THUMBFETCH_EXE, "serve", "--port", "0"});
  ASSERT_TRUE(child.ok());
  EXPECT_EQ(child->wait(), "exited with status 2");
}

TEST(ServeCli, RaisesItsSoftDescriptorLimitToTheHardOne) {
  // Started with a soft limit of 256 (the test's own is restored at once), the server runs with
  // the hard limit: a thousand slow connections need a thousand descriptors.
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  if (saved.rlim_max <= 256) GTEST_SKIP() << "the hard limit is already 256 or lower";
  rlimit low = saved;
  low.rlim_cur = 256;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  auto child = ChildProcess::spawn({THUMBFETCH_EXE, "serve", "--generate", "1", "--port", "0"});
  ::setrlimit(RLIMIT_NOFILE, &saved);
  ASSERT_TRUE(child.ok()) << child.error().message;
  ASSERT_NE(first_line(child->stdout_fd()).find("listening on"), std::string::npos);
  std::ifstream limits("/proc/" + std::to_string(child->pid()) + "/limits");
  std::string line, soft, hard;
  while (std::getline(limits, line)) {
    if (line.rfind("Max open files", 0) != 0) continue;
    std::istringstream fields(line.substr(14));
    fields >> soft >> hard;
  }
  EXPECT_EQ(soft, hard);
  EXPECT_NE(soft, "256");
  child->kill(SIGTERM);
  EXPECT_EQ(child->wait(), "exited with status 0");
}
