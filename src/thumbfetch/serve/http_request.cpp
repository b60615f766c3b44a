#include "thumbfetch/serve/http_request.hpp"
#include "thumbfetch/util/strings.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace thumbfetch {

namespace {

// RFC 9110 token characters: what a method or header name may be made of.
bool is_tchar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool contains_token(std::string_view list, std::string_view token) {
  std::string l = ascii_lower(list);
  std::size_t start = 0;
  while (start <= l.size()) {
    std::size_t comma = l.find(',', start);
    if (comma == std::string::npos) comma = l.size();
    if (trim(std::string_view(l).substr(start, comma - start)) == token) return true;
    start = comma + 1;
  }
  return false;
}

ParseResult fail(int status) {
  ParseResult r;
  r.state = ParseState::error;
  r.error_status = status;
  return r;
}

// Parses a complete head: the request line and header lines, each ending in LF or CRLF, without
// the blank line. `consumed` is what the caller drops from its input for this request.
ParseResult parse_head(std::string_view head, std::size_t consumed) {
  ParseResult result;
  result.consumed = consumed;
  HttpRequest& req = result.request;

  auto next_line = [&head]() {
    std::size_t nl = head.find('\n');
    std::string_view line = head.substr(0, nl);
    head.remove_prefix(nl == std::string_view::npos ? head.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  };

  // Request line: METHOD SP request-target SP HTTP/1.x
  std::string_view line = next_line();
  std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return fail(400);
  std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return fail(400);
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method)) return fail(400);
  if (target.empty() || target.front() != '/') return fail(400);
  for (char c : target) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return fail(400);
  }
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      !std::isdigit(static_cast<unsigned char>(version[5])) ||
      !std::isdigit(static_cast<unsigned char>(version[7]))) {
    return fail(400);
  }
  if (version[5] != '1') return fail(505);
  req.method = std::string(method);
  req.target = std::string(target);
  std::size_t q = target.find('?');
  req.path = std::string(target.substr(0, q));
  req.query = q == std::string_view::npos ? std::string() : std::string(target.substr(q + 1));
  req.minor_version = version[7] - '0';

  // Header fields: name ":" OWS value OWS. Obsolete line folding is refused (RFC 9112 5.2).
  while (!head.empty()) {
    line = next_line();
    if (line.empty()) break;
    if (line.front() == ' ' || line.front() == '\t') return fail(400);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return fail(400);
    std::string_view name = line.substr(0, colon);
    if (!is_token(name)) return fail(400);
    std::string_view value = trim(line.substr(colon + 1));
    for (char c : value) {
      auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) return fail(400);
    }
    req.headers.emplace_back(ascii_lower(name), std::string(value));
  }

  const std::string* connection = req.header("connection");
  if (req.minor_version == 0) {
    req.keep_alive = connection != nullptr && contains_token(*connection, "keep-alive");
  } else {
    req.keep_alive = connection == nullptr || !contains_token(*connection, "close");
  }
  if (req.header("transfer-encoding") != nullptr) req.has_body = true;
  if (const std::string* cl = req.header("content-length")) {
    unsigned long long n = 0;
    auto [ptr, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), n);
    if (ec != std::errc() || ptr != cl->data() + cl->size()) return fail(400);
    if (n > 0) req.has_body = true;
  }
  result.state = ParseState::complete;
  return result;
}

}  // namespace

const std::string* HttpRequest::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

ParseResult RequestHeadScanner::scan(std::string_view buffer) {
  for (; pos_ < buffer.size(); ++pos_) {
    // The limit is checked per byte, so neither blank lines nor a long line escape it.
    if (pos_ >= kMaxRequestHeadBytes) return fail(431);
    ++examined_;
    const char c = buffer[pos_];
    if (start_ == kNone) {
      if (c == '\r' || c == '\n') continue;  // a blank line before the request line
      start_ = pos_;
      line_start_ = pos_;
    }
    if (!method_checked_) {
      // A request line that is already not HTTP can be refused before the head completes.
      if (c == ' ' || c == '\r' || c == '\n') {
        method_checked_ = true;
      } else if (!is_tchar(c)) {
        return fail(400);
      }
    }
    if (c != '\n') continue;
    std::string_view line = buffer.substr(line_start_, pos_ - line_start_);
    if (line.empty() || line == "\r") {
      // The blank line that ends the head (never the request line: start_ is not blank).
      return parse_head(buffer.substr(start_, line_start_ - start_), pos_ + 1);
    }
    line_start_ = pos_ + 1;
  }
  return {};
}

ParseResult parse_http_request(std::string_view buffer) {
  return RequestHeadScanner().scan(buffer);
}

std::optional<std::string> query_param(std::string_view query, std::string_view key) {
  std::size_t start = 0;
  while (start <= query.size()) {
    std::size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view part = query.substr(start, amp - start);
    std::size_t eq = part.find('=');
    if (part.substr(0, eq) == key) {
      return eq == std::string_view::npos ? std::string() : std::string(part.substr(eq + 1));
    }
    start = amp + 1;
  }
  return std::nullopt;
}

std::string query_without(std::string_view query, std::string_view key) {
  std::string out;
  std::size_t start = 0;
  while (start < query.size()) {
    std::size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view part = query.substr(start, amp - start);
    if (!part.empty() && part.substr(0, part.find('=')) != key) {
      if (!out.empty()) out += '&';
      out += part;
    }
    start = amp + 1;
  }
  return out;
}

}  // namespace thumbfetch
