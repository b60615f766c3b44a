#pragma once
// A contact sheet: thumbnails on a grid, each fitted into a 128x128 box and centred in a
// 136x136 grey cell, as one JPEG, so a person can see at a glance what a run produced.

#include <filesystem>
#include <string>
#include <vector>

#include "thumbfetch/util/error.hpp"

namespace thumbfetch {

inline constexpr int kContactCell = 136;   // pixels, square
inline constexpr int kContactAcross = 8;   // cells per row at most
inline constexpr int kContactLimit = 200;  // thumbnails shown at most (the first ones)

struct ContactSheet {
  std::vector<unsigned char> jpeg;  // empty when no thumbnail could be read
  int width = 0, height = 0;
  int shown = 0;              // thumbnails on the sheet
  int unreadable = 0;         // left out because libvips could not read them
  std::string first_problem;  // "PATH: reason" for the first unreadable one
};

// The sheet of the first kContactLimit `thumbnails`, in order. An unreadable thumbnail is
// counted and left out; the others still make the sheet. An empty list gives an empty sheet.
// Fails (ErrorKind::internal) only when the sheet itself cannot be encoded.
Result<ContactSheet> make_contact_sheet(const std::vector<std::filesystem::path>& thumbnails);

}  // namespace thumbfetch
