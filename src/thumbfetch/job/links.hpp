#pragma once
// Where a run's image links come from: links in hand, a URL list (a file or standard input) or
// the Imgur API gallery. check() finds usage problems before anything is created or requested;
// collect() then reads the list or asks the API.

#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "thumbfetch/fetch/types.hpp"
#include "thumbfetch/job/folder.hpp"
#include "thumbfetch/job/observer.hpp"
#include "thumbfetch/source/imgur.hpp"
#include "thumbfetch/source/url_list.hpp"

namespace thumbfetch {

struct LinkSource {
  std::vector<std::string> given;  // links already in hand (bench, the pipeline, Python)
  std::string urls_file;           // "-": standard input
  bool imgur = false;
  ImgurQuery imgur_query;  // client_id, section...; limit and policy are set from the job
  int count = 0;           // at most this many links (0: all)
  // With `given`: the lines refused (in a shard's range of a URL list).
  std::vector<InvalidUrlLine> given_invalid;
  // With `urls_file`: only its bytes [range_begin, range_end) (a shard's part, maybe empty;
  // kToEndOfFile: to the end), and what is added to each refused line's reason (" in shard
  // 3-of-8").
  std::uint64_t range_begin = 0, range_end = kToEndOfFile;
  std::string refused_suffix;
};

struct Links {
  std::vector<std::string> urls;
  std::vector<ItemMeta> meta;           // what the source said of each URL (Imgur), or empty
  std::vector<InvalidUrlLine> invalid;  // each reported as a refused item
  std::string why_empty;                // when urls is empty: why ("the list has no URLs")
};

// Throws SetupError: no source or two, an Imgur query with bad values or no Client-ID, a URL
// list that is a folder or cannot be read.
void check_link_source(const LinkSource& source);

// Reads the list, or collects from the API (notes go to the observer). A URL list is read here
// unless it is standard input. Throws SetupError when the API refuses at once with no link.
Links collect_links(const LinkSource& source, const FetchPolicy& policy,
                    const JobObserver& observer, const std::atomic<bool>* cancel);

// The links of a run and its output folder, in the order that spends nothing on a refused run:
// a list is read before the folder is made (an empty one creates nothing), the API is asked only
// once the folder is ours (a run refused by the lock spends none of the quota). Throws
// SetupError, NothingToDo when the source gives no link at all.
struct LinksInFolder {
  Links links;
  OutputFolder folder;
};
LinksInFolder collect_links_into(const LinkSource& source, const FetchPolicy& policy,
                                 const std::filesystem::path& out_dir, const std::string& command,
                                 WaitForLock wait, const JobObserver& observer,
                                 std::stop_token stop);

// The links of a run one at a time, so that a URL list of millions is never held: a list file
// (or standard input) is read line by line as the run goes; links in hand and the Imgur API's
// (a few thousand at most) are handed out from memory. Each entry is a URL or a refused line,
// in list order, duplicates included (the job drops them, and applies LinkSource::count).
class LinkStream {
 public:
  struct Entry {
    std::string url;          // empty for a refused line
    InvalidUrlLine invalid;   // a refused line
    size_t source_index = 0;  // the URL's place in meta() (links in hand, Imgur)
  };
  // Throws SetupError when a list cannot be opened.
  static LinkStream open(const LinkSource& source);
  explicit LinkStream(Links links);
  LinkStream(LinkStream&&) noexcept;
  LinkStream& operator=(LinkStream&&) noexcept;
  ~LinkStream();

  // Throws SetupError when the list cannot be read (an I/O error, or a shard's part of the
  // list cut short): a read that fails is never taken for the end of the list.
  std::optional<Entry> next();
  // True when the source gives nothing at all, not even a refused line (reads one entry ahead).
  bool empty();
  std::string why_empty() const;
  // What the source said of each link (Imgur), by source_index; empty for a list.
  const std::vector<ItemMeta>& meta() const { return links_.meta; }

 private:
  LinkStream() = default;
  std::optional<Entry> read();

  Links links_;  // links in hand; for a list only why_empty
  size_t next_url_ = 0, next_invalid_ = 0;
  std::unique_ptr<std::istream> file_;
  std::unique_ptr<UrlListReader> reader_;
  std::string refused_suffix_;
  std::optional<std::optional<Entry>> ahead_;  // read by empty(), not yet given
};

// collect_links_into() for a streamed run: a list is opened and its first line read before the
// folder is made (an empty one creates nothing), the rest read as the run goes.
struct LinkStreamInFolder {
  LinkStream links;
  OutputFolder folder;
};
LinkStreamInFolder open_links_into(const LinkSource& source, const FetchPolicy& policy,
                                   const std::filesystem::path& out_dir, const std::string& command,
                                   WaitForLock wait, const JobObserver& observer,
                                   std::stop_token stop);

}  // namespace thumbfetch
