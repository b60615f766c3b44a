#include "thumbfetch/serve/image_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <vips/vips8>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <queue>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "thumbfetch/serve/http_request.hpp"
#include "thumbfetch/serve/imgur_api.hpp"
#include "thumbfetch/serve/media_assets.hpp"
#include "thumbfetch/thumbnail/vips_runtime.hpp"
#include "thumbfetch/util/fd.hpp"

namespace thumbfetch {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::size_t kMaxBufferedInput = 64 * 1024;  // pipelined bytes held while responding
constexpr auto kIdleTimeout = std::chrono::seconds(60);
constexpr auto kHoldTimeout = std::chrono::minutes(10);  // a stalled response, at the longest
constexpr auto kSweepInterval = std::chrono::seconds(1);
constexpr auto kPaceTick = milliseconds(50);
constexpr std::uint64_t kBigBodyBytes = 60ULL * 1024 * 1024;
constexpr int kSlowKbps = 20;
constexpr std::uint64_t kStallBytes = 16;

// epoll user data for the two non-connection fds; connection ids start above them.
constexpr std::uint64_t kListenId = 0;
constexpr std::uint64_t kWakeId = 1;
constexpr std::uint64_t kFirstConnectionId = 16;

// Zeros to pad virtual bodies with (the oversized-body fault streams 60 MiB of them).
const std::string& zero_block() {
  static const std::string zeros(64 * 1024, '\0');
  return zeros;
}

std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A uniform double in [0, 1) from a 64-bit hash.
double unit_interval(std::uint64_t h) {
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 302:
      return "Found";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string html_page(int status, std::string_view detail) {
  return fmt::format(
      "<!DOCTYPE html>\n<html><head><title>{0} {1}</title></head>"
      "<body><h1>{0} {1}</h1><p>{2}</p></body></html>\n",
      status, reason_phrase(status), detail);
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int value = 0;
      auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, value, 16);
      if (ec == std::errc() && p == s.data() + i + 3) {
        out += static_cast<char>(value);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::optional<int> parse_int(std::string_view s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

// A body that is `data` followed by zeros up to `size` bytes: real files have size ==
// data->size(); the oversized-body fault streams megabytes of padding without allocating them.
struct Body {
  std::shared_ptr<const std::string> data;
  std::uint64_t size = 0;
};

// What to do once a response has been written.
enum class After { keep_alive, close, hold };

struct Response {
  std::string head;  // status line and headers, CRLF CRLF included
  Body body;
  std::uint64_t send_bytes = 0;  // body bytes actually sent (truncate/stall send fewer)
  After after = After::keep_alive;
  int bandwidth_kbps = 0;  // 0 = as fast as the socket takes it
  int delay_ms = 0;        // before the first byte
};

enum class Phase { reading, delayed, writing, holding };

struct Connection {
  std::uint64_t id = 0;
  UniqueFd fd;
  std::string in;
  Phase phase = Phase::reading;
  Response response;
  std::size_t head_sent = 0;
  std::uint64_t body_sent = 0;
  std::uint64_t tick_budget = 0;  // body bytes still allowed in this pacing tick
  bool waiting_tick = false;      // paced and out of budget: a timer will refill it
  std::uint64_t timer_generation = 0;
  std::uint32_t events = 0;  // what epoll watches now
  bool peer_closed = false;
  Clock::time_point last_activity;
};

// Bytes a paced response may send per kPaceTick at `kbps` KiB/s (at least one).
std::uint64_t pace_bytes_per_tick(int kbps) {
  if (kbps <= 0) return 0;
  return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(kbps) * 1024 *
                                        static_cast<std::uint64_t>(kPaceTick.count()) / 1000);
}

struct Timer {
  Clock::time_point when;
  std::uint64_t connection_id;
  std::uint64_t generation;
  bool operator>(const Timer& other) const { return when > other.when; }
};

}  // namespace

std::uint64_t ServerStats::get_count(std::string_view path) const {
  auto it = get_counts.find(path);
  return it == get_counts.end() ? 0 : it->second;
}

class ImageServer::Impl {
 public:
  explicit Impl(ServeConfig config);

  void run();
  void stop();

  ServeConfig config_;
  UniqueFd listen_fd_;
  UniqueFd epoll_fd_;
  UniqueFd wake_fd_;
  std::uint16_t port_ = 0;
  std::string base_url_;
  std::map<std::string, ServedAsset, std::less<>> corpus_;
  std::map<std::string, ServedAsset, std::less<>> aliases_;  // Imgur links
  std::unique_ptr<ImgurCatalog> imgur_;
  std::atomic<bool> stop_requested_{false};
  std::jthread thread_;

  mutable std::mutex stats_mutex_;
  ServerStats stats_;

 private:
  void load_images();
  void open_listener();

  void accept_all();
  void on_readable(Connection& c);
  bool process_next(Connection& c);
  void pump(std::uint64_t id);
  void begin_response(Connection& c, Response response);
  void write_some(Connection& c);
  void finish_response(Connection& c);
  void on_timer(Connection& c);
  void close_connection(std::uint64_t id);
  void set_events(Connection& c, std::uint32_t events);
  void schedule(Connection& c, Clock::time_point when);
  void sweep(Clock::time_point now);

  Response route(const HttpRequest& req);
  Response serve_image(const HttpRequest& req, const ServedAsset& asset);
  Response serve_imgur(const HttpRequest& req);
  Response make(int status, std::string content_type, std::string body, bool head_only,
                std::vector<std::pair<std::string, std::string>> extra = {});
  Response make_body(int status, std::string_view content_type, Body body, bool head_only,
                     const std::vector<std::pair<std::string, std::string>>& extra,
                     bool send_length = true, std::uint64_t announced_length = UINT64_MAX);
  int base_delay_ms();
  bool take_rate_token();

  std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> connections_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  std::uint64_t next_connection_id_ = kFirstConnectionId;
  Clock::time_point next_sweep_;
  bool accept_paused_ = false;
  Clock::time_point accept_resume_;

  std::uint64_t img_requests_ = 0;  // orders the random faults
  std::uint64_t jitter_draws_ = 0;
  std::uint64_t api_requests_ = 0;  // Imgur rate limit
  std::unordered_map<std::string, int> flaky_counts_;
  double tokens_ = 0;
  Clock::time_point tokens_at_;
  std::int64_t user_reset_ = 0;  // X-RateLimit-UserReset: fixed an hour after start-up
};

ImageServer::Impl::Impl(ServeConfig config) : config_(std::move(config)) {
  load_images();
  open_listener();
  ImgurCatalogConfig imgur;
  imgur.pages = config_.imgur_pages;
  imgur.per_page = config_.imgur_per_page;
  imgur.seed = config_.seed;
  std::map<std::string, ServedAsset> corpus(corpus_.begin(), corpus_.end());
  imgur_ = std::make_unique<ImgurCatalog>(imgur, corpus, base_url_);
  for (const auto& [name, asset] : imgur_->assets()) {
    if (!corpus_.count(name)) aliases_.emplace(name, asset);
  }
  tokens_ = std::max(1.0, config_.rate_limit_per_s);
  tokens_at_ = Clock::now();
  user_reset_ = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count() +
                3600;
}

void ImageServer::Impl::load_images() {
  init_vips("thumbfetch");
  if (config_.generate > 0) {
    // Generation is CPU work done once, before the first byte is served: spread it over the
    // cores, each thread taking every T-th index, so a few hundred images start in seconds.
    std::vector<SyntheticImage> images(static_cast<std::size_t>(config_.generate));
    unsigned threads = std::clamp(std::thread::hardware_concurrency(), 1U, 8U);
    threads = std::min<unsigned>(threads, static_cast<unsigned>(config_.generate));
    std::vector<std::string> errors(threads);
    {
      std::vector<std::jthread> workers;
      for (unsigned t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
          try {
            for (int i = static_cast<int>(t); i < config_.generate;
                 i += static_cast<int>(threads)) {
              images[static_cast<std::size_t>(i)] = make_synthetic_image(i, config_.spec);
            }
          } catch (const std::exception& e) {
            errors[t] = e.what();
          }
        });
      }
    }
    for (const std::string& e : errors) {
      if (!e.empty()) throw std::runtime_error("cannot generate images: " + e);
    }
    for (SyntheticImage& image : images) {
      ServedAsset asset;
      asset.content_type = content_type_for_name(image.name);
      asset.bytes = std::make_shared<const std::string>(image.bytes.begin(), image.bytes.end());
      corpus_.emplace(std::move(image.name), std::move(asset));
    }
  } else if (!config_.dir.empty()) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(config_.dir, ec)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (!in && !in.eof()) throw std::runtime_error("cannot read " + entry.path().string());
      std::string name = entry.path().filename().string();
      ServedAsset asset;
      asset.content_type = content_type_for_name(name);
      asset.bytes = std::make_shared<const std::string>(std::move(bytes));
      corpus_.emplace(std::move(name), std::move(asset));
    }
    if (ec)
      throw std::runtime_error(
          fmt::format("cannot read {}: {}", config_.dir.string(), ec.message()));
  }
  if (corpus_.empty()) {
    throw std::runtime_error(
        "nothing to serve: give a folder with files or a number of images to generate");
  }
  // Dimensions for the Imgur JSON, read from the headers (libvips decodes no pixels here).
  for (auto& [name, asset] : corpus_) {
    if (asset.content_type.rfind("image/", 0) != 0) continue;
    try {
      vips::VImage header =
          vips::VImage::new_from_buffer(asset.bytes->data(), asset.bytes->size(), "");
      asset.width = header.width();
      asset.height = header.height();
    } catch (const vips::VError&) {
      take_vips_error(name);  // not an image after all: served, never linked from the API
    }
  }
}

void ImageServer::Impl::open_listener() {
  listen_fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!listen_fd_.valid())
    throw std::runtime_error(fmt::format("socket: {}", std::strerror(errno)));
  int one = 1;
  ::setsockopt(listen_fd_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(config_.port);
  if (::inet_pton(AF_INET, config_.host.c_str(), &addr.sin_addr) != 1) {
    throw std::runtime_error("not an IPv4 address: " + config_.host);
  }
  if (::bind(listen_fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw std::runtime_error(
        fmt::format("cannot bind {}:{}: {}", config_.host, config_.port, std::strerror(errno)));
  }
  if (::listen(listen_fd_.get(), SOMAXCONN) != 0) {
    throw std::runtime_error(fmt::format("listen: {}", std::strerror(errno)));
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  base_url_ = fmt::format("http://{}:{}", config_.host, port_);

  epoll_fd_.reset(::epoll_create1(EPOLL_CLOEXEC));
  wake_fd_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!epoll_fd_.valid() || !wake_fd_.valid()) {
    throw std::runtime_error(fmt::format("epoll/eventfd: {}", std::strerror(errno)));
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenId;
  ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, listen_fd_.get(), &ev);
  ev.data.u64 = kWakeId;
  ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, wake_fd_.get(), &ev);
}

void ImageServer::Impl::stop() {
  stop_requested_.store(true);
  std::uint64_t one = 1;
  // Wakes epoll_wait; a full counter (impossible in practice) still leaves the fd readable.
  [[maybe_unused]] ssize_t n = ::write(wake_fd_.get(), &one, sizeof one);
}

void ImageServer::Impl::run() {
  std::vector<epoll_event> events(256);
  next_sweep_ = Clock::now() + kSweepInterval;
  while (!stop_requested_.load()) {
    Clock::time_point now = Clock::now();
    Clock::time_point next = next_sweep_;
    if (!timers_.empty()) next = std::min(next, timers_.top().when);
    if (accept_paused_) next = std::min(next, accept_resume_);
    auto wait = std::chrono::ceil<milliseconds>(next - now).count();
    int n = ::epoll_wait(epoll_fd_.get(), events.data(), static_cast<int>(events.size()),
                         static_cast<int>(std::clamp<long long>(wait, 0, 1000)));
    if (n < 0 && errno != EINTR)
      throw std::runtime_error(fmt::format("epoll_wait: {}", std::strerror(errno)));
    for (int i = 0; i < n; ++i) {
      std::uint64_t id = events[static_cast<std::size_t>(i)].data.u64;
      std::uint32_t what = events[static_cast<std::size_t>(i)].events;
      if (id == kWakeId) {
        std::uint64_t value = 0;
        [[maybe_unused]] ssize_t r = ::read(wake_fd_.get(), &value, sizeof value);
        continue;
      }
      if (id == kListenId) {
        accept_all();
        continue;
      }
      auto it = connections_.find(id);
      if (it == connections_.end()) continue;  // closed earlier in this batch
      Connection& c = *it->second;
      if (what & (EPOLLERR)) {
        close_connection(id);
        continue;
      }
      if (what & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) {
        on_readable(c);
        if (!connections_.count(id)) continue;
      }
      if ((what & EPOLLOUT) && c.phase == Phase::writing && !c.waiting_tick) {
        write_some(c);
        pump(id);
      }
    }
    now = Clock::now();
    while (!timers_.empty() && timers_.top().when <= now) {
      Timer t = timers_.top();
      timers_.pop();
      auto it = connections_.find(t.connection_id);
      if (it != connections_.end() && it->second->timer_generation == t.generation)
        on_timer(*it->second);
    }
    if (accept_paused_ && now >= accept_resume_) {
      accept_paused_ = false;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = kListenId;
      ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, listen_fd_.get(), &ev);
    }
    if (now >= next_sweep_) {
      sweep(now);
      next_sweep_ = now + kSweepInterval;
    }
  }
  // Leaving the loop drops every connection; the listener stays bound until destruction.
  std::vector<std::uint64_t> ids;
  for (const auto& [id, c] : connections_) ids.push_back(id);
  for (std::uint64_t id : ids) close_connection(id);
}

void ImageServer::Impl::accept_all() {
  for (;;) {
    int fd = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: stop watching the listener for a moment instead of spinning on
        // a readable socket we cannot accept from.
        accept_paused_ = true;
        accept_resume_ = Clock::now() + milliseconds(100);
        epoll_event ev{};
        ev.data.u64 = kListenId;
        ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, listen_fd_.get(), &ev);
      }
      return;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto c = std::make_unique<Connection>();
    c->id = next_connection_id_++;
    c->fd.reset(fd);
    c->last_activity = Clock::now();
    c->events = EPOLLIN | EPOLLRDHUP;
    epoll_event ev{};
    ev.events = c->events;
    ev.data.u64 = c->id;
    if (::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) continue;  // c closes fd
    connections_.emplace(c->id, std::move(c));
    std::lock_guard lock(stats_mutex_);
    ++stats_.connections_accepted;
    stats_.current_connections = connections_.size();
    stats_.max_concurrent_connections =
        std::max<std::uint64_t>(stats_.max_concurrent_connections, connections_.size());
  }
}

void ImageServer::Impl::set_events(Connection& c, std::uint32_t events) {
  if (c.events == events) return;
  c.events = events;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = c.id;
  ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
}

void ImageServer::Impl::close_connection(std::uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  // Closing the fd removes it from the epoll set; stale timers find no connection.
  connections_.erase(it);
  std::lock_guard lock(stats_mutex_);
  stats_.current_connections = connections_.size();
}

void ImageServer::Impl::schedule(Connection& c, Clock::time_point when) {
  timers_.push(Timer{when, c.id, ++c.timer_generation});
}

void ImageServer::Impl::on_readable(Connection& c) {
  char buffer[16 * 1024];
  for (;;) {
    ssize_t n = ::recv(c.fd.get(), buffer, sizeof buffer, 0);
    if (n > 0) {
      c.last_activity = Clock::now();
      if (c.phase == Phase::holding) continue;  // a stalled response ignores what comes
      c.in.append(buffer, static_cast<std::size_t>(n));
      if (c.in.size() > kMaxBufferedInput + kMaxRequestHeadBytes) break;
      continue;
    }
    if (n == 0) {
      c.peer_closed = true;
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    close_connection(c.id);
    return;
  }
  if (c.peer_closed) {
    // The client is gone (or half-closed): a stalled or idle connection ends here; a response
    // in progress is still finished, as HTTP allows a half-closed client.
    if (c.phase == Phase::holding || (c.phase == Phase::reading && c.in.empty())) {
      close_connection(c.id);
      return;
    }
    set_events(c, c.events & ~static_cast<std::uint32_t>(EPOLLIN | EPOLLRDHUP));
  } else if (c.phase != Phase::reading && c.in.size() > kMaxBufferedInput) {
    // Enough pipelined input waits already; stop reading until the response is out.
    set_events(c, c.events & ~static_cast<std::uint32_t>(EPOLLIN | EPOLLRDHUP));
  }
  pump(c.id);
}

void ImageServer::Impl::pump(std::uint64_t id) {
  // A loop, not recursion, so a long pipeline of instant responses cannot exhaust the stack.
  for (;;) {
    auto it = connections_.find(id);
    if (it == connections_.end() || it->second->phase != Phase::reading) return;
    if (!process_next(*it->second)) return;
  }
}

bool ImageServer::Impl::process_next(Connection& c) {
  if (c.in.empty()) {
    if (c.peer_closed) close_connection(c.id);
    return false;
  }
  ParseResult parsed = parse_http_request(c.in);
  if (parsed.state == ParseState::incomplete) {
    if (c.peer_closed) close_connection(c.id);
    return false;
  }
  if (parsed.state == ParseState::error) {
    {
      std::lock_guard lock(stats_mutex_);
      ++stats_.total_requests;
    }
    c.in.clear();
    int status = parsed.error_status;
    Response r = make(status, "text/html; charset=utf-8",
                      html_page(status, "The request could not be understood."), false);
    r.after = After::close;
    r.head.replace(r.head.find("Connection: keep-alive"), 22, "Connection: close");
    begin_response(c, std::move(r));
    return true;
  }
  c.in.erase(0, parsed.consumed);
  const HttpRequest& req = parsed.request;
  {
    std::lock_guard lock(stats_mutex_);
    ++stats_.total_requests;
    if (req.method == "GET") ++stats_.get_counts[req.path];
  }
  Response r = route(req);
  if (!req.keep_alive || req.has_body) {
    // A body we do not read would be taken for the next request: answer, then close.
    if (r.after == After::keep_alive) r.after = After::close;
  }
  if (r.after != After::keep_alive) {
    auto pos = r.head.find("Connection: keep-alive");
    if (pos != std::string::npos) r.head.replace(pos, 22, "Connection: close");
  }
  r.delay_ms += base_delay_ms();
  if (auto delay = query_param(req.query, "delay")) {
    if (auto ms = parse_int(*delay); ms && *ms > 0) r.delay_ms += *ms;
  }
  begin_response(c, std::move(r));
  return true;
}

void ImageServer::Impl::begin_response(Connection& c, Response response) {
  c.response = std::move(response);
  c.head_sent = 0;
  c.body_sent = 0;
  c.tick_budget = pace_bytes_per_tick(c.response.bandwidth_kbps);
  c.waiting_tick = false;
  if (c.response.delay_ms > 0) {
    c.phase = Phase::delayed;
    schedule(c, Clock::now() + milliseconds(c.response.delay_ms));
    return;
  }
  c.phase = Phase::writing;
  write_some(c);
}

void ImageServer::Impl::on_timer(Connection& c) {
  if (c.phase == Phase::delayed) {
    c.phase = Phase::writing;
    write_some(c);
  } else if (c.phase == Phase::writing && c.waiting_tick) {
    c.waiting_tick = false;
    c.tick_budget = pace_bytes_per_tick(c.response.bandwidth_kbps);
    write_some(c);
  }
  pump(c.id);
}

void ImageServer::Impl::write_some(Connection& c) {
  Response& r = c.response;
  const std::uint64_t kbps = static_cast<std::uint64_t>(r.bandwidth_kbps);
  for (;;) {
    bool head_done = c.head_sent >= r.head.size();
    bool body_done = c.body_sent >= r.send_bytes;
    if (head_done && body_done) {
      finish_response(c);
      return;
    }
    if (kbps > 0 && c.tick_budget == 0 && head_done) {
      // Pacing: this tick's bytes are out; the next tick comes by timer, not by EPOLLOUT.
      set_events(c, c.events & ~static_cast<std::uint32_t>(EPOLLOUT));
      c.waiting_tick = true;
      schedule(c, Clock::now() + kPaceTick);
      return;
    }
    iovec iov[2];
    int count = 0;
    if (!head_done) {
      iov[count++] = {const_cast<char*>(r.head.data()) + c.head_sent, r.head.size() - c.head_sent};
    }
    std::uint64_t body_left = r.send_bytes - c.body_sent;
    if (kbps > 0) body_left = std::min(body_left, c.tick_budget);
    if (body_left > 0) {
      const std::string& data = r.body.data ? *r.body.data : zero_block();
      std::size_t data_size = r.body.data ? data.size() : 0;
      if (c.body_sent < data_size) {
        std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(body_left, data_size - c.body_sent));
        iov[count++] = {const_cast<char*>(data.data()) + c.body_sent, n};
      } else {
        std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(body_left, zero_block().size()));
        iov[count++] = {const_cast<char*>(zero_block().data()), n};
      }
    }
    if (count == 0) return;
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<std::size_t>(count);
    ssize_t n = ::sendmsg(c.fd.get(), &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        set_events(c, c.events | EPOLLOUT);
        return;
      }
      close_connection(c.id);
      return;
    }
    c.last_activity = Clock::now();
    auto written = static_cast<std::uint64_t>(n);
    std::uint64_t to_head =
        std::min<std::uint64_t>(written, r.head.size() - std::min(r.head.size(), c.head_sent));
    c.head_sent += static_cast<std::size_t>(to_head);
    c.body_sent += written - to_head;
    if (kbps > 0) c.tick_budget -= std::min(c.tick_budget, written - to_head);
  }
}

void ImageServer::Impl::finish_response(Connection& c) {
  switch (c.response.after) {
    case After::keep_alive: {
      c.phase = Phase::reading;
      c.response = Response{};
      std::uint32_t events = c.peer_closed ? 0U : static_cast<std::uint32_t>(EPOLLIN | EPOLLRDHUP);
      set_events(c, events);
      return;  // the caller pumps the next pipelined request
    }
    case After::close:
      close_connection(c.id);
      return;
    case After::hold:
      // Stalled: nothing more is ever sent; reading stays on to notice when the client gives up.
      c.phase = Phase::holding;
      set_events(c, c.peer_closed ? 0U : static_cast<std::uint32_t>(EPOLLIN | EPOLLRDHUP));
      if (c.peer_closed) close_connection(c.id);
      return;
  }
}

void ImageServer::Impl::sweep(Clock::time_point now) {
  std::vector<std::uint64_t> expired;
  for (const auto& [id, c] : connections_) {
    if ((c->phase == Phase::reading && now - c->last_activity > kIdleTimeout) ||
        (c->phase == Phase::holding && now - c->last_activity > kHoldTimeout)) {
      expired.push_back(id);
    }
  }
  for (std::uint64_t id : expired) close_connection(id);
}

int ImageServer::Impl::base_delay_ms() {
  int delay = std::max(0, config_.latency_ms);
  if (config_.jitter_ms > 0) {
    std::uint64_t h = mix64(config_.seed ^ 0x6a177e5ULL ^ mix64(++jitter_draws_));
    delay += static_cast<int>(h % (static_cast<std::uint64_t>(config_.jitter_ms) + 1));
  }
  return delay;
}

bool ImageServer::Impl::take_rate_token() {
  Clock::time_point now = Clock::now();
  double rate = config_.rate_limit_per_s;
  tokens_ = std::min(std::max(1.0, rate),
                     tokens_ + std::chrono::duration<double>(now - tokens_at_).count() * rate);
  tokens_at_ = now;
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

Response ImageServer::Impl::make_body(int status, std::string_view content_type, Body body,
                                      bool head_only,
                                      const std::vector<std::pair<std::string, std::string>>& extra,
                                      bool send_length, std::uint64_t announced_length) {
  Response r;
  r.head =
      fmt::format("HTTP/1.1 {} {}\r\nServer: thumbfetch-serve\r\n", status, reason_phrase(status));
  if (!content_type.empty()) r.head += fmt::format("Content-Type: {}\r\n", content_type);
  if (send_length) {
    r.head += fmt::format("Content-Length: {}\r\n",
                          announced_length == UINT64_MAX ? body.size : announced_length);
  } else {
    r.after = After::close;  // close-delimited: the end of the body is the end of the connection
  }
  for (const auto& [name, value] : extra) r.head += fmt::format("{}: {}\r\n", name, value);
  r.head += "Connection: keep-alive\r\n\r\n";
  r.send_bytes = head_only ? 0 : body.size;
  r.body = std::move(body);
  r.bandwidth_kbps = config_.bandwidth_kbps;
  return r;
}

Response ImageServer::Impl::make(int status, std::string content_type, std::string body,
                                 bool head_only,
                                 std::vector<std::pair<std::string, std::string>> extra) {
  auto data = std::make_shared<const std::string>(std::move(body));
  std::uint64_t size = data->size();
  return make_body(status, content_type, Body{std::move(data), size}, head_only, extra, true,
                   UINT64_MAX);
}

Response ImageServer::Impl::route(const HttpRequest& req) {
  bool head_only = req.method == "HEAD";
  if (req.method != "GET" && !head_only) {
    return make(405, "text/html; charset=utf-8", html_page(405, "Only GET and HEAD are served."),
                false, {{"Allow", "GET, HEAD"}});
  }
  if (req.path == "/list.txt") {
    std::string list;
    for (const auto& [name, asset] : corpus_) list += fmt::format("{}/img/{}\n", base_url_, name);
    return make(200, "text/plain; charset=utf-8", std::move(list), head_only);
  }
  if (req.path == "/stats") {
    ServerStats s;
    {
      std::lock_guard lock(stats_mutex_);
      s = stats_;
    }
    nlohmann::json j = {{"total_requests", s.total_requests},
                        {"connections_accepted", s.connections_accepted},
                        {"max_concurrent_connections", s.max_concurrent_connections},
                        {"current_connections", s.current_connections},
                        {"get_counts", nlohmann::json::object()}};
    for (const auto& [path, count] : s.get_counts) j["get_counts"][path] = count;
    return make(200, "application/json", j.dump() + "\n", head_only);
  }
  if (req.path.rfind("/img/", 0) == 0) {
    std::string name = percent_decode(std::string_view(req.path).substr(5));
    auto it = corpus_.find(name);
    if (it != corpus_.end()) return serve_image(req, it->second);
    it = aliases_.find(name);
    if (it != aliases_.end()) return serve_image(req, it->second);
  } else if (req.path.rfind("/3/", 0) == 0) {
    return serve_imgur(req);
  }
  return make(404, "text/html; charset=utf-8", html_page(404, "No such file here."), head_only);
}

Response ImageServer::Impl::serve_image(const HttpRequest& req, const ServedAsset& asset) {
  bool head_only = req.method == "HEAD";
  const std::string html_type = "text/html; charset=utf-8";
  std::optional<std::string> fault = query_param(req.query, "fault");
  std::optional<std::string> flaky = query_param(req.query, "flaky");
  std::uint64_t order = img_requests_++;

  if (flaky) {
    int& seen = flaky_counts_[req.target];
    if (seen < parse_int(*flaky).value_or(0)) {
      ++seen;
      return make(503, html_type, html_page(503, "Flaky on purpose; try again."), head_only,
                  {{"Retry-After", "1"}});
    }
  }
  if (config_.rate_limit_per_s > 0 && !take_rate_token()) {
    auto wait = static_cast<long long>(std::ceil(1.0 / config_.rate_limit_per_s));
    return make(429, html_type, html_page(429, "Rate limit exceeded."), head_only,
                {{"Retry-After", std::to_string(std::max(1LL, wait))}});
  }

  std::string kind = fault.value_or("");
  if (!fault && !flaky && !query_param(req.query, "nofault")) {
    // Random faults: one draw per /img/ request, a pure function of the seed and its order.
    double u = unit_interval(mix64(config_.seed * 0x100000001b3ULL ^ mix64(order)));
    const std::pair<double, const char*> rates[] = {
        {config_.rate_500, "500"},     {config_.rate_503, "503"},
        {config_.rate_429, "429"},     {config_.rate_truncate, "truncate"},
        {config_.rate_stall, "stall"}, {config_.rate_wrong_type, "wrong-type"},
        {config_.rate_html, "html"},   {config_.rate_redirect, "random-redirect"}};
    double edge = 0;
    for (const auto& [rate, what] : rates) {
      edge += std::max(0.0, rate);
      if (u < edge) {
        kind = what;
        break;
      }
    }
  }

  Body full{asset.bytes, asset.bytes->size()};
  const std::string& type = asset.content_type;
  if (kind.empty() || kind == "none" || kind == "slow") {
    Response r = make_body(200, type, full, head_only, {});
    if (kind == "slow") r.bandwidth_kbps = kSlowKbps;
    return r;
  }
  if (kind == "500" || kind == "503") {
    int status = kind == "500" ? 500 : 503;
    return make(status, html_type, html_page(status, "Injected fault."), head_only);
  }
  if (kind == "429") {
    return make(429, html_type, html_page(429, "Injected fault."), head_only,
                {{"Retry-After", "1"}});
  }
  if (kind == "truncate") {
    Response r = make_body(200, type, full, head_only, {});
    r.send_bytes /= 2;
    r.after = After::close;
    return r;
  }
  if (kind == "stall") {
    Response r = make_body(200, type, full, head_only, {});
    r.send_bytes = std::min(r.send_bytes, kStallBytes);
    r.after = After::hold;
    return r;
  }
  if (kind == "wrong-type") return make_body(200, html_type, full, head_only, {});
  if (kind == "html") {
    return make(200, "image/jpeg", html_page(503, "Our servers are busy. Please try again later."),
                head_only);
  }
  auto redirect = [&](std::string location) {
    return make(302, html_type, html_page(302, "Moved."), head_only,
                {{"Location", std::move(location)}});
  };
  if (kind == "redirect") {
    std::string rest = query_without(req.query, "fault");
    return redirect(base_url_ + req.path + (rest.empty() ? "" : "?" + rest));
  }
  if (kind == "random-redirect") return redirect(base_url_ + req.path + "?nofault=1");
  if (kind == "redirect-file") return redirect("file:///etc/passwd");
  if (kind == "redirect-ftp") return redirect("ftp://127.0.0.1/x.jpg");
  if (kind == "redirect-loop") return redirect(base_url_ + req.target);
  if (kind == "big" || kind == "big-honest" || kind == "big-nolength") {
    static const auto preamble = std::make_shared<const std::string>(jpeg_preamble());
    Body big{preamble, kBigBodyBytes};
    Response r = make_body(200, "image/jpeg", big, head_only, {}, kind != "big-nolength",
                           kind == "big" ? 1000 : UINT64_MAX);
    r.after = After::close;  // after a lying length the connection cannot be reused
    return r;
  }
  if (kind == "nolength") return make_body(200, type, full, head_only, {}, false);
  return make(400, html_type, html_page(400, "Unknown fault: " + kind), head_only);
}

Response ImageServer::Impl::serve_imgur(const HttpRequest& req) {
  bool head_only = req.method == "HEAD";
  const std::string json_type = "application/json";
  const std::string* auth = req.header("authorization");
  if (auth == nullptr || *auth != "Client-ID " + config_.imgur_client_id) {
    return make(403, json_type,
                imgur_error_json(403, "Authentication required", req.path, req.method).dump(),
                head_only);
  }
  ++api_requests_;
  auto limit = static_cast<std::uint64_t>(std::max(0, config_.imgur_rate_limit));
  std::uint64_t remaining = api_requests_ >= limit ? 0 : limit - api_requests_;
  std::vector<std::pair<std::string, std::string>> headers = {
      {"X-RateLimit-ClientLimit", std::to_string(limit)},
      {"X-RateLimit-ClientRemaining", std::to_string(remaining)},
      {"X-RateLimit-UserLimit", std::to_string(limit)},
      {"X-RateLimit-UserRemaining", std::to_string(remaining)},
      {"X-RateLimit-UserReset", std::to_string(user_reset_)},
  };
  if (api_requests_ > limit) {
    return make(429, json_type,
                imgur_error_json(429, "Too Many Requests", req.path, req.method).dump(), head_only,
                headers);
  }
  std::vector<std::string_view> parts = split_path(req.path);
  if (parts.size() >= 3 && parts.size() <= 6 && parts[1] == "gallery") {
    // /3/gallery/{section}[/{sort}[/{window}]][/{page}]
    int page = 0;
    if (parts.size() >= 4) {
      std::optional<int> last = parse_int(parts.back());
      if (!last || *last < 0) {
        if (parts.size() == 6) {
          return make(400, json_type,
                      imgur_error_json(400, "Invalid page", req.path, req.method).dump(), head_only,
                      headers);
        }
      } else {
        page = *last;
      }
    }
    return make(200, json_type, imgur_->gallery_page(page).dump(), head_only, headers);
  }
  if (parts.size() == 4 && parts[1] == "album" && parts[3] == "images") {
    if (auto images = imgur_->album_images(parts[2])) {
      return make(200, json_type, images->dump(), head_only, headers);
    }
    return make(
        404, json_type,
        imgur_error_json(404, fmt::format("Unable to find an album with the id, {}", parts[2]),
                         req.path, req.method)
            .dump(),
        head_only, headers);
  }
  return make(404, json_type, imgur_error_json(404, "Not found", req.path, req.method).dump(),
              head_only, headers);
}

ImageServer::ImageServer(ServeConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}

ImageServer::~ImageServer() {
  impl_->stop();
  if (impl_->thread_.joinable()) impl_->thread_.join();
}

std::uint16_t ImageServer::port() const {
  return impl_->port_;
}

std::string ImageServer::base_url() const {
  return impl_->base_url_;
}

void ImageServer::run() {
  impl_->run();
}

void ImageServer::start_in_thread() {
  impl_->thread_ = std::jthread([impl = impl_.get()] { impl->run(); });
}

void ImageServer::stop() {
  impl_->stop();
}

ServerStats ImageServer::stats() const {
  std::lock_guard lock(impl_->stats_mutex_);
  return impl_->stats_;
}

std::vector<std::string> ImageServer::image_names() const {
  std::vector<std::string> names;
  for (const auto& [name, asset] : impl_->corpus_) names.push_back(name);
  return names;
}

std::string ImageServer::image_bytes(std::string_view name) const {
  auto it = impl_->corpus_.find(name);
  if (it != impl_->corpus_.end()) return *it->second.bytes;
  it = impl_->aliases_.find(name);
  return it != impl_->aliases_.end() ? *it->second.bytes : std::string();
}

}  // namespace thumbfetch
