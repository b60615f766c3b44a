#include "thumbfetch/thumbnail/jobs.hpp"

#include <algorithm>
#include <chrono>
#include <set>
#include <type_traits>

#include "thumbfetch/util/atomic_file.hpp"
#include "thumbfetch/util/strings.hpp"

namespace thumbfetch {

namespace fs = std::filesystem;

namespace {

bool has_image_extension(const fs::path& path) {
  static const std::set<std::string> kExtensions = {".jpg", ".jpeg", ".jpe",  ".jfif", ".png",
                                                    ".gif", ".webp", ".avif", ".heic", ".heif",
                                                    ".tif", ".tiff", ".bmp"};
  return kExtensions.count(ascii_lower(path.extension().string())) > 0;
}

bool is_candidate(const fs::directory_entry& entry) {
  std::error_code ec;
  const std::string name = entry.path().filename().string();
  if (name.empty() || name.front() == '.') return false;  // hidden, and our temp files
  return entry.is_regular_file(ec) && has_image_extension(entry.path());
}

template <typename Iterator>
void add_directory(const fs::path& dir, std::vector<fs::path>& out,
                   const std::function<bool(const fs::path&)>& skip_folder) {
  std::error_code ec;
  std::vector<fs::path> found;
  for (auto it = Iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != Iterator(); it.increment(ec)) {
    if constexpr (std::is_same_v<Iterator, fs::recursive_directory_iterator>) {
      std::error_code dir_ec;
      if (skip_folder && it->is_directory(dir_ec) && skip_folder(it->path())) {
        it.disable_recursion_pending();
        continue;
      }
    }
    if (is_candidate(*it)) found.push_back(it->path());
  }
  std::sort(found.begin(), found.end());
  out.insert(out.end(), found.begin(), found.end());
}

}  // namespace

std::vector<fs::path> collect_inputs(const std::vector<fs::path>& args, Recursive recursive,
                                     const std::function<bool(const fs::path&)>& skip_folder) {
  std::vector<fs::path> out;
  for (const fs::path& arg : args) {
    std::error_code ec;
    if (fs::is_directory(arg, ec)) {
      if (recursive == Recursive::yes)
        add_directory<fs::recursive_directory_iterator>(arg, out, skip_folder);
      else
        add_directory<fs::directory_iterator>(arg, out, skip_folder);
    } else {
      out.push_back(arg);
    }
  }
  // The same file named twice is thumbnailed once.
  std::vector<fs::path> unique;
  std::set<fs::path> seen;
  for (const fs::path& p : out) {
    if (seen.insert(p.lexically_normal()).second) unique.push_back(p);
  }
  return unique;
}

ThumbResult run_job(Thumbnailer& thumbnailer, const ThumbJob& job) {
  const auto start = std::chrono::steady_clock::now();
  ThumbResult result;
  try {
    auto done = thumbnailer.make(job.input, job.output_stem,
                                 job.hash == HashInput::yes ? &result.input_sha256 : nullptr);
    if (done) {
      result.state = ThumbResult::State::done;
      result.done = std::move(done).value();
    } else {
      result.error = done.error();
    }
  } catch (const std::exception& e) {  // out of memory, a library bug: this image only
    result.error = make_error(ErrorKind::internal, e.what());
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace thumbfetch
