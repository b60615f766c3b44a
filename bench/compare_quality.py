#!/usr/bin/python3
"""Mean absolute pixel difference (0-255) of one set of thumbnails against a reference set.

    /usr/bin/python3 compare_quality.py REF_DIR TEST_DIR [--src SRC_DIR] [--json OUT.json]
                                        [--sheet SHEET.png] [--label-ref Pillow] [--label-test ours]

Pairs files by name (both sets are <stem>.jpg). Per pair: both converted to RGB; if the sizes
differ it is a dimension mismatch (counted, listed, not compared); otherwise the MAD is the mean
over pixels and channels of |test - ref| (ImageChops.difference + ImageStat, or numpy when
installed). Prints and writes to --json: count, mismatches, missing, mean/median/p95/max MAD
(overall and per source extension when --src is given), the worst images.

--sheet: a contact sheet PNG of 24 images (16 spread over the set + the 8 worst), each as
test | reference | |difference| x4, labelled with the name and MAD.
"""
import argparse
import json
import os
import statistics
import sys

from PIL import Image, ImageChops, ImageDraw, ImageStat

try:
    import numpy as np
except ImportError:  # Debian's python3-numpy is optional
    np = None


def mad(a, b):
    if np is not None:
        return float(np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16)).mean())
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3.0


def load_rgb(path):
    with Image.open(path) as im:
        return im.convert("RGB")


def source_ext(src_dir, stem, cache={}):
    if not src_dir:
        return "?"
    if not cache:
        for name in os.listdir(src_dir):
            s, e = os.path.splitext(name)
            cache[s] = e.lower().lstrip(".")
    return cache.get(stem, "?")


def summary(values):
    if not values:
        return {"n": 0}
    v = sorted(values)
    return {
        "n": len(v),
        "mean": statistics.fmean(v),
        "median": statistics.median(v),
        "p95": v[min(len(v) - 1, int(round(0.95 * (len(v) - 1))))],
        "max": v[-1],
    }


def contact_sheet(path, picks, ref_dir, test_dir, label_ref, label_test):
    cell, pad, text_h, per_row = 128, 6, 14, 4
    trip_w = 3 * cell + 2 * 2
    cols_w = per_row * trip_w + (per_row + 1) * pad
    rows = (len(picks) + per_row - 1) // per_row
    head_h = 22
    sheet = Image.new("RGB", (cols_w, head_h + rows * (cell + text_h + pad) + pad), (60, 60, 60))
    draw = ImageDraw.Draw(sheet)
    draw.text((pad, 4), f"each: {label_test} | {label_ref} | |difference| x4   "
              "(first 16 spread over the corpus, last 8 the largest differences)",
              fill=(255, 255, 255))
    for k, (name, value) in enumerate(picks):
        r, c = divmod(k, per_row)
        x = pad + c * (trip_w + pad)
        y = head_h + r * (cell + text_h + pad)
        t = load_rgb(os.path.join(test_dir, name))
        f = load_rgb(os.path.join(ref_dir, name))
        d = ImageChops.difference(t, f).point(lambda v: min(255, v * 4)) if t.size == f.size \
            else Image.new("RGB", t.size, (255, 0, 255))
        for j, im in enumerate((t, f, d)):
            ox = x + j * (cell + 2) + (cell - im.width) // 2
            oy = y + (cell - im.height) // 2
            sheet.paste(im, (ox, oy))
        label = f"{os.path.splitext(name)[0]}  MAD {value:.2f}" if value is not None \
            else f"{name}  size differs"
        draw.text((x, y + cell + 1), label, fill=(230, 230, 230))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    sheet.save(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ref_dir")
    ap.add_argument("test_dir")
    ap.add_argument("--src")
    ap.add_argument("--json")
    ap.add_argument("--sheet")
    ap.add_argument("--label-ref", default="Pillow")
    ap.add_argument("--label-test", default="thumbfetch")
    a = ap.parse_args()

    names = sorted(n for n in os.listdir(a.ref_dir) if not n.startswith("."))
    test_names = set(os.listdir(a.test_dir))
    per = {}  # name -> MAD or None (size mismatch)
    mismatches, missing = [], []
    for n in names:
        if n not in test_names:
            missing.append(n)
            continue
        r, t = load_rgb(os.path.join(a.ref_dir, n)), load_rgb(os.path.join(a.test_dir, n))
        if r.size != t.size:
            mismatches.append(f"{n}: {a.label_test} {t.size[0]}x{t.size[1]}, "
                              f"{a.label_ref} {r.size[0]}x{r.size[1]}")
            per[n] = None
            continue
        per[n] = mad(t, r)

    values = {n: v for n, v in per.items() if v is not None}
    by_ext = {}
    for n, v in values.items():
        by_ext.setdefault(source_ext(a.src, os.path.splitext(n)[0]), []).append(v)
    worst = sorted(values.items(), key=lambda kv: -kv[1])[:8]
    result = {
        "ref": a.label_ref, "test": a.label_test,
        "compared": len(values), "dimension_mismatches": len(mismatches),
        "mismatch_examples": mismatches[:10], "missing": len(missing),
        "missing_examples": missing[:10],
        "mad": summary(list(values.values())),
        "mad_by_source": {e: summary(v) for e, v in sorted(by_ext.items())},
        "worst": [{"image": n, "mad": v} for n, v in worst],
    }
    if a.sheet and names:
        spread = [names[i * len(names) // 16] for i in range(min(16, len(names)))]
        spread = [n for n in spread if n in per]
        picks = spread + [n for n, _ in worst if n not in spread]
        picks = picks[:24]
        contact_sheet(a.sheet, [(n, per[n]) for n in picks], a.ref_dir, a.test_dir,
                      a.label_ref, a.label_test)
        result["sheet"] = a.sheet
    text = json.dumps(result, indent=2)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")
    m = result["mad"]
    if m["n"]:
        print(f"quality {a.label_test} vs {a.label_ref}: {m['n']} compared, "
              f"{len(mismatches)} dimension mismatches, {len(missing)} missing, "
              f"MAD mean {m['mean']:.3f} median {m['median']:.3f} p95 {m['p95']:.3f} "
              f"max {m['max']:.3f} ({worst[0][0]})")
    else:
        print(f"quality: nothing compared ({len(mismatches)} mismatches, {len(missing)} missing)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
