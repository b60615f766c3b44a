#pragma once
// Progressive JPEGs through libjpeg's own API (jpeglib.h of libjpeg-turbo), decoding only the
// scans a DCT-scaled output needs.
//
// A progressive JPEG sends its coefficients in scans: the DC term of every block (often without
// its last bit), then bands of AC terms at reduced precision, then refinements that add one bit
// at a time. A decoder scaled to N/8 runs an NxN inverse DCT, which reads mostly the NxN lowest
// frequencies of each block; most of the file's bytes, and of its Huffman decoding time, are in
// scans that add precision to luma AC terms the scaled and then resampled image hardly shows.
// TurboJPEG's tj API always decodes every scan, hence libjpeg's API and a source manager that
// hands libjpeg only the scans that are kept (the others are skipped unread, which libjpeg's
// buffered-image mode cannot do: it must Huffman-decode each scan to find the next).
//
// Which scans are kept (chosen by measuring the final thumbnails against a full decode on the
// benchmark corpus' progressive JPEGs, bench/README.md):
//  - every DC scan, first pass and refinements (about a bit per block: cheap, and a missing DC
//    bit shifts whole blocks' colour);
//  - every scan of a subsampled (chroma) component: small, and enlarged twice on output;
//  - the first pass of every band that brings a luma coefficient of the NxN corner not yet seen;
//  - no luma AC refinement, and no band that lies wholly outside the NxN corner;
//  - no block smoothing (estimating the missing AC terms from the neighbours' DC).
// The thumbnails differ from those of a full decode by 0.84 of 255 on average (at most 2.8), and
// are made about 2.5x faster.
// A file whose structure cannot be walked cleanly is decoded whole.

#include <cstddef>
#include <string_view>
#include <vector>

#include "thumbfetch/thumbnail/options.hpp"
#include "thumbfetch/thumbnail/pixels.hpp"
#include "thumbfetch/thumbnail/turbojpeg.hpp"
#include "thumbfetch/util/error.hpp"

namespace thumbfetch {

// Decodes a progressive JPEG at `eighths`/8 of its size (1..8), to RGB or grey as `header`
// says, from the scans `scans` asks for. A file that is cut (in a scan that is read, or in one
// that is skipped) fails unless `allow_truncated`, which keeps what decoded. Other libjpeg
// warnings are tolerated; each call uses a fresh decompressor.
Result<Pixels> decode_progressive_jpeg(std::string_view jpeg, const JpegHeader& header, int eighths,
                                       ProgressiveScans scans, bool allow_truncated);

// The marker structure of a JPEG, walked without decoding.
struct JpegSegment {
  size_t begin = 0, end = 0;  // the marker, its segment and, for a scan, its entropy-coded data
  bool scan = false;
  int components = 0;  // scan only: how many, and their ids
  int component_ids[4] = {};
  int ss = 0, se = 0, ah = 0, al = 0;  // scan only: spectral band (zigzag) and bit positions
};
struct JpegLayout {
  std::vector<JpegSegment> segments;  // from after SOI to before EOI
  size_t eoi = 0;                     // where EOI is, when `complete`
  bool complete = false;              // the walk reached EOI: no segment or scan is cut
  bool clean = true;  // false: something the walk does not understand (then decode whole)
};
JpegLayout walk_jpeg(std::string_view jpeg);

}  // namespace thumbfetch
