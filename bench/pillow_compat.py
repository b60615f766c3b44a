#!/usr/bin/python3
"""How many of the still images Pillow thumbnails does thumbfetch thumbnail, with Pillow's size?

    /usr/bin/python3 bench/pillow_compat.py THUMBFETCH WORK_DIR COLLECTION_DIR...

Every file of each collection folder (not recursive) is offered to Pillow 9.4 (Debian's
python3-pil): Image.open, ImageOps.exif_transpose (thumbfetch applies the EXIF orientation;
Pillow's thumbnail() alone does not), thumbnail((128, 128)), with the pixels loaded (thumbnail()
decodes nothing when the image is already smaller than the box; saving it would). A file counts as "Pillow-readable"
when that succeeds and Pillow calls it one of the formats in SCOPE (the web's still-image formats
the issue names; an animated GIF/WebP counts by its first frame, as both tools take it). The same
files go to one `THUMBFETCH thumbs FILE... -o WORK_DIR/out --json` run, and each thumbnail's size
is compared with Pillow's. Files Pillow reads in other formats (PPM, ICO, TGA...) are listed apart.

Prints the counts, the percentage, and every miss with thumbfetch's message. Exit 0 always (the
figure is a measurement, not a test).
"""
import json
import os
import subprocess
import sys
import warnings

from PIL import Image, ImageOps

SIZE = (128, 128)
# Pillow's names for the formats of issue 7: JPEG (MPO is a JPEG with more pictures after it),
# PNG, GIF, WebP, BMP (DIB: a BMP without its file header), TIFF.
SCOPE = {"JPEG", "MPO", "PNG", "GIF", "WEBP", "BMP", "DIB", "TIFF"}


def pillow_thumbnail(path):
    """(format, (w, h)) of Pillow's thumbnail, or (None, reason)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as im:
                fmt = im.format
                im.load()  # thumbnail() alone decodes nothing when the image is already small
                try:
                    upright = ImageOps.exif_transpose(im)
                except Exception:  # a broken EXIF block: Pillow shows the image as stored
                    upright = im
                upright.thumbnail(SIZE)
                return fmt, upright.size
    except Exception as e:  # noqa: BLE001 - any failure means "Pillow cannot thumbnail it"
        return None, f"{type(e).__name__}: {e}"


def thumbfetch_results(exe, files, work):
    out = os.path.join(work, "out")
    report = os.path.join(work, "thumbs.json")
    cmd = [exe, "thumbs", *files, "-o", out, "--json", report, "-q", "--strategy", "threads"]
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    with open(report, encoding="utf-8") as f:
        items = json.load(f)["items"]
    return {item["input"]: item for item in items}


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    exe, work, collections = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(work, exist_ok=True)
    files = []
    for folder in collections:
        for name in sorted(os.listdir(folder)):
            path = os.path.abspath(os.path.join(folder, name))
            if os.path.isfile(path):
                files.append(path)

    readable, other_formats, by_format = {}, [], {}
    for path in files:
        fmt, size = pillow_thumbnail(path)
        if fmt is None:
            continue
        if fmt in SCOPE:
            readable[path] = size
            by_format[fmt] = by_format.get(fmt, 0) + 1
        else:
            other_formats.append((path, fmt))

    results = thumbfetch_results(exe, list(readable), work)
    made = same = 0
    misses = []
    for path, size in readable.items():
        item = results.get(path)
        if item is None:
            misses.append((path, "not in thumbfetch's report"))
            continue
        if item["status"] != "ok":
            misses.append((path, item.get("error", item["status"])))
            continue
        made += 1
        got = (item["width"], item["height"])
        if got == tuple(size):
            same += 1
        else:
            misses.append((path, f"thumbnail {got[0]}x{got[1]}, Pillow's {size[0]}x{size[1]}"))

    total = len(readable)
    print(f"files offered:                     {len(files)}")
    print(f"Pillow-readable still images:      {total} "
          f"({', '.join(f'{k} {v}' for k, v in sorted(by_format.items()))})")
    print(f"thumbfetch thumbnails:             {made}")
    print(f"  with Pillow's dimensions:        {same}")
    pct = 100.0 * same / total if total else 0.0
    print(f"share with Pillow's dimensions:    {pct:.1f}%")
    print(f"misses ({len(misses)}):")
    for path, why in misses:
        print(f"  {os.path.relpath(path)}: {why}")
    print(f"Pillow reads these in formats outside the scope ({len(other_formats)}): "
          + ", ".join(f"{os.path.basename(p)} ({f})" for p, f in other_formats))


if __name__ == "__main__":
    main()
