// Installable like a real tool (issue 10, point 5): `cmake --install` puts the binary, a man page
// made from the help, and bash completion in place, and the completion offers a command's flags.
#include <gtest/gtest.h>

#include "support/run_command.hpp"
#include "support/temp_dir.hpp"
#include "thumbfetch/util/atomic_file.hpp"

using namespace thumbfetch;
using namespace thumbfetch::test;
namespace fs = std::filesystem;

TEST(CliInstall, BinaryManPageAndCompletion) {
  TempDir tmp;
  const fs::path build_dir = fs::path(THUMBFETCH_EXE).parent_path();
  auto r = run_command({"/usr/bin/env", "cmake", "--install", build_dir.string(), "--prefix",
                        (tmp / "usr").string()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const fs::path bin = tmp / "usr" / "bin" / "thumbfetch";
  ASSERT_TRUE(fs::exists(bin));
  EXPECT_EQ(run_command({bin.string(), "--version"}).exit_code, 0);

  const fs::path man = tmp / "usr" / "share" / "man" / "man1" / "thumbfetch.1";
  if (run_command({"/bin/sh", "-c", "command -v help2man"}).exit_code != 0) {
    GTEST_SKIP() << "help2man is not installed (scripts/setup.sh installs it)";
  }
  ASSERT_TRUE(fs::exists(man));
  const std::string page = read_file(man).value();
  EXPECT_NE(page.find(".SS thumbs"), std::string::npos);
  EXPECT_NE(page.find("--max-pixels"), std::string::npos) << "each command's flags are there";
  EXPECT_NE(page.find("EXIT STATUS"), std::string::npos);
  EXPECT_EQ(page.find(build_dir.string()), std::string::npos) << "no build path in the page";

  const fs::path completion =
      tmp / "usr" / "share" / "bash-completion" / "completions" / "thumbfetch";
  ASSERT_TRUE(fs::exists(completion));
  r = run_command({"/bin/bash", "-c",
                   "source '" + completion.string() + "'; COMP_WORDS=('" + bin.string() +
                       "' thumbs --skip); COMP_CWORD=2; _thumbfetch; echo \"${COMPREPLY[@]}\""});
  EXPECT_EQ(r.out, "--skip-existing\n") << r.err;
}
