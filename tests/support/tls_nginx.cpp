#include "support/tls_nginx.hpp"

#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "support/output_state.hpp"
#include "support/run_command.hpp"

extern char** environ;

namespace thumbfetch::test {

namespace fs = std::filesystem;

namespace {

// A port that was free a moment ago (nginx binds it next).
std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool accepts(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// The test CA and a certificate it signs for 127.0.0.1 / localhost; "" or what failed.
std::string make_certificates(const fs::path& dir) {
  std::ofstream(dir / "ext.cnf") << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
  const std::string ec = "ec", curve = "ec_paramgen_curve:prime256v1";
  const std::vector<std::vector<std::string>> steps = {
      {"req", "-x509", "-newkey", ec, "-pkeyopt", curve, "-nodes", "-keyout",
       (dir / "ca.key").string(), "-out", (dir / "ca.pem").string(), "-days", "2", "-subj",
       "/CN=thumbfetch test CA"},
      {"req", "-newkey", ec, "-pkeyopt", curve, "-nodes", "-keyout", (dir / "server.key").string(),
       "-out", (dir / "server.csr").string(), "-subj", "/CN=127.0.0.1"},
      {"x509", "-req", "-in", (dir / "server.csr").string(), "-CA", (dir / "ca.pem").string(),
       "-CAkey", (dir / "ca.key").string(), "-CAcreateserial", "-out",
       (dir / "server.pem").string(), "-days", "2", "-extfile", (dir / "ext.cnf").string()}};
  for (const auto& step : steps) {
    std::vector<std::string> argv = {"/usr/bin/openssl"};
    argv.insert(argv.end(), step.begin(), step.end());
    const CommandResult r = run_command(argv);
    if (r.exit_code != 0) return "openssl " + step[0] + " failed: " + r.err;
  }
  return "";
}

std::string config(const fs::path& work, const fs::path& www, std::uint16_t h2, std::uint16_t h1) {
  const std::string w = work.string();
  return fmt::format(R"(daemon off;
master_process off;
pid {w}/nginx.pid;
error_log {w}/error.log;
events {{ worker_connections 256; }}
http {{
  log_format conns '$connection $server_protocol $status $uri';
  access_log {w}/access.log conns;
  client_body_temp_path {w}/tmp;
  proxy_temp_path {w}/tmp;
  fastcgi_temp_path {w}/tmp;
  uwsgi_temp_path {w}/tmp;
  scgi_temp_path {w}/tmp;
  types {{ image/jpeg jpg; image/png png; }}
  ssl_certificate {w}/server.pem;
  ssl_certificate_key {w}/server.key;
  keepalive_requests 10000;
  server {{ listen 127.0.0.1:{h2} ssl http2; root {www}; }}
  server {{ listen 127.0.0.1:{h1} ssl; root {www}; }}
}}
)",
                     fmt::arg("w", w), fmt::arg("www", www.string()), fmt::arg("h2", h2),
                     fmt::arg("h1", h1));
}

}  // namespace

TlsNginx::TlsNginx(const fs::path& work, const fs::path& www)
    : work_(work), ca_(work / "ca.pem"), access_log_(work / "access.log") {
  fs::create_directories(work_ / "tmp");
  if (::access("/usr/sbin/nginx", X_OK) != 0) {
    error_ = "nginx is not installed (scripts/setup.sh installs it)";
    return;
  }
  if (error_ = make_certificates(work_); !error_.empty()) return;
  h2_port_ = free_port();
  h1_port_ = free_port();
  std::ofstream(work_ / "nginx.conf") << config(work_, www, h2_port_, h1_port_);
  std::vector<std::string> args = {"/usr/sbin/nginx",
                                   "-p",
                                   work_.string() + "/",
                                   "-c",
                                   (work_ / "nginx.conf").string(),
                                   "-e",
                                   (work_ / "error.log").string()};
  std::vector<char*> c_args;
  for (auto& a : args) c_args.push_back(a.data());
  c_args.push_back(nullptr);
  if (posix_spawn(&pid_, args[0].c_str(), nullptr, nullptr, c_args.data(), environ) != 0) {
    error_ = "cannot start nginx";
    return;
  }
  // Ready when both ports accept; bounded, and given up at once if nginx exits.
  const bool up = wait_while_running(
      pid_, [&] { return accepts(h2_port_) && accepts(h1_port_); }, 10000);
  if (!up) {
    std::ifstream log(work_ / "error.log");
    std::stringstream text;
    text << log.rdbuf();
    error_ = "nginx did not start: " + text.str();
  }
}

TlsNginx::~TlsNginx() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

std::string TlsNginx::h2_base() const {
  return fmt::format("https://127.0.0.1:{}", h2_port_);
}

std::string TlsNginx::h1_base() const {
  return fmt::format("https://127.0.0.1:{}", h1_port_);
}

std::vector<TlsNginx::LogLine> TlsNginx::log() const {
  std::vector<LogLine> lines;
  std::ifstream in(access_log_);
  for (std::string text; std::getline(in, text);) {
    std::istringstream fields(text);
    LogLine l;
    fields >> l.connection >> l.protocol >> l.status >> l.path;
    lines.push_back(l);
  }
  return lines;
}

}  // namespace thumbfetch::test
