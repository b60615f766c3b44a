#!/usr/bin/env python3
"""Writes the seed corpora fuzz/corpus/<target>/ (committed; re-run to regenerate them).

The seeds are tiny and made here: hand-written texts, and 16x12 images that `vips` makes from
noise (so `vips` is needed only to regenerate). A fuzz target's first input byte, where it has
one, picks options: the seeds give it a few values.
"""
import pathlib
import struct
import subprocess
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent / "corpus"


def put(target, name, data):
    folder = ROOT / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def exif_block(big_endian, orientation):
    e = ">" if big_endian else "<"
    tiff = (b"MM\0*" if big_endian else b"II*\0") + struct.pack(e + "I", 8)
    tiff += struct.pack(e + "H", 1) + struct.pack(e + "HHIHH", 0x0112, 3, 1, orientation, 0)
    tiff += struct.pack(e + "I", 0)
    return b"Exif\0\0" + tiff


def with_app1(jpeg, payload):
    return jpeg[:2] + b"\xFF\xE1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def icc_app2(description):
    profile = b"\0" * 128 + b"desc" + description.encode()
    payload = b"ICC_PROFILE\0\x01\x01" + profile
    return b"\xFF\xE2" + struct.pack(">H", len(payload) + 2) + payload


def make_images():
    images = {}
    with tempfile.TemporaryDirectory() as tmp:
        t = pathlib.Path(tmp)
        run = lambda *args: subprocess.run(["vips", *args], check=True, cwd=t)
        run("gaussnoise", "n.v", "16", "12")
        run("cast", "n.v", "g.v", "uchar")
        run("bandjoin", "g.v g.v g.v", "rgb.v")
        run("bandjoin", "rgb.v g.v", "rgba.v")
        for out, src in [("rgb.jpg[Q=50,strip]", "rgb.v"), ("prog.jpg[Q=50,interlace,strip]", "rgb.v"),
                         ("grey.jpg[Q=50,strip]", "g.v"), ("rgb.png", "rgb.v"),
                         ("rgba.png", "rgba.v"), ("grey.png", "g.v"), ("rgb.gif", "rgb.v"),
                         ("rgba.webp", "rgba.v"), ("rgb.tif", "rgb.v")]:
            run("copy", src, out)
            name = out.split("[")[0]
            images[name] = (t / name).read_bytes()
    return images


def main():
    img = make_images()
    jpeg = img["rgb.jpg"]
    rotated = with_app1(jpeg, exif_block(True, 6))

    # URL lists.
    put("url_list", "plain.txt", "https://example.com/a.jpg\nhttp://example.com/b.png\n")
    put("url_list", "mixed.txt", "\ufeff# comment\n\n  https://EXAMPLE.com:443/x/../y.jpg?q=1#f  \n"
        "ftp://example.com/a\nhttps://example.com/a b\nhttps:///nohost\n"
        "https://example.com/a.jpg\nhttp://[::1]:8080/%41.jpg\n")
    # URLs for names.
    for i, url in enumerate(["https://example.com/photos/cat.jpg",
                             "https://example.com/a/..%2F..%2Fetc%2Fpasswd",
                             "http://h/%2e%2e/%00x/.hidden.png?x=1#y", "https://h/-rf%20.jpg",
                             "https://h/" + "x" * 300 + ".jpg", "https://h/a\\b\\..\\c.JPG",
                             "https://h/%C3%A9t%C3%A9.jpeg", "https://h/"]):
        put("url_name", f"url{i}", url)
    # Imgur pages: flags byte, then NUL-separated answer bodies.
    gallery = ('{"data":[{"type":"image/jpeg","link":"https://i.imgur.com/a.jpg"},'
               '{"type":"image/gif","animated":true,"link":"https://i.imgur.com/b.gif"},'
               '{"is_album":true,"id":"alb","images":[{"type":"image/png",'
               '"link":"https://i.imgur.com/c.png","nsfw":false}]},'
               '{"is_album":true,"id":"ask","nsfw":true},'
               '{"type":"image/webp","link":"http://i.imgur.com/d.webp","nsfw":true}],'
               '"success":true,"status":200}')
    album = '{"data":[{"type":"image/jpeg","link":"https://i.imgur.com/e.jpg"}]}'
    put("imgur_page", "gallery", b"\x00" + gallery.encode() + b"\0" + b"{\"data\":[]}")
    put("imgur_page", "album", b"\x18" + gallery.encode() + b"\0" + album.encode() + b"\0{\"data\":[]}")
    put("imgur_page", "limited", b"\x43" + gallery.encode())
    put("imgur_page", "error", b"\x00" + b'{"data":{"error":"over capacity"},"status":403}')
    # Heads for the sniffer.
    for name, data in img.items():
        put("sniff", name, data[:32])
    put("sniff", "html", "<!DOCTYPE html><html><body>not found</body></html>")
    put("sniff", "pdf", "%PDF-1.7\n")
    put("sniff", "avif", b"\0\0\0\x1cftypavif\0\0\0\0")
    put("sniff", "bmp", b"BM" + b"\0" * 14)
    # JPEG markers and EXIF.
    put("jpeg_markers", "plain.jpg", jpeg)
    put("jpeg_markers", "exif6.jpg", rotated)
    put("jpeg_markers", "exif3le.jpg", with_app1(jpeg, exif_block(False, 3)))
    put("jpeg_markers", "icc.jpg", jpeg[:2] + icc_app2("sRGB IEC61966-2.1") + jpeg[2:])
    put("jpeg_markers", "exif_block", exif_block(True, 8))
    # End-of-image scanner: a chunking byte, then the file.
    for i, name in enumerate(["rgb.jpg", "prog.jpg", "rgb.png", "rgba.png"]):
        put("image_end", name, bytes([i * 37]) + img[name])
    put("image_end", "cut.jpg", b"\x05" + jpeg[: len(jpeg) // 2])
    put("image_end", "trailer.jpg", b"\x09" + rotated + b"trailing bytes")
    # Manifests (one file read as manifest.jsonl and as thumbs.jsonl).
    put("manifest", "fetch.jsonl",
        '{"url":"https://h/a.jpg","file":"a.jpg","status":"ok","http_code":200,"bytes":863,'
        '"content_type":"image/jpeg","sha256":"ab","attempts":1,"seconds":0.25,"error_kind":"",'
        '"error":""}\n{"url":"https://h/b.jpg","file":"","status":"failed","http_code":404,'
        '"bytes":0,"attempts":1,"seconds":0.1,"error_kind":"http_status","error":"HTTP 404"}\n'
        '{"url":"https://h/a.jpg","status":"cancelled"}\n{"url":"https://h/c.j')
    put("manifest", "thumbs.jsonl",
        '{"input":"/in/a.jpg","file":"a.jpg","status":"ok","input_bytes":863,'
        '"input_mtime_ns":1700000000000000000,"input_sha256":"cd","options":"128x128 fit jpeg q85",'
        '"width":128,"height":96,"bytes":2000,"decoder":"libjpeg-turbo","seconds":0.01,'
        '"error_kind":"","error":""}\n{"input":"/in/b.png","status":"pending","stem":"b"}\n'
        '{"input":7}\n[1,2]\n')
    # Worker protocol: the first byte's low bit picks requests (1) or responses (0).
    put("worker_protocol", "request", b"\x01J 9 6\n/in/a.jpg/out/a" + b"J 3 1\n/in")
    put("worker_protocol", "response_ok",
        b"\x00R 0 128 96 2000 0 0 9 0 12000\n/out/a.jpgR 1 0 0 0 2 3 0 12 5\ntoo manyR 0")
    put("worker_protocol", "response_bad", b"\x00R x\n")
    # HTTP requests.
    put("http_request", "get", "GET /img/a.jpg?fault=500&x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Connection: keep-alive\r\n\r\n")
    put("http_request", "head10", "HEAD / HTTP/1.0\nConnection: Keep-Alive\n\n")
    put("http_request", "body", "GET /3/gallery/hot/viral/day/0 HTTP/1.1\r\nContent-Length: 5\r\n"
        "Authorization: Client-ID x\r\n\r\nhello")
    put("http_request", "bad", "GET /a HTTP/2.0\r\n\r\n")
    put("http_request", "partial", "GET /img/a.jpg HTTP/1.1\r\nHost: a")
    # Thumbnails: the options byte, then an image.
    for i, (name, data) in enumerate(sorted(img.items())):
        put("thumbnail", name, bytes([i * 0x15 & 0xFF]) + data)
    put("thumbnail", "exif6.jpg", b"\x01" + rotated)
    put("thumbnail", "cut.jpg", b"\x10" + jpeg[: len(jpeg) * 2 // 3])


if __name__ == "__main__":
    main()
