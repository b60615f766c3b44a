#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "support/run_command.hpp"
#include "support/temp_dir.hpp"
#include "thumbfetch/fetch/transfer.hpp"
#include "thumbfetch/serve/image_server.hpp"
#include "thumbfetch/util/child_process.hpp"
#include "thumbfetch/util/fd.hpp"

// Redirects never take an https URL down to http: what was asked for over an authenticated,
// encrypted connection is not fetched over a plain one. http may go up to https. nginx on
// 127.0.0.1 with a certificate made here answers the redirects; our own server stands behind
// the http target and counts whether anything reached it.

using namespace thumbfetch;
using namespace thumbfetch::test;
namespace fs = std::filesystem;

namespace {

const char* const kNginx = "/usr/sbin/nginx";

std::uint16_t free_port() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

bool port_answers(std::uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

// nginx serving `root` over TLS on tls_port and redirects over plain http on http_port, with a
// self-signed certificate for 127.0.0.1 (cert.pem, also the CA file a client trusts).
class RedirectingNginx {
 public:
  RedirectingNginx(const fs::path& dir, const std::string& http_target)
      : dir_(dir), tls_port_(free_port()), http_port_(free_port()) {
    fs::create_directories(dir / "root");
    const CommandResult cert =
        run_command({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                     "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                     "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout",
                     (dir / "key.pem").string(), "-out", cert_path().string()});
    if (cert.exit_code != 0) throw std::runtime_error("openssl: " + cert.err);
    std::ofstream(dir / "nginx.conf") << fmt::format(
        R"(daemon off; master_process off; pid {0}/nginx.pid; error_log {0}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {0}/tmp; proxy_temp_path {0}/tmp; fastcgi_temp_path {0}/tmp;
  uwsgi_temp_path {0}/tmp; scgi_temp_path {0}/tmp;
  server {{
    listen 127.0.0.1:{1} ssl;
    ssl_certificate {0}/cert.pem; ssl_certificate_key {0}/key.pem;
    root {0}/root;
    location = /down {{ return 302 {3}; }}
    location = /same {{ return 302 https://127.0.0.1:{1}/x.jpg; }}
  }}
  server {{
    listen 127.0.0.1:{2};
    location = /up {{ return 302 https://127.0.0.1:{1}/x.jpg; }}
  }}
}}
)",
        dir.string(), tls_port_, http_port_, http_target);
    auto child = ChildProcess::spawn(
        {kNginx, "-e", (dir / "error.log").string(), "-c", (dir / "nginx.conf").string()});
    if (!child.ok()) throw std::runtime_error(child.error().message);
    child_.emplace(std::move(*child));
    // Ready when both ports take connections (bounded: nginx starts in milliseconds).
    for (int i = 0; i < 500 && !(port_answers(tls_port_) && port_answers(http_port_)); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!port_answers(tls_port_)) throw std::runtime_error("nginx did not start");
  }
  ~RedirectingNginx() {
    child_->kill(SIGTERM);
    child_->wait();
  }

  fs::path cert_path() const { return dir_ / "cert.pem"; }
  fs::path root() const { return dir_ / "root"; }
  std::string https(const std::string& path) const {
    return fmt::format("https://127.0.0.1:{}{}", tls_port_, path);
  }
  std::string http(const std::string& path) const {
    return fmt::format("http://127.0.0.1:{}{}", http_port_, path);
  }

 private:
  fs::path dir_;
  std::uint16_t tls_port_, http_port_;
  std::optional<ChildProcess> child_;
};

// One download through the real transfer policy; verification stays on, with the test's
// certificate as the CA.
FetchResult fetch_one(const std::string& url, const fs::path& out, const fs::path& ca) {
  FetchRunConfig config;
  config.out_dir = out;
  config.policy.retries = 0;
  fs::create_directories(out);
  Transfer transfer(0, FetchItem{url, "x"}, config);
  CurlEasy easy = make_curl_easy();
  transfer.prepare(easy.get());
  curl_easy_setopt(easy.get(), CURLOPT_CAINFO, ca.c_str());
  EXPECT_EQ(transfer.finish(curl_easy_perform(easy.get())), Transfer::Next::done);
  return transfer.take_result();
}

}  // namespace

TEST(FetchRedirectScheme, HttpsNeverFollowsToHttpButHttpMayGoUp) {
  if (!fs::exists(kNginx)) GTEST_SKIP() << "nginx is not installed";
  ServeConfig config;
  config.generate = 1;
  config.spec.min_side = 40;
  config.spec.max_side = 40;
  ImageServer server(config);
  server.start_in_thread();
  const std::string name = server.image_names()[0];
  const std::string bytes = server.image_bytes(name);
  TempDir tmp;
  RedirectingNginx nginx(tmp / "nginx", server.base_url() + "/img/" + name);
  std::ofstream(nginx.root() / "x.jpg", std::ios::binary) << bytes;

  // https -> http: refused before any request reaches the http server.
  const FetchResult down = fetch_one(nginx.https("/down"), tmp / "down", nginx.cert_path());
  EXPECT_FALSE(down.ok());
  EXPECT_EQ(down.error.kind, ErrorKind::refused);
  EXPECT_NE(down.error.message.find("redirect to a scheme other than https"), std::string::npos)
      << down.error.message;
  EXPECT_EQ(server.stats().get_count("/img/" + name), 0u);

  // https -> https and http -> https are followed.
  for (const std::string& url : {nginx.https("/same"), nginx.http("/up")}) {
    const FetchResult r = fetch_one(url, tmp / "up", nginx.cert_path());
    ASSERT_TRUE(r.ok()) << url << ": " << r.error.message;
    std::ifstream in(r.file, std::ios::binary);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), bytes) << url;
    fs::remove(r.file);
  }
}
