#!/usr/bin/python3
"""Pillow thumbnails, the reference approach, serial or with multiprocessing.Pool.

    /usr/bin/python3 pillow_thumbs.py OUT_DIR FILE...            # serial, one process
    /usr/bin/python3 pillow_thumbs.py --pool 2 OUT_DIR FILE...   # multiprocessing.Pool(2)
    ... OUT_DIR -  reads the file list from stdin, one path a line

Per image, exactly the notebook's create_thumbnail((128, 128), path): Image.open,
im.thumbnail((128, 128)) with its default resample (BICUBIC in Pillow 9.4, draft() DCT
scaling for JPEG, reducing_gap 2.0), im.save(OUT/<stem>.jpg, "JPEG", quality=85).
One addition the reference lacks: a mode JPEG cannot store (RGBA, LA, P, I;16...) is
converted after the thumbnail (alpha flattened on white, as thumbfetch does), otherwise
Pillow raises "cannot write mode RGBA as JPEG" and the image is lost.

Pool: the pool is created INSIDE the timed region (fork start-up counted), files handed
out with imap_unordered(chunksize=4) so slow PNGs do not leave a worker idle at the end,
and every result is waited for before the clock stops (the notebook's bug was not to).

Prints "pillow: N ok, M failed, S s, R img/s" and "seconds=S" (the timed region: from
before the first open (or the Pool creation) to after the last save).
"""
import multiprocessing
import os
import sys
import time

from PIL import Image

SIZE = (128, 128)
OUT = None


def thumb(path):
    try:
        with Image.open(path) as im:
            im.thumbnail(SIZE)
            if im.mode not in ("RGB", "L", "CMYK"):
                if "A" in im.mode or "transparency" in im.info:
                    rgba = im.convert("RGBA")
                    flat = Image.new("RGB", rgba.size, (255, 255, 255))
                    flat.paste(rgba, mask=rgba.getchannel("A"))
                    im = flat
                else:
                    im = im.convert("RGB")
            stem = os.path.splitext(os.path.basename(path))[0]
            im.save(os.path.join(OUT, stem + ".jpg"), "JPEG", quality=85)
        return None
    except Exception as e:  # the batch goes on, as in the reference
        return f"{path}: {e}"


def main():
    global OUT
    args = sys.argv[1:]
    workers = 0
    if args[:1] == ["--pool"]:
        workers = int(args[1])
        args = args[2:]
    if len(args) < 2:
        sys.exit(__doc__)
    OUT = args[0]
    files = args[1:]
    if files == ["-"]:
        files = [line.rstrip("\n") for line in sys.stdin if line.strip()]
    os.makedirs(OUT, exist_ok=True)

    t0 = time.perf_counter()
    if workers:
        with multiprocessing.Pool(workers) as pool:
            errors = [e for e in pool.imap_unordered(thumb, files, chunksize=4) if e]
    else:
        errors = [e for e in map(thumb, files) if e]
    seconds = time.perf_counter() - t0

    for e in errors:
        print(e, file=sys.stderr)
    ok = len(files) - len(errors)
    kind = f"Pool({workers})" if workers else "serial"
    print(f"pillow {kind}: {ok} ok, {len(errors)} failed, {seconds:.3f} s, {ok / seconds:.1f} img/s")
    print(f"seconds={seconds:.6f}")
    return 1 if errors else 0


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    sys.exit(main())
