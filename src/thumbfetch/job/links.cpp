#include "thumbfetch/job/links.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <system_error>
#include <unordered_set>

#include <fmt/format.h>

#include "thumbfetch/job/setup_error.hpp"

namespace thumbfetch {

void check_link_source(const LinkSource& s) {
  if (!s.given.empty() || !s.given_invalid.empty()) return;
  if (s.urls_file.empty() == !s.imgur) {
    throw SetupError("give exactly one source: --urls FILE|- or --imgur");
  }
  if (s.imgur) {
    if (auto st = validate_imgur_query(s.imgur_query); !st) throw SetupError(st.error().message);
    if (s.imgur_query.client_id.empty()) {
      throw SetupError("--imgur needs a Client-ID: --imgur-client-id ID or $IMGUR_CLIENT_ID");
    }
    return;
  }
  if (s.urls_file == "-") return;
  std::error_code ec;
  if (std::filesystem::is_directory(s.urls_file, ec)) {
    throw SetupError(fmt::format("--urls {}: is a folder, not a list of URLs", s.urls_file));
  }
  if (!std::filesystem::exists(s.urls_file, ec)) {
    throw SetupError(fmt::format("--urls {}: no such file", s.urls_file));
  }
}

namespace {

// The whole list in hand (the pipeline's), duplicates kept once, read as a streamed run reads it.
Links from_list(const LinkSource& s) {
  LinkStream stream = LinkStream::open(s);
  Links links;
  std::unordered_set<std::string> seen;
  while (std::optional<LinkStream::Entry> e = stream.next()) {
    if (e->url.empty()) {
      links.invalid.push_back(std::move(e->invalid));
    } else if (seen.insert(e->url).second) {
      links.urls.push_back(std::move(e->url));
    }
  }
  if (s.count > 0 && static_cast<int>(links.urls.size()) > s.count) links.urls.resize(s.count);
  if (links.urls.empty()) links.why_empty = stream.why_empty();
  return links;
}

Links from_imgur(const LinkSource& s, const FetchPolicy& policy, const JobObserver& observer,
                 const std::atomic<bool>* cancel) {
  ImgurQuery q = s.imgur_query;
  q.limit = s.count;
  q.policy = policy;
  q.cancel = cancel;
  observer.say(fmt::format("Imgur: collecting links from {}/3/gallery/{}/{}/{} (Client-ID {})",
                           q.api_base, q.section, q.sort, q.window, mask_secret(q.client_id)));
  ImgurLinks got = collect_imgur_links(q);
  if (got.limit_reached) observer.say(got.limit_message);
  if (got.error) observer.say(got.error->message);
  Links links;
  links.urls = std::move(got.links);
  links.meta = std::move(got.meta);
  observer.say(fmt::format("Imgur: {} links in {} API requests", links.urls.size(), got.requests));
  if (links.urls.empty()) {
    links.why_empty = got.limit_reached ? got.limit_message
                      : got.error       ? got.error->message
                                        : "the Imgur gallery returned no image links";
  }
  return links;
}

}  // namespace

Links collect_links(const LinkSource& s, const FetchPolicy& policy, const JobObserver& observer,
                    const std::atomic<bool>* cancel) {
  check_link_source(s);
  if (!s.given.empty() || !s.given_invalid.empty()) {
    Links links;
    links.urls = s.given;
    links.invalid = s.given_invalid;
    if (s.count > 0 && static_cast<int>(links.urls.size()) > s.count) links.urls.resize(s.count);
    return links;
  }
  return s.imgur ? from_imgur(s, policy, observer, cancel) : from_list(s);
}

LinksInFolder collect_links_into(const LinkSource& source, const FetchPolicy& policy,
                                 const std::filesystem::path& out_dir, const std::string& command,
                                 WaitForLock wait, const JobObserver& observer,
                                 std::stop_token stop) {
  check_link_source(source);  // before anything is created or requested
  CancelFlag cancel(stop);
  auto nothing = [](const Links& l) { return l.urls.empty() && l.invalid.empty(); };
  Links links;
  if (!source.imgur) links = collect_links(source, policy, observer, cancel.get());
  if (!source.imgur && nothing(links)) throw NothingToDo(links.why_empty);
  OutputFolder folder = OutputFolder::open(out_dir, command, wait, stop);
  if (source.imgur) links = collect_links(source, policy, observer, cancel.get());
  if (nothing(links)) throw NothingToDo(links.why_empty);
  return {std::move(links), std::move(folder)};
}

LinkStream::LinkStream(Links links) : links_(std::move(links)) {}
LinkStream::LinkStream(LinkStream&&) noexcept = default;
LinkStream& LinkStream::operator=(LinkStream&&) noexcept = default;
LinkStream::~LinkStream() = default;

LinkStream LinkStream::open(const LinkSource& s) {
  check_link_source(s);
  if (!s.given.empty() || !s.given_invalid.empty() || s.imgur) {
    throw std::logic_error("LinkStream::open takes a URL list; use LinkStream(Links)");
  }
  LinkStream stream;
  stream.refused_suffix_ = s.refused_suffix;
  std::istream* in = &std::cin;
  if (s.urls_file != "-") {
    auto file = std::make_unique<FileRangeStream>(s.urls_file, s.range_begin, s.range_end);
    if (!*file) {
      throw SetupError(
          fmt::format("--urls {}: cannot read the URL list {}", s.urls_file, s.urls_file));
    }
    in = file.get();
    stream.file_ = std::move(file);
  }
  stream.reader_ = std::make_unique<UrlListReader>(*in);
  stream.links_.why_empty = fmt::format("{} holds no valid http(s) URL",
                                        s.urls_file == "-" ? "standard input" : s.urls_file);
  return stream;
}

std::optional<LinkStream::Entry> LinkStream::read() {
  if (reader_) {
    std::optional<UrlListReader::Entry> e;
    try {
      e = reader_->next();
    } catch (const std::system_error& error) {  // FileRangeStream's read error
      throw SetupError(error.what());
    }
    if (!e) return std::nullopt;
    if (e->url.empty()) e->invalid.reason += refused_suffix_;
    return Entry{std::move(e->url), std::move(e->invalid), 0};
  }
  // Links in hand: the refused lines first, as a list's are reported before its downloads.
  if (next_invalid_ < links_.invalid.size()) return Entry{{}, links_.invalid[next_invalid_++], 0};
  if (next_url_ >= links_.urls.size()) return std::nullopt;
  const size_t i = next_url_++;
  return Entry{std::move(links_.urls[i]), {}, i};
}

std::optional<LinkStream::Entry> LinkStream::next() {
  if (ahead_) {
    std::optional<Entry> e = std::move(*ahead_);
    ahead_.reset();
    return e;
  }
  return read();
}

bool LinkStream::empty() {
  if (!ahead_) ahead_ = read();
  return !ahead_->has_value();
}

std::string LinkStream::why_empty() const {
  return links_.why_empty.empty() ? "the list has no URLs" : links_.why_empty;
}

LinkStreamInFolder open_links_into(const LinkSource& source, const FetchPolicy& policy,
                                   const std::filesystem::path& out_dir, const std::string& command,
                                   WaitForLock wait, const JobObserver& observer,
                                   std::stop_token stop) {
  const bool list = source.given.empty() && source.given_invalid.empty() && !source.imgur;
  if (!list) {
    LinksInFolder got =
        collect_links_into(source, policy, out_dir, command, wait, observer, std::move(stop));
    return {LinkStream(std::move(got.links)), std::move(got.folder)};
  }
  LinkStream links = LinkStream::open(source);
  if (links.empty()) throw NothingToDo(links.why_empty());
  OutputFolder folder = OutputFolder::open(out_dir, command, wait, stop);
  return {std::move(links), std::move(folder)};
}

}  // namespace thumbfetch
