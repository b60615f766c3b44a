#pragma once
// Small, real media files made without any codec library, for the Imgur-like API: animated GIFs
// (so "animated" items are true animations a client can recognise by magic bytes) and a
// stand-in MP4 for the `mp4` links. Same arguments, same bytes.

#include <cstdint>
#include <string>

namespace thumbfetch {

// A looping animated GIF89a of `frames` frames (at least 2), width x height pixels (1..512),
// colours drawn from `seed`. Uncompressed LZW (a clear code every 254 codes) keeps the encoder
// trivial; the files are a few KB at the sizes used.
std::string make_animated_gif(int width, int height, int frames, std::uint64_t seed);

// Bytes that start like an MP4 file (an `ftyp` box) followed by `size` - 32 filler bytes. Not
// playable: only a client's type check ever looks at it.
std::string make_fake_mp4(std::size_t size);

// The first bytes of a baseline JPEG (SOI + JFIF APP0): a body that "looks like" a JPEG to a
// magic-byte check. Used for the oversized-body fault.
std::string jpeg_preamble();

}  // namespace thumbfetch
