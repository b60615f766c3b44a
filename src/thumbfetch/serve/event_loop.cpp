#include "thumbfetch/serve/event_loop.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <queue>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

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
constexpr auto kAcceptPause = milliseconds(100);  // out of descriptors and no spare one left

// epoll user data for the two non-connection fds; connection ids start above them.
constexpr std::uint64_t kListenId = 0;
constexpr std::uint64_t kWakeId = 1;
constexpr std::uint64_t kFirstConnectionId = 16;

// Zeros to pad virtual bodies with (the oversized-body fault streams 60 MiB of them).
const std::string& zero_block() {
  static const std::string zeros(64 * 1024, '\0');
  return zeros;
}

enum class Phase { reading, delayed, writing, holding };

struct Connection {
  std::uint64_t id = 0;
  UniqueFd fd;
  std::string in;
  RequestHeadScanner scanner;  // over `in`, which only grows until a head is taken from it
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

// A descriptor held in reserve: closed for a moment when accept() fails for lack of
// descriptors, so that the waiting connection can be taken and refused with a 503 instead of
// left in the backlog (where epoll would report it again at once, forever).
UniqueFd open_spare_fd() {
  return UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
}

// Sends a 503 on a connection taken only to be refused, and closes it. What the client already
// sent is read first, so that closing sends FIN rather than RST (which could destroy the 503
// before the client reads it).
void refuse_connection(UniqueFd fd) {
  char sink[4096];
  while (::recv(fd.get(), sink, sizeof sink, MSG_DONTWAIT) > 0) {
  }
  Response r = make_response(503, "text/html; charset=utf-8",
                             html_page(503, "Too many connections; try again later."), false,
                             {{"Retry-After", "1"}});
  mark_close(r);
  std::string bytes = r.head + *r.body.data;
  [[maybe_unused]] ssize_t n =
      ::send(fd.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

}  // namespace

class EventLoop::Impl {
 public:
  Impl(const std::string& host, std::uint16_t port, int bandwidth_kbps);
  void run();
  void stop();

  std::uint16_t port_ = 0;
  RequestHandler handler_;
  mutable std::mutex stats_mutex_;
  ServerStats stats_;

 private:
  void open_listener(const std::string& host, std::uint16_t port);
  void dispatch(std::uint64_t id, std::uint32_t what);
  void run_due_timers(Clock::time_point now);
  void accept_all();
  bool refuse_for_lack_of_descriptors();
  void pause_accepting();
  void add_connection(int fd);
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

  int bandwidth_kbps_ = 0;
  UniqueFd listen_fd_;
  UniqueFd epoll_fd_;
  UniqueFd wake_fd_;
  UniqueFd spare_fd_;
  std::atomic<bool> stop_requested_{false};
  std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> connections_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  std::uint64_t next_connection_id_ = kFirstConnectionId;
  Clock::time_point next_sweep_;
  bool accept_paused_ = false;
  Clock::time_point accept_resume_;
};

EventLoop::Impl::Impl(const std::string& host, std::uint16_t port, int bandwidth_kbps)
    : bandwidth_kbps_(bandwidth_kbps), spare_fd_(open_spare_fd()) {
  open_listener(host, port);
}

void EventLoop::Impl::open_listener(const std::string& host, std::uint16_t port) {
  listen_fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!listen_fd_.valid())
    throw std::runtime_error(fmt::format("socket: {}", std::strerror(errno)));
  int one = 1;
  ::setsockopt(listen_fd_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    throw std::runtime_error("not an IPv4 address: " + host);
  }
  if (::bind(listen_fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw std::runtime_error(
        fmt::format("cannot bind {}:{}: {}", host, port, std::strerror(errno)));
  }
  if (::listen(listen_fd_.get(), SOMAXCONN) != 0) {
    throw std::runtime_error(fmt::format("listen: {}", std::strerror(errno)));
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);

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

void EventLoop::Impl::stop() {
  stop_requested_.store(true);
  std::uint64_t one = 1;
  // Wakes epoll_wait; a full counter (impossible in practice) still leaves the fd readable.
  [[maybe_unused]] ssize_t n = ::write(wake_fd_.get(), &one, sizeof one);
}

void EventLoop::Impl::run() {
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
      const epoll_event& e = events[static_cast<std::size_t>(i)];
      dispatch(e.data.u64, e.events);
    }
    now = Clock::now();
    run_due_timers(now);
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

void EventLoop::Impl::dispatch(std::uint64_t id, std::uint32_t what) {
  if (id == kWakeId) {
    std::uint64_t value = 0;
    [[maybe_unused]] ssize_t r = ::read(wake_fd_.get(), &value, sizeof value);
    return;
  }
  if (id == kListenId) {
    accept_all();
    return;
  }
  auto it = connections_.find(id);
  if (it == connections_.end()) return;  // closed earlier in this batch
  Connection& c = *it->second;
  if (what & EPOLLERR) {
    close_connection(id);
    return;
  }
  if (what & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) {
    on_readable(c);
    if (!connections_.count(id)) return;
  }
  if ((what & EPOLLOUT) && c.phase == Phase::writing && !c.waiting_tick) {
    write_some(c);
    pump(id);
  }
}

void EventLoop::Impl::run_due_timers(Clock::time_point now) {
  while (!timers_.empty() && timers_.top().when <= now) {
    Timer t = timers_.top();
    timers_.pop();
    auto it = connections_.find(t.connection_id);
    if (it != connections_.end() && it->second->timer_generation == t.generation)
      on_timer(*it->second);
  }
}

void EventLoop::Impl::accept_all() {
  for (;;) {
    int fd = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      add_connection(fd);
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EMFILE || errno == ENFILE) {
      if (refuse_for_lack_of_descriptors()) continue;
      pause_accepting();
    } else if (errno == ENOBUFS || errno == ENOMEM) {
      pause_accepting();
    }
    return;
  }
}

// Out of descriptors with a connection waiting: take it with the spare descriptor, answer 503,
// close it, and take the spare back. The backlog drains, so the listener stops being readable
// instead of waking the loop over and over. False when there is no spare to use.
bool EventLoop::Impl::refuse_for_lack_of_descriptors() {
  if (!spare_fd_.valid()) return false;
  spare_fd_.reset();
  UniqueFd fd(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
  bool refused = fd.valid();
  if (refused) refuse_connection(std::move(fd));
  spare_fd_ = open_spare_fd();  // may fail if another thread took the slot: then we pause
  if (refused) {
    std::lock_guard lock(stats_mutex_);
    ++stats_.connections_refused;
  }
  return refused;
}

// Stops watching the listener for a moment instead of spinning on a readable socket we cannot
// accept from.
void EventLoop::Impl::pause_accepting() {
  accept_paused_ = true;
  accept_resume_ = Clock::now() + kAcceptPause;
  epoll_event ev{};
  ev.data.u64 = kListenId;
  ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, listen_fd_.get(), &ev);
}

void EventLoop::Impl::add_connection(int fd) {
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
  if (::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return;  // c closes fd
  connections_.emplace(c->id, std::move(c));
  std::lock_guard lock(stats_mutex_);
  ++stats_.connections_accepted;
  stats_.current_connections = connections_.size();
  stats_.max_concurrent_connections =
      std::max<std::uint64_t>(stats_.max_concurrent_connections, connections_.size());
}

void EventLoop::Impl::set_events(Connection& c, std::uint32_t events) {
  if (c.events == events) return;
  c.events = events;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = c.id;
  ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
}

void EventLoop::Impl::close_connection(std::uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  // Closing the fd removes it from the epoll set; stale timers find no connection.
  connections_.erase(it);
  std::lock_guard lock(stats_mutex_);
  stats_.current_connections = connections_.size();
}

void EventLoop::Impl::schedule(Connection& c, Clock::time_point when) {
  timers_.push(Timer{when, c.id, ++c.timer_generation});
}

void EventLoop::Impl::on_readable(Connection& c) {
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

void EventLoop::Impl::pump(std::uint64_t id) {
  // A loop, not recursion, so a long pipeline of instant responses cannot exhaust the stack.
  for (;;) {
    auto it = connections_.find(id);
    if (it == connections_.end() || it->second->phase != Phase::reading) return;
    if (!process_next(*it->second)) return;
  }
}

bool EventLoop::Impl::process_next(Connection& c) {
  if (c.in.empty()) {
    if (c.peer_closed) close_connection(c.id);
    return false;
  }
  ParseResult parsed = c.scanner.scan(c.in);
  if (parsed.state == ParseState::incomplete) {
    if (c.peer_closed) close_connection(c.id);
    return false;
  }
  c.scanner.reset();
  {
    std::lock_guard lock(stats_mutex_);
    ++stats_.total_requests;
    if (parsed.state == ParseState::complete && parsed.request.method == "GET")
      ++stats_.get_counts[parsed.request.path];
  }
  if (parsed.state == ParseState::error) {
    c.in.clear();
    int status = parsed.error_status;
    Response r = make_response(status, "text/html; charset=utf-8",
                               html_page(status, "The request could not be understood."), false);
    mark_close(r);
    begin_response(c, std::move(r));
    return true;
  }
  c.in.erase(0, parsed.consumed);
  const HttpRequest& req = parsed.request;
  Response r = handler_(req);
  // A body we do not read would be taken for the next request: answer, then close.
  if (!req.keep_alive || req.has_body || r.after != After::keep_alive) mark_close(r);
  begin_response(c, std::move(r));
  return true;
}

void EventLoop::Impl::begin_response(Connection& c, Response response) {
  c.response = std::move(response);
  if (c.response.bandwidth_kbps == 0) c.response.bandwidth_kbps = bandwidth_kbps_;
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

void EventLoop::Impl::on_timer(Connection& c) {
  const auto id = c.id;  // write_some may close (free) c: pump looks it up again by id
  if (c.phase == Phase::delayed) {
    c.phase = Phase::writing;
    write_some(c);
  } else if (c.phase == Phase::writing && c.waiting_tick) {
    c.waiting_tick = false;
    c.tick_budget = pace_bytes_per_tick(c.response.bandwidth_kbps);
    write_some(c);
  }
  pump(id);
}

void EventLoop::Impl::write_some(Connection& c) {
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

void EventLoop::Impl::finish_response(Connection& c) {
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

void EventLoop::Impl::sweep(Clock::time_point now) {
  std::vector<std::uint64_t> expired;
  for (const auto& [id, c] : connections_) {
    if ((c->phase == Phase::reading && now - c->last_activity > kIdleTimeout) ||
        (c->phase == Phase::holding && now - c->last_activity > kHoldTimeout)) {
      expired.push_back(id);
    }
  }
  for (std::uint64_t id : expired) close_connection(id);
}

EventLoop::EventLoop(const std::string& host, std::uint16_t port, int bandwidth_kbps)
    : impl_(std::make_unique<Impl>(host, port, bandwidth_kbps)) {}

EventLoop::~EventLoop() = default;

std::uint16_t EventLoop::port() const {
  return impl_->port_;
}

void EventLoop::set_handler(RequestHandler handler) {
  impl_->handler_ = std::move(handler);
}

void EventLoop::run() {
  impl_->run();
}

void EventLoop::stop() {
  impl_->stop();
}

ServerStats EventLoop::stats() const {
  std::lock_guard lock(impl_->stats_mutex_);
  return impl_->stats_;
}

}  // namespace thumbfetch
