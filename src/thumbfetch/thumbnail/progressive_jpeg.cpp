#include "thumbfetch/thumbnail/progressive_jpeg.hpp"

// jpeglib.h needs FILE and size_t declared before it.
#include <algorithm>
#include <csetjmp>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>

#include <jpeglib.h>
// jerror.h after jpeglib.h: the JWRN_ codes.
#include <jerror.h>

#include <fmt/format.h>

namespace thumbfetch {

namespace {

// TurboJPEG's TJFLAG_LIMITSCANS bound: a hostile file of thousands of tiny scans costs
// quadratic time.
constexpr int kMaxScans = 500;

// More marker segments than any real JPEG has: the walk gives up (and the file is decoded whole)
// rather than list millions of 4-byte comments.
constexpr size_t kMaxSegments = 4096;

// The natural (row-major) position of each zigzag index.
constexpr int kNaturalOrder[64] = {0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,
                                   12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6,  7,  14, 21, 28,
                                   35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
                                   58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63};

// ---- walking the marker structure ------------------------------------------------------------

unsigned byte_at(std::string_view s, size_t i) {
  return static_cast<unsigned char>(s[i]);
}

// Where the entropy-coded data that starts at `at` ends: at the first marker (0xFF, any fill
// 0xFF bytes, then neither 0x00, which is a stuffed data byte, nor a restart marker).
// npos when the data runs to the end of the file.
size_t end_of_entropy_data(std::string_view jpeg, size_t at) {
  const char* const base = jpeg.data();
  while (at < jpeg.size()) {
    const void* ff = std::memchr(base + at, 0xFF, jpeg.size() - at);
    if (ff == nullptr) return std::string_view::npos;
    const size_t p = static_cast<size_t>(static_cast<const char*>(ff) - base);
    size_t q = p + 1;
    while (q < jpeg.size() && byte_at(jpeg, q) == 0xFF) ++q;
    if (q >= jpeg.size()) return std::string_view::npos;
    const unsigned next = byte_at(jpeg, q);
    if (next != 0x00 && (next < 0xD0 || next > 0xD7)) return p;
    at = q + 1;
  }
  return std::string_view::npos;
}

// Reads a scan header (SOS segment at `at`, `length` bytes after the marker). False if malformed.
bool read_scan_header(std::string_view jpeg, size_t at, size_t length, JpegSegment& scan) {
  if (length < 6) return false;
  scan.components = static_cast<int>(byte_at(jpeg, at + 4));
  if (scan.components < 1 || scan.components > 4 ||
      length != 6 + 2 * static_cast<size_t>(scan.components)) {
    return false;
  }
  for (int i = 0; i < scan.components; ++i) {
    scan.component_ids[i] = static_cast<int>(byte_at(jpeg, at + 5 + 2 * i));
  }
  const size_t p = at + 5 + 2 * static_cast<size_t>(scan.components);
  scan.ss = static_cast<int>(byte_at(jpeg, p));
  scan.se = static_cast<int>(byte_at(jpeg, p + 1));
  scan.ah = static_cast<int>(byte_at(jpeg, p + 2) >> 4);
  scan.al = static_cast<int>(byte_at(jpeg, p + 2) & 15);
  return scan.ss <= scan.se && scan.se < 64;
}

}  // namespace

JpegLayout walk_jpeg(std::string_view jpeg) {
  JpegLayout layout;
  if (jpeg.size() < 2 || byte_at(jpeg, 0) != 0xFF || byte_at(jpeg, 1) != 0xD8) {
    layout.clean = false;
    return layout;
  }
  size_t at = 2;
  while (at + 2 <= jpeg.size()) {
    if (byte_at(jpeg, at) != 0xFF) {  // stray bytes: libjpeg skips them with a warning
      layout.clean = false;
      return layout;
    }
    if (byte_at(jpeg, at + 1) == 0xFF) {  // a fill byte before the marker
      ++at;
      continue;
    }
    const unsigned marker = byte_at(jpeg, at + 1);
    if (marker == 0xD9) {
      layout.eoi = at;
      layout.complete = true;
      return layout;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0xD8) {
      layout.clean = false;  // no segment of its own here: leave such files to libjpeg
      return layout;
    }
    if (at + 4 > jpeg.size()) break;
    const size_t length = (byte_at(jpeg, at + 2) << 8) | byte_at(jpeg, at + 3);
    if (length < 2) {
      layout.clean = false;
      return layout;
    }
    if (at + 2 + length > jpeg.size()) break;
    if (layout.segments.size() >= kMaxSegments) {  // a file of tiny segments: no list of them
      layout.clean = false;
      return layout;
    }
    JpegSegment segment{.begin = at, .end = at + 2 + length};
    if (marker == 0xDA) {
      segment.scan = true;
      if (!read_scan_header(jpeg, at, length, segment)) {
        layout.clean = false;
        return layout;
      }
      const size_t end = end_of_entropy_data(jpeg, segment.end);
      segment.end = end == std::string_view::npos ? jpeg.size() : end;
      layout.segments.push_back(segment);
      if (end == std::string_view::npos) break;
    } else {
      layout.segments.push_back(segment);
    }
    at = segment.end;
  }
  return layout;  // cut: not complete
}

namespace {

// ---- choosing the scans ----------------------------------------------------------------------

struct Component {
  int id = 0;
  bool subsampled = false;  // fewer samples than the largest component: enlarged on output
  int n = 8;                // its scaled IDCT is n x n: the corner it reads
  int bits[64];             // like libjpeg's coef_bits: -1 not seen, else the bits still missing
};

bool in_corner(const Component& c, int zigzag) {
  const int natural = kNaturalOrder[zigzag];
  return natural / 8 < c.n && natural % 8 < c.n;
}

// Whether to decode `scan`, given what the kept scans so far brought (see the header).
bool keep_scan(const JpegSegment& scan, const std::vector<Component*>& in_scan) {
  const bool dc = scan.ss == 0;
  if (scan.ah == 0) {  // a first pass
    for (const Component* c : in_scan) {
      if (dc || c->subsampled) return true;
      for (int k = scan.ss; k <= scan.se; ++k) {
        if (c->bits[kNaturalOrder[k]] < 0 && in_corner(*c, k)) return true;
      }
    }
    return false;
  }
  // A refinement: only of DC or a subsampled component, and only where every earlier pass of
  // its band was kept (else libjpeg would see an inconsistent progression).
  for (const Component* c : in_scan) {
    if (!dc && !c->subsampled) return false;
    for (int k = scan.ss; k <= scan.se; ++k) {
      if (c->bits[kNaturalOrder[k]] != scan.ah) return false;
    }
  }
  return true;
}

struct Span {
  size_t begin = 0, end = 0;
};

// Appends [begin, end) to `spans`, merged with the last span when they touch, unless that one
// is the first (libjpeg has it already).
void add_span(std::vector<Span>& spans, size_t begin, size_t end) {
  if (spans.size() > 1 && spans.back().end == begin) {
    spans.back().end = end;
  } else {
    spans.push_back({begin, end});
  }
}

// The spans after the first scan, for a decompressor whose output size is set.
void plan_spans(const jpeg_decompress_struct& cinfo, const JpegLayout& layout, size_t first_scan,
                std::vector<Span>& spans) {
  std::vector<Component> components(static_cast<size_t>(cinfo.num_components));
  for (int i = 0; i < cinfo.num_components; ++i) {
    const jpeg_component_info& info = cinfo.comp_info[i];
    Component& c = components[static_cast<size_t>(i)];
    c.id = info.component_id;
    c.subsampled = info.h_samp_factor < cinfo.max_h_samp_factor ||
                   info.v_samp_factor < cinfo.max_v_samp_factor;
    c.n = std::min(info.DCT_scaled_size, DCTSIZE);
    std::fill(std::begin(c.bits), std::end(c.bits), -1);
  }
  std::vector<Component*> in_scan;
  for (size_t i = first_scan; i < layout.segments.size(); ++i) {
    const JpegSegment& segment = layout.segments[i];
    if (segment.scan) {
      in_scan.clear();
      for (int k = 0; k < segment.components; ++k) {
        for (Component& c : components) {
          if (c.id == segment.component_ids[k]) in_scan.push_back(&c);
        }
      }
      // The first scan is in the first span already: it is always kept (it is a DC scan).
      if (i != first_scan && !keep_scan(segment, in_scan)) continue;
      for (Component* c : in_scan) {
        for (int k = segment.ss; k <= segment.se; ++k) c->bits[kNaturalOrder[k]] = segment.al;
      }
    }
    if (i != first_scan) add_span(spans, segment.begin, segment.end);
  }
  if (layout.complete) add_span(spans, layout.eoi, layout.eoi + 2);
}

// ---- libjpeg: errors, source, decode ---------------------------------------------------------

// libjpeg reports a fatal error by calling error_exit, which must not return: it longjmps back
// to the setjmp in run_decode. Warnings go to emit_message; the first one is kept, as
// TurboJPEG keeps it.
struct ErrorManager {
  jpeg_error_mgr pub;  // first: libjpeg hands out a pointer to it
  std::jmp_buf jump;
  char first_warning[JMSG_LENGTH_MAX];
  char fatal[JMSG_LENGTH_MAX];
  int warnings;
};

ErrorManager& manager_of(j_common_ptr cinfo) {
  return *reinterpret_cast<ErrorManager*>(cinfo->err);
}

[[noreturn]] void on_error_exit(j_common_ptr cinfo) {
  ErrorManager& err = manager_of(cinfo);
  (*cinfo->err->format_message)(cinfo, err.fatal);
  std::longjmp(err.jump, 1);
}

void on_emit_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;  // trace messages
  ErrorManager& err = manager_of(cinfo);
  if (err.warnings++ == 0) (*cinfo->err->format_message)(cinfo, err.first_warning);
  ++cinfo->err->num_warnings;
}

// Hands libjpeg the kept spans of the file, in order, without copying; after the last, a fake
// EOI with libjpeg's own "Premature end of JPEG file" warning (as jpeg_mem_src does).
struct SpanSource {
  jpeg_source_mgr pub;  // first: libjpeg hands out a pointer to it
  const unsigned char* data;
  const std::vector<Span>* spans;
  size_t next;
};

void source_init(j_decompress_ptr) {}
void source_term(j_decompress_ptr) {}

boolean source_fill(j_decompress_ptr cinfo) {
  static const JOCTET kFakeEoi[2] = {0xFF, JPEG_EOI};
  auto* src = reinterpret_cast<SpanSource*>(cinfo->src);
  if (src->next < src->spans->size()) {
    const Span& span = (*src->spans)[src->next++];
    src->pub.next_input_byte = src->data + span.begin;
    src->pub.bytes_in_buffer = span.end - span.begin;
    return TRUE;
  }
  WARNMS(cinfo, JWRN_JPEG_EOF);
  src->pub.next_input_byte = kFakeEoi;
  src->pub.bytes_in_buffer = 2;
  return TRUE;
}

void source_skip(j_decompress_ptr cinfo, long count) {
  jpeg_source_mgr* src = cinfo->src;
  if (count <= 0) return;
  auto remaining = static_cast<size_t>(count);
  while (remaining > src->bytes_in_buffer) {
    remaining -= src->bytes_in_buffer;
    (*src->fill_input_buffer)(cinfo);
  }
  src->next_input_byte += remaining;
  src->bytes_in_buffer -= remaining;
}

// One decompressor, destroyed whatever happened (jpeg_destroy_decompress is a no-op on a
// zeroed struct, so a failure inside jpeg_create_decompress is safe too).
struct Session {
  jpeg_decompress_struct cinfo;
  ErrorManager err;
  SpanSource source;

  Session() {
    std::memset(&cinfo, 0, sizeof cinfo);
    std::memset(&err, 0, sizeof err);
    std::memset(&source, 0, sizeof source);
    cinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = on_error_exit;
    err.pub.emit_message = on_emit_message;
    source.pub.init_source = source_init;
    source.pub.fill_input_buffer = source_fill;
    source.pub.skip_input_data = source_skip;
    source.pub.resync_to_restart = jpeg_resync_to_restart;
    source.pub.term_source = source_term;
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session() { jpeg_destroy_decompress(&cinfo); }
};

// What the decode is given and what it saw.
struct Job {
  const JpegLayout* layout = nullptr;
  size_t first_scan = 0;  // index of the first scan in layout->segments
  bool filter = false;    // hand libjpeg only the kept scans (else the whole file)
  std::vector<Span>* spans = nullptr;
  int eighths = 8;
  bool grey = false;
  int scans = 0;
  bool too_many_scans = false;
};

// Every libjpeg call of the decode is here, and nothing with a destructor lives in this frame:
// error_exit longjmps into it. Returns false after a fatal libjpeg error (its text in
// session.err.fatal).
bool run_decode(Session& session, Job& job, Pixels& out, JSAMPROW* rows) {
  jpeg_decompress_struct& cinfo = session.cinfo;
  if (setjmp(session.err.jump)) return false;
  jpeg_create_decompress(&cinfo);
  cinfo.src = &session.source.pub;
  jpeg_read_header(&cinfo, TRUE);
  // TurboJPEG's defaults, so that decoding every scan gives its pixels exactly.
  cinfo.scale_num = static_cast<unsigned>(job.eighths);
  cinfo.scale_denom = 8;
  cinfo.out_color_space = job.grey ? JCS_GRAYSCALE : JCS_EXT_RGB;
  cinfo.dct_method = JDCT_ISLOW;
  // No estimating of the low AC terms from the neighbouring blocks' DC (JPEG spec K.8, libjpeg's
  // default when coefficients are missing): measured on the corpus, it moves the thumbnail by
  // 0.01 of 255 on average and costs a quarter of the decode time. (With every scan in, libjpeg
  // never smooths anyway.)
  cinfo.do_block_smoothing = FALSE;
  cinfo.buffered_image = TRUE;  // to count the scans as they come
  jpeg_calc_output_dimensions(&cinfo);
  if (job.filter) plan_spans(cinfo, *job.layout, job.first_scan, *job.spans);
  jpeg_start_decompress(&cinfo);
  if (cinfo.output_width != static_cast<JDIMENSION>(out.width) ||
      cinfo.output_height != static_cast<JDIMENSION>(out.height) ||
      cinfo.output_components != out.bands || !cinfo.progressive_mode) {
    std::snprintf(session.err.fatal, sizeof session.err.fatal, "not the layout its header has");
    return false;
  }
  for (;;) {
    const int status = jpeg_consume_input(&cinfo);
    if (status == JPEG_REACHED_EOI || status == JPEG_SUSPENDED) break;
    if (status == JPEG_REACHED_SOS && ++job.scans > kMaxScans) {
      job.too_many_scans = true;
      return false;
    }
  }
  jpeg_start_output(&cinfo, cinfo.input_scan_number);
  for (int y = 0; y < out.height; ++y) rows[y] = out.row(y);
  while (cinfo.output_scanline < cinfo.output_height) {
    jpeg_read_scanlines(&cinfo, rows + cinfo.output_scanline,
                        cinfo.output_height - cinfo.output_scanline);
  }
  jpeg_finish_output(&cinfo);
  jpeg_abort_decompress(&cinfo);
  return true;
}

// True when the last scan of `jpeg` is followed by an EOI marker (for files the walk gave up on).
bool ends_after_last_scan(std::string_view jpeg) {
  const size_t sos = jpeg.rfind("\xFF\xDA");
  if (sos == std::string_view::npos || sos + 4 > jpeg.size()) return false;
  const size_t length = (byte_at(jpeg, sos + 2) << 8) | byte_at(jpeg, sos + 3);
  const size_t end = end_of_entropy_data(jpeg, std::min(jpeg.size(), sos + 2 + length));
  if (end == std::string_view::npos) return false;
  size_t marker = end + 1;
  while (marker < jpeg.size() && byte_at(jpeg, marker) == 0xFF) ++marker;  // fill bytes
  return marker < jpeg.size() && byte_at(jpeg, marker) == 0xD9;
}

bool is_truncation_text(std::string_view message) {
  return message.find("Premature end") != std::string_view::npos ||
         message.find("missing SOS marker") != std::string_view::npos;
}

}  // namespace

Result<Pixels> decode_progressive_jpeg(std::string_view jpeg, const JpegHeader& header, int eighths,
                                       ProgressiveScans scans, bool allow_truncated) {
  const JpegLayout layout = walk_jpeg(jpeg);
  const auto scan_count = std::count_if(layout.segments.begin(), layout.segments.end(),
                                        [](const JpegSegment& s) { return s.scan; });
  if (scan_count > kMaxScans) {
    return make_error(ErrorKind::corrupt,
                      fmt::format("corrupt JPEG data: more than {} scans", kMaxScans));
  }
  Job job;
  job.layout = &layout;
  job.eighths = eighths;
  job.grey = header.grey;
  // The first span runs to the end of the first scan: it holds every table the header needs.
  std::vector<Span> spans;
  for (size_t i = 0; i < layout.segments.size(); ++i) {
    if (layout.segments[i].scan) {
      job.first_scan = i;
      job.filter = layout.clean && scans == ProgressiveScans::needed;
      break;
    }
  }
  spans.push_back({0, job.filter ? layout.segments[job.first_scan].end : jpeg.size()});
  job.spans = &spans;

  Pixels out((header.width * eighths + 7) / 8, (header.height * eighths + 7) / 8,
             header.grey ? 1 : 3);
  std::vector<JSAMPROW> rows(static_cast<size_t>(out.height));
  Session session;
  session.source.data = reinterpret_cast<const unsigned char*>(jpeg.data());
  session.source.spans = &spans;
  if (!run_decode(session, job, out, rows.data())) {
    if (job.too_many_scans) {
      return make_error(ErrorKind::corrupt,
                        fmt::format("corrupt JPEG data: more than {} scans", kMaxScans));
    }
    const std::string why = session.err.fatal;
    if (is_truncation_text(why)) return make_error(ErrorKind::truncated, "truncated JPEG: " + why);
    return make_error(ErrorKind::corrupt, "corrupt JPEG data: " + why);
  }
  // Cut inside a scan that was read: libjpeg says so ("Premature end of JPEG file"), unless an
  // earlier warning took its place (libjpeg keeps only the first). Cut anywhere: the walk did
  // not reach EOI. (A file the walk gave up on was read whole, so libjpeg's word and the walk's
  // view of its end are all there is.)
  const bool warned_of_end =
      session.err.warnings > 0 && is_truncation_text(session.err.first_warning);
  const bool truncated = warned_of_end || (layout.clean && !layout.complete) ||
                         (!layout.clean && session.err.warnings > 0 && !ends_after_last_scan(jpeg));
  if (truncated && !allow_truncated) {
    return make_error(ErrorKind::truncated,
                      "truncated JPEG: the data ends before the image does "
                      "(--allow-truncated keeps what decodes)");
  }
  // Other warnings (extraneous bytes, a bad restart marker) still give a usable image, as in
  // Pillow and every browser.
  return out;
}

}  // namespace thumbfetch
