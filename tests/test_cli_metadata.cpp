// Metadata kept (issue 10, point 4): the manifest rows of an Imgur run carry what the API said of
// each item, and thumbnail results carry the source's and the thumbnail's dimensions. Also the
// versions `--version` reports (point 5).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "support/image_fixtures.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"
#include "thumbfetch/fetch/manifest.hpp"
#include "thumbfetch/job/thumbs_manifest.hpp"
#include "thumbfetch/serve/image_server.hpp"

using namespace thumbfetch;
using namespace thumbfetch::test;
namespace fs = std::filesystem;

TEST(CliMetadata, ImgurRowsCarryWhatTheApiSaid) {
  ServeConfig c;
  c.generate = 20;
  c.spec.min_side = 48;
  c.spec.max_side = 96;
  ImageServer server(c);
  server.start_in_thread();
  TempDir tmp;
  auto r =
      run_thumbfetch({"fetch", "--imgur", "--imgur-api", server.base_url(), "--imgur-client-id",
                      "test-client-id", "-n", "100", "-o", (tmp / "out").string(), "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = load_manifest(tmp / "out");
  ASSERT_FALSE(rows.empty());
  int in_albums = 0;
  for (const ManifestRow& row : rows) {
    SCOPED_TRACE(row.url);
    // The API's id is the link's name; type, width and height as it gave them.
    EXPECT_EQ(fs::path(row.url).stem().string(), row.source.id);
    EXPECT_EQ(row.source.type, row.content_type);
    EXPECT_GT(row.source.width, 0);
    EXPECT_GT(row.source.height, 0);
    if (!row.source.album_id.empty())
      ++in_albums;
    else
      EXPECT_NE(row.source.title, "");  // gallery images have a title, album images none
  }
  EXPECT_GT(in_albums, 0) << "the look-alike's gallery has albums within 100 items";

  // The streamed pipeline keeps them too.
  r = run_thumbfetch({"run", "--imgur", "--imgur-api", server.base_url(), "--imgur-client-id",
                      "test-client-id", "-n", "3", "-o", (tmp / "run").string(), "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(tmp / "run" / "run.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j.at("source").at("id"), fs::path(j.at("url").get<std::string>()).stem().string());
  EXPECT_GT(j.at("source").at("width").get<int>(), 0);
  // The API's width is the image's: the thumbnailer read the same from the file.
  EXPECT_EQ(j.at("source_width"), j.at("source").at("width"));
  EXPECT_EQ(j.at("source_height"), j.at("source").at("height"));
}

TEST(CliMetadata, ThumbnailResultsCarrySourceAndOutputDimensions) {
  TempDir tmp;
  fs::create_directories(tmp / "in");
  write_quadrant_jpeg(tmp / "in" / "a.jpg", 400, 300);
  write_quadrant_png(tmp / "in" / "b.png", 300, 600);
  for (const std::string strategy : {"threads", "processes"}) {
    SCOPED_TRACE(strategy);
    const fs::path out = tmp / strategy;
    auto r = run_thumbfetch({"thumbs", (tmp / "in").string(), "-o", out.string(), "--strategy",
                             strategy, "--json", "-"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto report = nlohmann::json::parse(r.out);
    std::map<std::string, std::array<int, 4>> dims;
    for (const auto& item : report.at("items")) {
      dims[fs::path(item.at("input").get<std::string>()).filename().string()] = {
          item.at("source_width"), item.at("source_height"), item.at("width"), item.at("height")};
    }
    EXPECT_EQ(dims["a.jpg"], (std::array<int, 4>{400, 300, 128, 96}));
    EXPECT_EQ(dims["b.png"], (std::array<int, 4>{300, 600, 64, 128}));
    for (const ThumbsRow& row : load_thumbs_manifest(out)) {
      EXPECT_GT(row.source_width, row.width) << row.input;
      EXPECT_GT(row.source_height, row.height) << row.input;
    }
  }
}

TEST(CliMetadata, VersionNamesTheLibraries) {
  auto r = run_thumbfetch({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* lib : {"thumbfetch 0.1", "libvips 8.", "libjpeg-turbo 2.", "libcurl 7.",
                          "libspng 0.", "libdeflate 1.", "fmt ", "CLI11 "}) {
    EXPECT_NE(r.out.find(lib), std::string::npos) << lib << " in:\n" << r.out;
  }
}
