#include "support/output_state.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "thumbfetch/util/atomic_file.hpp"

namespace thumbfetch::test {

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

FolderState folder_state(const fs::path& dir) {
  FolderState s;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (is_temp_file_name(name)) s.temp_files.push_back(it->path().string());
    if (it.depth() > 0 || !it->is_regular_file(ec)) continue;
    if (name.front() == '.' || name.ends_with(".jsonl")) continue;
    s.files[name] = slurp(it->path());
  }
  return s;
}

std::map<std::string, std::uint64_t> ok_rows(const fs::path& manifest, const std::string& key,
                                             const std::string& bytes_field) {
  std::map<std::string, nlohmann::json> latest;
  std::ifstream in(manifest);
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains(key)) continue;
    latest[j[key].get<std::string>()] = j;
  }
  std::map<std::string, std::uint64_t> out;
  for (const auto& [item, j] : latest) {
    if (j.value("status", "") != "ok") continue;
    out[j.value("file", "")] = j.value(bytes_field, std::uint64_t{0});
  }
  return out;
}

int manifest_lines(const fs::path& manifest) {
  std::ifstream in(manifest);
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    n += !nlohmann::json::parse(line, nullptr, false).is_discarded();
  }
  return n;
}

int rows_with_status(const fs::path& manifest, const std::string& status) {
  std::ifstream in(manifest);
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    n += !j.is_discarded() && j.is_object() && j.value("status", "") == status;
  }
  return n;
}

std::map<std::string, std::uint64_t> sizes(const FolderState& state) {
  std::map<std::string, std::uint64_t> out;
  for (const auto& [name, bytes] : state.files) out[name] = bytes.size();
  return out;
}

bool still_running(pid_t pid) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == 0;
}

bool kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

void poll_pause() {
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

}  // namespace thumbfetch::test
