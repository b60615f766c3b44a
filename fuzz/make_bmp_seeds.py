#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_bmp: one tiny BMP per variant our decoder reads.

    python3 fuzz/make_bmp_seeds.py fuzz/corpus/bmp

Deterministic (the same bytes every time); only the standard library. Each file is a 7x5 image
(odd width, so rows carry padding) with a pattern, in: 1/2/4/8-bit palette, a grey palette,
RLE8, RLE4, 16-bit 555 and 565, 24-bit bottom-up and top-down, 32-bit BGRX and BGRA bit fields
(V5 header), alpha bit fields after a 40-byte header, OS/2 1.x and 2.x headers.
"""
import os
import struct
import sys

W, H = 7, 5


def palette(n, grey=False):
    if grey:
        return [(v, v, v) for v in (range(n) if n > 2 else (0, 255))]
    return [((30 + 25 * i) % 256, (200 - 11 * i) % 256, (i * 97) % 256) for i in range(n)]


def rows(bits, top_down, value):
    stride = (W * bits + 31) // 32 * 4
    out = b""
    for r in range(H):
        y = r if top_down else H - 1 - r
        row = bytearray(stride)
        for x in range(W):
            v = value(x, y)
            if bits < 8:
                per = 8 // bits
                row[x // per] |= v << (8 - bits * (1 + x % per))
            else:
                row[x * bits // 8:(x + 1) * bits // 8] = v.to_bytes(bits // 8, "little")
        out += bytes(row)
    return out


def bmp(bits, pixels, header=40, compression=0, pal=(), masks=None, top_down=False):
    if header == 12:
        info = struct.pack("<IHHHH", 12, W, H, 1, bits)
    else:
        info = struct.pack("<IiiHHIIiiII", header, W, -H if top_down else H, 1, bits,
                           compression, len(pixels), 2835, 2835, len(pal), 0)
        if masks and header >= 56:
            info += struct.pack("<4I", *masks)
        info = info.ljust(header, b"\0")
    extra = b""
    if masks and header == 40:
        extra = struct.pack(f"<{4 if compression == 6 else 3}I", *masks[:4 if compression == 6 else 3])
    entry = 3 if header == 12 else 4
    table = b"".join(bytes((b, g, r)) + (b"" if entry == 3 else b"\0") for r, g, b in pal)
    offset = 14 + len(info) + len(extra) + len(table)
    head = b"BM" + struct.pack("<IHHI", offset + len(pixels), 0, 0, offset)
    return head + info + extra + table + pixels


def pack(masks):
    def value(x, y):
        rgba = ((50 * x + 7) % 256, (60 * y + 20) % 256, (70 * x + 45 * y) % 256, (40 * x + 9) % 256)
        v = 0
        for c, m in zip(rgba, masks):
            if m:
                shift = (m & -m).bit_length() - 1
                v |= (c >> (8 - bin(m).count("1"))) << shift
        return v
    return value


def seeds():
    idx = lambda n: (lambda x, y: (x + 3 * y) % n)
    rle8 = (b"\x03\x01\x00\x03\x05\x06\x07\x00\x01\x02\x00\x00"
            b"\x00\x02\x02\x00\x05\x02\x00\x00" b"\x09\x03\x00\x00" b"\x07\x04\x00\x00" b"\x00\x01")
    rle4 = (b"\x02\x12\x00\x05\x34\x56\x70\x00\x00\x00" b"\x07\x67\x00\x00"
            b"\x00\x02\x02\x01\x05\x88\x00\x00" b"\x07\x9a\x00\x01")
    s555 = (0x7C00, 0x3E0, 0x1F, 0)
    s565 = (0xF800, 0x7E0, 0x1F, 0)
    bgr = (0xFF0000, 0xFF00, 0xFF, 0)
    bgra = (0xFF0000, 0xFF00, 0xFF, 0xFF000000)
    return {
        "pal1.bmp": bmp(1, rows(1, False, idx(2)), pal=palette(2)),
        "pal2.bmp": bmp(2, rows(2, False, idx(4)), pal=palette(4)),
        "pal4.bmp": bmp(4, rows(4, False, idx(16)), pal=palette(16)),
        "pal8.bmp": bmp(8, rows(8, False, idx(20)), pal=palette(20)),
        "grey8.bmp": bmp(8, rows(8, False, idx(20)), pal=palette(20, grey=True)),
        "rle8.bmp": bmp(8, rle8, compression=1, pal=palette(8)),
        "rle4.bmp": bmp(4, rle4, compression=2, pal=palette(16)),
        "rgb555.bmp": bmp(16, rows(16, False, pack(s555))),
        "rgb565.bmp": bmp(16, rows(16, False, pack(s565)), compression=3, masks=s565),
        "bgr24.bmp": bmp(24, rows(24, False, pack(bgr))),
        "bgr24_topdown.bmp": bmp(24, rows(24, True, pack(bgr)), top_down=True),
        "bgrx32.bmp": bmp(32, rows(32, False, pack(bgra))),
        "bgra32_v5.bmp": bmp(32, rows(32, False, pack(bgra)), header=124, compression=3, masks=bgra),
        "bgra32_alphabitfields.bmp": bmp(32, rows(32, False, pack(bgra)), compression=6, masks=bgra),
        "os2v1_pal8.bmp": bmp(8, rows(8, False, idx(20)), header=12, pal=palette(20)),
        "os2v1_bgr24.bmp": bmp(24, rows(24, False, pack(bgr)), header=12),
        "os2v2_pal4.bmp": bmp(4, rows(4, False, idx(16)), header=64, pal=palette(16)),
    }


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "bmp")
    os.makedirs(out, exist_ok=True)
    for name, data in seeds().items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
