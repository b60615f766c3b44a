#pragma once
// The flags of a download, shared by `fetch`, `run` and `bench`: where the links come from
// (SourceFlags) and how they are fetched (TransferFlags).

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "thumbfetch/fetch/strategy.hpp"
#include "thumbfetch/job/links.hpp"

namespace thumbfetch {

struct SourceFlags {
  std::string urls_file;
  bool imgur = false;
  std::string imgur_client_id;
  std::string imgur_section = "hot";
  std::string imgur_sort = "viral";
  std::string imgur_window = "day";
  std::string imgur_api = "https://api.imgur.com";
  bool imgur_animated = false;
  bool imgur_nsfw = false;
  int count = 0;

  // `required`: exactly one of --urls / --imgur must be given (checked when the job plans).
  void add_to(CLI::App& command);
  LinkSource to_source() const;
  // Warns about --imgur-* flags given with --urls (they have no effect there).
  void warn_ineffective() const;

 private:
  const CLI::App* command_ = nullptr;
};

struct TransferFlags {
  std::string strategy = "async";
  int jobs = 16;
  int per_host = 0;
  int retries = 3;
  std::string connect_timeout = "10s";
  std::string stall_timeout = "30s";
  std::string timeout = "5m";
  std::string retry_delay = "500ms";
  std::string retry_after_max = "60s";
  std::string max_bytes = "50MB";
  std::string ca_file;
  bool insecure = false;
  // What every request says and where it goes (issue 10).
  std::string user_agent = "thumbfetch/0.1";
  std::vector<std::string> headers;  // -H "Name: value", repeatable
  std::string proxy;                 // libcurl's proxy string; "" = libcurl's default
  std::string rate = "0";            // request starts per host: "10/s", "600/m"; 0: no limit

  // `with_strategy`: also --strategy and -j (bench runs every strategy itself).
  void add_to(CLI::App& command, bool with_strategy = true);
  // Throw CLI::ValidationError for values the parsers refuse.
  FetchPolicy to_policy() const;
  FetchStrategyKind to_strategy() const;
  // Warns about flags given where they have no effect (-j or --per-host with serial, retry
  // delays with --retries 0).
  void warn_ineffective() const;

 private:
  const CLI::App* command_ = nullptr;
};

}  // namespace thumbfetch
