#include "thumbfetch/thumbnail/jobs.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "thumbfetch/util/atomic_file.hpp"
#include "thumbfetch/util/hash.hpp"
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
void add_directory(const fs::path& dir, std::vector<fs::path>& out) {
  std::error_code ec;
  std::vector<fs::path> found;
  for (auto it = Iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != Iterator(); it.increment(ec)) {
    if (is_candidate(*it)) found.push_back(it->path());
  }
  std::sort(found.begin(), found.end());
  out.insert(out.end(), found.begin(), found.end());
}

std::vector<std::string> extensions_for(OutputFormat format) {
  if (format == OutputFormat::automatic) return {"jpg", "png"};
  return {std::string(output_extension(format))};
}

}  // namespace

std::vector<fs::path> collect_inputs(const std::vector<fs::path>& args, Recursive recursive) {
  std::vector<fs::path> out;
  for (const fs::path& arg : args) {
    std::error_code ec;
    if (fs::is_directory(arg, ec)) {
      if (recursive == Recursive::yes)
        add_directory<fs::recursive_directory_iterator>(arg, out);
      else
        add_directory<fs::directory_iterator>(arg, out);
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

namespace {

// The path with symlinks resolved, so "link/a.jpg" and "real/a.jpg" compare equal.
fs::path resolved(const fs::path& p) {
  std::error_code ec;
  fs::path r = fs::weakly_canonical(p, ec);
  return ec ? fs::absolute(p).lexically_normal() : r;
}

std::string plain_stem(const fs::path& input) {
  std::string stem = input.stem().string();
  return stem.empty() || stem.front() == '.' ? "image" + stem : stem;
}

}  // namespace

std::vector<ThumbJob> plan_jobs(const std::vector<fs::path>& inputs, const fs::path& out_dir,
                                OutputFormat format) {
  // Inputs' own files are taken (symlinks resolved): a thumbnail must never overwrite an image.
  std::set<fs::path> taken;
  for (const fs::path& in : inputs) taken.insert(resolved(in));
  const std::vector<std::string> extensions = extensions_for(format);
  auto overwrites_an_input = [&](const std::string& stem) {
    for (const std::string& ext : extensions) {
      if (taken.count(resolved(out_dir / (stem + "." + ext)))) return true;
    }
    return false;
  };
  // A stem two inputs share (case-insensitively, for case-insensitive file systems) is hashed
  // for all of them, so no name depends on which other inputs happen to be there: a resumed
  // run with --skip-existing never mistakes one image's thumbnail for another's.
  std::map<std::string, int> stem_count;
  for (const fs::path& in : inputs) ++stem_count[ascii_lower(plain_stem(in))];

  std::set<std::string> used;
  std::vector<ThumbJob> jobs;
  jobs.reserve(inputs.size());
  for (const fs::path& in : inputs) {
    std::string stem = plain_stem(in);
    if (stem_count[ascii_lower(stem)] > 1 || overwrites_an_input(stem)) {
      stem += "-" + short_hash_hex(in.lexically_normal().string());
    }
    const std::string base = stem;
    for (int n = 2; used.count(ascii_lower(stem)) || overwrites_an_input(stem); ++n) {
      stem = fmt::format("{}-{}", base, n);
    }
    used.insert(ascii_lower(stem));
    jobs.push_back({in, out_dir / stem});
  }
  return jobs;
}

fs::path existing_output(const ThumbJob& job, OutputFormat format) {
  for (const std::string& ext : extensions_for(format)) {
    fs::path candidate = job.output_stem;
    candidate += "." + ext;
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec)) return candidate;
  }
  return {};
}

ThumbResult run_job(Thumbnailer& thumbnailer, const ThumbJob& job) {
  const auto start = std::chrono::steady_clock::now();
  ThumbResult result;
  try {
    auto done = thumbnailer.make(job.input, job.output_stem);
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
