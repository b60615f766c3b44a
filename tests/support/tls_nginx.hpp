#pragma once
// nginx (Debian's) serving a folder over https on 127.0.0.1, on two ports: one with HTTP/2, one
// with HTTP/1.1 only, with a certificate from a test CA made on the spot with the openssl CLI.
// One process (master_process off), stopped and reaped by the destructor. Its access log records
// the connection serial number ($connection) and the protocol of every request, so a test can
// count the connections a download used.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace thumbfetch::test {

class TlsNginx {
 public:
  // Makes the CA and the server certificate under `work`, serves `www`. Check ok().
  TlsNginx(const std::filesystem::path& work, const std::filesystem::path& www);
  ~TlsNginx();
  TlsNginx(const TlsNginx&) = delete;
  TlsNginx& operator=(const TlsNginx&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::string h2_base() const;  // "https://127.0.0.1:PORT" (HTTP/2 offered by ALPN)
  std::string h1_base() const;  // "https://127.0.0.1:PORT" (HTTP/1.1 only)
  const std::filesystem::path& ca_file() const { return ca_; }

  struct LogLine {
    std::string connection, protocol, path;
    int status = 0;
  };
  // The access log so far.
  std::vector<LogLine> log() const;

 private:
  std::filesystem::path work_, ca_, access_log_;
  std::uint16_t h2_port_ = 0, h1_port_ = 0;
  pid_t pid_ = -1;
  std::string error_;
};

}  // namespace thumbfetch::test
