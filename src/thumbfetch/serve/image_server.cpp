#include "thumbfetch/serve/image_server.hpp"

#include <vips/vips8>

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "thumbfetch/serve/event_loop.hpp"
#include "thumbfetch/serve/imgur_api.hpp"
#include "thumbfetch/serve/routes.hpp"
#include "thumbfetch/thumbnail/vips_runtime.hpp"

namespace thumbfetch {

namespace {

// N synthetic images. Generation is CPU work done once, before the first byte is served:
// spread it over the cores, each thread taking every T-th index, so a few hundred images start
// in seconds.
ServedFiles generate_corpus(int count, const SyntheticSpec& spec) {
  std::vector<SyntheticImage> images(static_cast<std::size_t>(count));
  unsigned threads = std::clamp(std::thread::hardware_concurrency(), 1U, 8U);
  threads = std::min<unsigned>(threads, static_cast<unsigned>(count));
  std::vector<std::string> errors(threads);
  {
    std::vector<std::jthread> workers;
    for (unsigned t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        try {
          for (int i = static_cast<int>(t); i < count; i += static_cast<int>(threads)) {
            images[static_cast<std::size_t>(i)] = make_synthetic_image(i, spec);
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
  ServedFiles files;
  for (SyntheticImage& image : images) {
    ServedAsset asset;
    asset.content_type = content_type_for_name(image.name);
    asset.bytes = std::make_shared<const std::string>(image.bytes.begin(), image.bytes.end());
    files.emplace(std::move(image.name), std::move(asset));
  }
  return files;
}

// The regular files at the top of `dir`.
ServedFiles read_corpus(const std::filesystem::path& dir) {
  ServedFiles files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in && !in.eof()) throw std::runtime_error("cannot read " + entry.path().string());
    std::string name = entry.path().filename().string();
    ServedAsset asset;
    asset.content_type = content_type_for_name(name);
    asset.bytes = std::make_shared<const std::string>(std::move(bytes));
    files.emplace(std::move(name), std::move(asset));
  }
  if (ec) throw std::runtime_error(fmt::format("cannot read {}: {}", dir.string(), ec.message()));
  return files;
}

// Dimensions for the Imgur JSON, read from the headers (libvips decodes no pixels here).
void read_dimensions(ServedFiles& files) {
  for (auto& [name, asset] : files) {
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

ServedFiles load_corpus(const ServeConfig& config) {
  init_vips("thumbfetch");
  ServedFiles files;
  if (config.generate > 0) {
    files = generate_corpus(config.generate, config.spec);
  } else if (!config.dir.empty()) {
    files = read_corpus(config.dir);
  }
  if (files.empty()) {
    throw std::runtime_error(
        "nothing to serve: give a folder with files or a number of images to generate");
  }
  read_dimensions(files);
  return files;
}

}  // namespace

// The parts, in the order they are built: the files (a folder that cannot be read fails before
// a port is taken), the event loop (which binds), the Imgur catalogue (its links name the
// port), the routes that answer; the thread last, so it is joined first.
class ImageServer::Impl {
 public:
  explicit Impl(ServeConfig config);

  ServeConfig config_;
  ServedFiles corpus_;
  ServedFiles aliases_;  // Imgur links
  EventLoop loop_;
  std::string base_url_;
  std::unique_ptr<ImgurCatalog> imgur_;
  std::unique_ptr<ServeRoutes> routes_;
  std::jthread thread_;
};

ImageServer::Impl::Impl(ServeConfig config)
    : config_(std::move(config)),
      corpus_(load_corpus(config_)),
      loop_(config_.host, config_.port, config_.bandwidth_kbps),
      base_url_(fmt::format("http://{}:{}", config_.host, loop_.port())) {
  ImgurCatalogConfig imgur;
  imgur.pages = config_.imgur_pages;
  imgur.per_page = config_.imgur_per_page;
  imgur.seed = config_.seed;
  std::map<std::string, ServedAsset> corpus(corpus_.begin(), corpus_.end());
  imgur_ = std::make_unique<ImgurCatalog>(imgur, corpus, base_url_);
  for (const auto& [name, asset] : imgur_->assets()) {
    if (!corpus_.count(name)) aliases_.emplace(name, asset);
  }
  routes_ = std::make_unique<ServeRoutes>(config_, corpus_, aliases_, *imgur_, base_url_,
                                          [this] { return loop_.stats(); });
  loop_.set_handler(
      [routes = routes_.get()](const HttpRequest& req) { return routes->answer(req); });
}

ImageServer::ImageServer(ServeConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}

ImageServer::~ImageServer() {
  impl_->loop_.stop();
  if (impl_->thread_.joinable()) impl_->thread_.join();
}

std::uint16_t ImageServer::port() const {
  return impl_->loop_.port();
}

std::string ImageServer::base_url() const {
  return impl_->base_url_;
}

void ImageServer::run() {
  impl_->loop_.run();
}

void ImageServer::start_in_thread() {
  impl_->thread_ = std::jthread([loop = &impl_->loop_] { loop->run(); });
}

void ImageServer::stop() {
  impl_->loop_.stop();
}

ServerStats ImageServer::stats() const {
  return impl_->loop_.stats();
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
