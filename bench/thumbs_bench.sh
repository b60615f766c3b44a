#!/usr/bin/env bash
# The thumbnail benchmark of issues 2 and 9, side by side in one run:
#   bench/thumbs_bench.sh [CORPUS_DIR] [RUNS]
# CORPUS_DIR: a folder of images (default /tmp/corpus/corpus_web; when missing and named
# .../corpus_web it is made with ../shared/bench/make_corpus.sh). RUNS: runs per contestant
# (default 3), the median wall time is reported. Runs are interleaved (run 1 of every
# contestant, then run 2...) with the order rotated each run, so background load spreads evenly.
# Environment: THUMBFETCH=path/to/thumbfetch (default build/thumbfetch, built when missing),
# KEEP=1 keeps the temp dir, SKIP_MEMORY=1 skips the 24-megapixel memory test,
# TMPDIR=/dev/shm puts the temp dir (all outputs) on tmpfs: file creation costs every
# contestant the same, about 1 ms of system time per file on an ext4 /tmp on a VM.
# Writes bench/results/thumbs-<date>.md and bench/results/contact_sheet*.png, and prints the report.
set -euo pipefail
bench=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$bench")
shared=${SHARED_BENCH:-$repo/../shared/bench}
corpus=${1:-/tmp/corpus/corpus_web}
runs=${2:-3}
tf=${THUMBFETCH:-$repo/build/thumbfetch}
py=/usr/bin/python3   # Debian's python3 with python3-pil, not a pyenv one
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "RUNS must be a positive integer" >&2; exit 2; }

say() { printf '== %s\n' "$*" >&2; }

# --- what it needs (Debian packages, installed only when missing) --------------------------------
"$repo/scripts/install-packages.sh" libvips-tools python3-pil libturbojpeg0-dev libssl-dev g++ time

# --- the corpus and the tool -------------------------------------------------------------------
if [ ! -d "$corpus" ]; then
  [ "$(basename "$corpus")" = corpus_web ] || {
    echo "no corpus at $corpus (to have one made, give a path ending in /corpus_web)" >&2; exit 2; }
  [ -x "$shared/make_corpus.sh" ] || { echo "missing $shared/make_corpus.sh" >&2; exit 2; }
  say "making the corpus: $shared/make_corpus.sh $(dirname "$corpus")"
  "$shared/make_corpus.sh" "$(dirname "$corpus")" >&2
fi
corpus=$(cd "$corpus" && pwd)
if [ ! -x "$tf" ]; then
  say "building thumbfetch (scripts/setup.sh)"
  "$repo/scripts/setup.sh" >&2
  tf=$repo/build/thumbfetch
fi
tf=$(readlink -f "$tf")

work=$(mktemp -d "${TMPDIR:-/tmp}/thumbs_bench.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then say "keeping $work"; else trap 'rm -rf "$work"' EXIT; fi
mkdir -p "$work/bin" "$work/out" "$work/json"
for s in all jpeg base prog png; do mkdir -p "$work/sets/$s"; done

say "building tj_floor"
g++ -O2 -std=c++17 "$bench/tj_floor.cpp" -o "$work/bin/tj_floor" -lturbojpeg -lcrypto

# Which JPEGs are progressive: their frame header is SOF2 (or SOF10), read from the markers.
jpeg_frame() {  # FILE -> "prog", "base" or "other"
  $py - "$1" <<'PY'
import sys
d = open(sys.argv[1], "rb").read(1 << 20)
i, kind = 2, "other"
while i + 4 <= len(d) and d[i] == 0xFF:
    m, n = d[i + 1], d[i + 2] << 8 | d[i + 3]
    if m in (0xC2, 0xCA): kind = "prog"; break
    if m in (0xC0, 0xC1): kind = "base"; break
    if m == 0xDA: break
    i += 2 + n
print(kind)
PY
}

# Sets of symlinks, so every contestant sees exactly the same files: all, JPEG only (and its
# baseline and progressive parts), PNG only.
while IFS= read -r -d '' f; do
  name=$(basename "$f")
  case "${name,,}" in
    *.jpg|*.jpeg) ln -s "$f" "$work/sets/all/$name"; ln -s "$f" "$work/sets/jpeg/$name"
                  kind=$(jpeg_frame "$f")
                  [ "$kind" = other ] || ln -s "$f" "$work/sets/$kind/$name" ;;
    *.png)        ln -s "$f" "$work/sets/all/$name"; ln -s "$f" "$work/sets/png/$name" ;;
    *.webp|*.gif|*.tif|*.tiff) ln -s "$f" "$work/sets/all/$name" ;;
  esac
done < <(find "$corpus" -maxdepth 1 -type f -print0 | sort -z)
for s in all jpeg base prog png; do
  find "$work/sets/$s" -maxdepth 1 -type l | sort > "$work/sets/$s.txt"
done
n_all=$(wc -l < "$work/sets/all.txt"); n_jpeg=$(wc -l < "$work/sets/jpeg.txt")
n_png=$(wc -l < "$work/sets/png.txt"); n_prog=$(wc -l < "$work/sets/prog.txt")
n_base=$(wc -l < "$work/sets/base.txt")
[ "$n_all" -gt 0 ] || { echo "no images in $corpus" >&2; exit 2; }
# The web corpus is ~25% progressive (make_web_corpus.sh): a corpus with none gets no
# progressive row (make one with `jpegtran -progressive` from baseline files to add it).
[ "$n_prog" -gt 0 ] || say "no progressive JPEGs in $corpus: the progressive row is left out"
say "corpus $corpus: $n_all images ($n_jpeg JPEG: $n_base baseline, $n_prog progressive; $n_png PNG), $runs runs each"

# --- contestants: id|set|label; run_one ID SET OUT prints the in-process seconds (or "-") --------
contestants=(
  "pillow_serial|all|Pillow serial (reference)"
  "pillow_pool2|all|Pillow multiprocessing.Pool(2)"
  "vips_p2|all|vipsthumbnail, xargs -P2 -n 50"
  "tf_serial|all|thumbfetch serial"
  "tf_threads2|all|thumbfetch threads -j2"
  "tf_processes2|all|thumbfetch processes -j2"
  "pillow_serial_jpeg|jpeg|Pillow serial, JPEG only"
  "tf_serial_jpeg|jpeg|thumbfetch serial, JPEG only"
  "tf_threads2_jpeg|jpeg|thumbfetch threads -j2, JPEG only"
  "floor_jpeg|jpeg|TurboJPEG decode at 1/8 (floor for --reducing-gap 1), JPEG only"
  "floor_same_jpeg|jpeg|TurboJPEG decode at thumbfetch's scale (floor), JPEG only"
  "tf_serial_base|base|thumbfetch serial, baseline JPEG only"
  "floor_same_base|base|TurboJPEG decode at thumbfetch's scale (floor), baseline JPEG only"
  "floor_thumb_base|base|the same + SHA-256 + thumbnail-sized encode (no resampling), baseline JPEG only"
  "pillow_serial_prog|prog|Pillow serial, progressive JPEG only"
  "tf_serial_prog|prog|thumbfetch serial, progressive JPEG only"
  "pillow_serial_png|png|Pillow serial, PNG only"
  "tf_serial_png|png|thumbfetch serial, PNG only"
)

# CPU milliseconds (user+sys) of all waited-for children so far, from the shell's `times`,
# parsed in bash (no fork, so nothing of ours is counted). Sets $cpu_ms.
children_cpu_ms() {
  local self children u s
  times > "$work/times"
  { read -r self; read -r u s; } < "$work/times"
  [[ $u =~ ^([0-9]+)m([0-9]+)\.([0-9]{3})s$ ]] && u_ms=$(( (10#${BASH_REMATCH[1]} * 60 + 10#${BASH_REMATCH[2]}) * 1000 + 10#${BASH_REMATCH[3]} ))
  [[ $s =~ ^([0-9]+)m([0-9]+)\.([0-9]{3})s$ ]] && s_ms=$(( (10#${BASH_REMATCH[1]} * 60 + 10#${BASH_REMATCH[2]}) * 1000 + 10#${BASH_REMATCH[3]} ))
  cpu_ms=$(( u_ms + s_ms ))
}
seconds_line() { sed -n 's/^seconds=//p' "$1" | tail -1; }
tf_json_wall() { $py -c 'import json,sys; print(json.load(open(sys.argv[1]))["wall_seconds"])' "$1"; }

inprocess_seconds() {  # ID LOG -> the seconds the program timed itself ("-": none)
  case $1 in
    vips_p2) echo - ;;
    tf_*)    tf_json_wall "$work/json/$1.json" ;;
    *)       seconds_line "$2" ;;
  esac
}
run_one() {  # ID SET OUT LOG: runs one contestant, nothing else (its CPU time is measured)
  local id=$1 set=$2 out=$3 log=$4 list=$work/sets/$2.txt dir=$work/sets/$2 j=$work/json/$1.json
  case $id in
    pillow_serial*) $py "$bench/pillow_thumbs.py" "$out" - < "$list" > "$log" 2>&1 ;;
    pillow_pool2)   $py "$bench/pillow_thumbs.py" --pool 2 "$out" - < "$list" > "$log" 2>&1 ;;
    vips_p2)        tr '\n' '\0' < "$list" |
                      xargs -0 -P2 -n 50 vipsthumbnail --size 128x128 -o "$out/%s.jpg[Q=85,strip]" \
                      > "$log" 2>&1 ;;
    floor_jpeg)     "$work/bin/tj_floor" --scale eighth - < "$list" > "$log" 2>&1 ;;
    floor_same_*)   "$work/bin/tj_floor" --scale same - < "$list" > "$log" 2>&1 ;;
    floor_thumb_*)  "$work/bin/tj_floor" --scale same --thumbnail - < "$list" > "$log" 2>&1 ;;
    tf_*)           local strat=serial jobs=1
                    case $id in tf_threads2*) strat=threads jobs=2 ;; tf_processes2*) strat=processes jobs=2 ;; esac
                    "$tf" thumbs "$dir" -o "$out" --strategy $strat -j $jobs --json "$j" > "$log" 2>&1 ;;
  esac
}

raw=$work/raw.tsv
printf 'run\tid\tset\texternal_s\tinprocess_s\tcpu_s\timages\toutputs\n' > "$raw"
say "warm-up (page cache, .pyc): one untimed pass of Pillow serial, thumbfetch serial, the floor"
for id in pillow_serial tf_serial floor_jpeg floor_same_jpeg; do
  set_=all; [[ $id = floor_* ]] && set_=jpeg
  rm -rf "$work/out/warm"; mkdir -p "$work/out/warm"
  run_one $id $set_ "$work/out/warm" "$work/warm.log" || true
done
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
n=${#contestants[@]}
for ((r = 1; r <= runs; r++)); do
  for ((k = 0; k < n; k++)); do
    IFS='|' read -r id set label <<< "${contestants[$(( (k + r - 1) % n ))]}"
    out=$work/out/$id
    rm -rf "$out"; mkdir -p "$out"
    images=$(wc -l < "$work/sets/$set.txt")
    [ "$images" -gt 0 ] || continue
    log=$work/$id.run$r.log
    children_cpu_ms; c0=$cpu_ms
    t0=$EPOCHREALTIME
    run_one "$id" "$set" "$out" "$log" || { echo "$id: exit $?, log:" >&2; tail -5 "$log" >&2; }
    t1=$EPOCHREALTIME
    children_cpu_ms; c1=$cpu_ms
    inproc=$(inprocess_seconds "$id" "$log")
    cpu=$(printf '%d.%03d' $(( (c1 - c0) / 1000 )) $(( (c1 - c0) % 1000 )))
    ext=$($py -c "print(f'{$t1 - $t0:.6f}')")
    outputs=$(find "$out" -maxdepth 1 -type f ! -name '.*' ! -name thumbs.jsonl | wc -l)
    [[ $id = floor_* ]] && outputs=$(sed -n 's/^tj_floor: \([0-9]*\) ok.*/\1/p' "$log")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$id" "$set" "$ext" "${inproc:--}" "$cpu" "$images" "$outputs" >> "$raw"
    say "run $r/$runs  $(printf '%-20s' "$id") $(printf '%7.3f' "$ext") s external, in-process ${inproc:--}, cpu $cpu s, $outputs/$images done"
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# --- quality: our thumbnails vs Pillow's (last run's outputs), and the contact sheet -------------
mkdir -p "$bench/results"
say "quality"
$py "$bench/compare_quality.py" "$work/out/pillow_serial" "$work/out/tf_serial" --src "$corpus" \
  --json "$work/quality.json" --sheet "$bench/results/contact_sheet.png" >&2
$py "$bench/compare_quality.py" "$work/out/pillow_serial" "$work/out/vips_p2" --src "$corpus" \
  --label-test vipsthumbnail --json "$work/quality_vips.json" >&2
if [ "$n_prog" -gt 0 ]; then
  $py "$bench/compare_quality.py" "$work/out/pillow_serial_prog" "$work/out/tf_serial_prog" \
    --json "$work/quality_prog.json" >&2
fi

# --- memory: peak RSS on one 24-megapixel JPEG (baseline and progressive) ------------------------
memtsv=$work/memory.tsv
printf 'what\tpeak_rss_kb\tstatus\n' > "$memtsv"
if [ "${SKIP_MEMORY:-0}" != 1 ]; then
  wall=$(dirname "$corpus")/corpus_wall
  src=$(ls -S "$wall"/*.jpg 2>/dev/null | head -1 || true)
  [ -n "$src" ] || src=$(find "$corpus" -maxdepth 1 -name '*.jpg' | sort | head -1)
  say "memory: 6000x4000 JPEGs made from $(basename "$src")"
  mkdir -p "$work/big" "$work/big_prog"
  vips thumbnail "$src" "$work/big/big24mp.jpg[Q=90,strip]" 6000 --height 4000 --size force
  vips copy "$work/big/big24mp.jpg" "$work/big_prog/big24mp_progressive.jpg[Q=90,interlace,strip]"
  peak() {  # LABEL CMD... -> a memory.tsv line
    local label=$1; shift
    local st=0
    /usr/bin/time -v "$@" > "$work/time.out" 2> "$work/time.err" || st=$?
    kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.err")
    printf '%s\t%s\t%s\n' "$label" "${kb:-?}" "$st" >> "$memtsv"
    say "memory: $label: ${kb:-?} kB (exit $st)"
  }
  rm -rf "$work/out/mem"
  peak "thumbfetch serial, 24 MP baseline JPEG" "$tf" thumbs "$work/big/big24mp.jpg" -o "$work/out/mem" --strategy serial -j 1
  peak "thumbfetch serial, 24 MP progressive JPEG" "$tf" thumbs "$work/big_prog/big24mp_progressive.jpg" -o "$work/out/mem" --strategy serial -j 1
  peak "thumbfetch processes -j1 (parent + worker, max), 24 MP baseline JPEG" "$tf" thumbs "$work/big/big24mp.jpg" -o "$work/out/mem2" --strategy processes -j 1
  peak "Pillow serial, 24 MP baseline JPEG (for comparison)" $py "$bench/pillow_thumbs.py" "$work/out/mem3" "$work/big/big24mp.jpg"
  peak "Pillow serial, 24 MP progressive JPEG (for comparison)" $py "$bench/pillow_thumbs.py" "$work/out/mem3" "$work/big_prog/big24mp_progressive.jpg"
fi

# --- the report --------------------------------------------------------------------------------
cmd="bench/thumbs_bench.sh $*"; [ $# -eq 0 ] && cmd="bench/thumbs_bench.sh"
report=$bench/results/thumbs-$(date +%F).md
$py "$bench/thumbs_report.py" --raw "$raw" --quality "$work/quality.json" \
  --quality-vips "$work/quality_vips.json" --quality-prog "$work/quality_prog.json" \
  --memory "$memtsv" \
  --labels "$(printf '%s\n' "${contestants[@]}")" --command "$cmd" --corpus "$corpus" \
  --thumbfetch "$tf" --repo "$repo" --runs "$runs" \
  --load "$load_before -> $load_after" \
  --outfs "$work ($(df -PT "$work" | awk 'NR==2 {print $2}'))" > "$report"
cp "$work/json/tf_serial.json" "$bench/results/last_tf_serial.json" 2>/dev/null || true
cat "$report"
say "report written to $report"
