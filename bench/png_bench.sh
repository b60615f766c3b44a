#!/usr/bin/env bash
# PNG thumbnails, serial, thumbfetch against Pillow side by side (issue 9: at least 1.5x Pillow):
#   bench/png_bench.sh [CORPUS_DIR] [RUNS]
# The PNGs of CORPUS_DIR (default /tmp/corpus/corpus_web, made with ../shared/bench/make_corpus.sh
# when missing) and of ../shared/bench, as one set of symlinks every contestant reads. RUNS
# (default 5) rounds, interleaved (each round runs every contestant once, the order rotated), so
# background load spreads evenly; medians reported, with the CPU time (user+sys) of each process.
# Environment: THUMBFETCH (default build/thumbfetch), THUMBFETCH_BASE=path/to/an older thumbfetch
# to run beside it (before/after), TMPDIR=/dev/shm to write the outputs to tmpfs, KEEP=1.
# Then builds bench/resample_bench.cpp and prints what the vectorised vertical pass costs.
# Prints PASS/FAIL against the target; exit status 0 on PASS.
set -euo pipefail
bench=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$bench")
shared=${SHARED_BENCH:-$repo/../shared/bench}
corpus=${1:-/tmp/corpus/corpus_web}
runs=${2:-5}
tf=$(readlink -f "${THUMBFETCH:-$repo/build/thumbfetch}")
base=${THUMBFETCH_BASE:+$(readlink -f "$THUMBFETCH_BASE")}
py=/usr/bin/python3  # Debian's python3 with python3-pil
target=1.5
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "RUNS must be a positive integer" >&2; exit 2; }

"$repo/scripts/install-packages.sh" python3-pil time g++
if [ ! -d "$corpus" ]; then
  [ "$(basename "$corpus")" = corpus_web ] || { echo "no corpus at $corpus" >&2; exit 2; }
  "$shared/make_corpus.sh" "$(dirname "$corpus")" >&2
fi
[ -x "$tf" ] || { echo "no thumbfetch at $tf (scripts/setup.sh builds it)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/png_bench.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then echo "== keeping $work" >&2; else trap 'rm -rf "$work"' EXIT; fi
mkdir -p "$work/set"
find "$corpus" "$shared" -maxdepth 1 -type f -iname '*.png' -print0 2>/dev/null | sort -z |
  while IFS= read -r -d '' f; do ln -sf "$(readlink -f "$f")" "$work/set/"; done
find "$work/set" -maxdepth 1 -type l | sort > "$work/list.txt"
n=$(wc -l < "$work/list.txt")
[ "$n" -gt 0 ] || { echo "no PNGs in $corpus or $shared" >&2; exit 2; }

contestants=(pillow tf)
[ -n "$base" ] && contestants+=(base)
echo "== $n PNGs, $runs rounds of: ${contestants[*]}; load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

timed=(/usr/bin/time -f '%U %S' -o "$work/cpu")  # the CPU time of the one process it runs
run_one() {  # ID OUT: runs one contestant; prints the seconds it timed itself
  local id=$1 out=$2
  case $id in
    pillow) "${timed[@]}" $py "$bench/pillow_thumbs.py" "$out" - < "$work/list.txt" > "$work/log" 2>&1
            sed -n 's/^seconds=//p' "$work/log" | tail -1 ;;
    tf|base) local exe=$tf; [ "$id" = base ] && exe=$base
            "${timed[@]}" "$exe" thumbs "$work/set" -o "$out" --strategy serial -j 1 -q \
              --json "$work/j.json" > "$work/log" 2>&1
            $py -c 'import json,sys; print(json.load(open(sys.argv[1]))["wall_seconds"])' \
              "$work/j.json" ;;
  esac
}

printf 'round\tid\tseconds\tcpu_seconds\n' > "$work/raw.tsv"
for ((r = 1; r <= runs; r++)); do
  k=${#contestants[@]}
  for ((i = 0; i < k; i++)); do
    id=${contestants[$(((i + r) % k))]}
    rm -rf "$work/out"
    secs=$(run_one "$id" "$work/out") || { cat "$work/log" >&2; exit 1; }
    made=$(find "$work/out" -type f -name '*.jpg' | wc -l)
    [ "$made" -eq "$n" ] || { echo "$id made $made of $n thumbnails" >&2; cat "$work/log" >&2; exit 1; }
    cpu=$(awk '{print $1 + $2}' "$work/cpu")
    printf '%d\t%s\t%s\t%s\n' "$r" "$id" "$secs" "$cpu" >> "$work/raw.tsv"
  done
done

status=0
$py - "$work/raw.tsv" "$n" "$target" <<'EOF' || status=$?
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
n, target = int(sys.argv[2]), float(sys.argv[3])
med = {}
for id in dict.fromkeys(r["id"] for r in rows):
    mine = [r for r in rows if r["id"] == id]
    med[id] = (statistics.median(float(r["seconds"]) for r in mine),
               statistics.median(float(r["cpu_seconds"]) for r in mine))
names = {"pillow": "Pillow serial", "tf": "thumbfetch serial", "base": "thumbfetch serial (base)"}
print(f"| PNG only, {n} images, median of {len(rows) // len(med)} | images/s | s | CPU s (user+sys) | CPU ms/image |")
print("|---|---|---|---|---|")
for id, (s, c) in med.items():
    print(f"| {names[id]} | {n / s:.1f} | {s:.3f} | {c:.3f} | {1000 * c / n:.2f} |")
ratio = med["pillow"][0] / med["tf"][0]
cpu_ratio = med["pillow"][1] / med["tf"][1]
per_round = [float(p["seconds"]) / float(t["seconds"]) for p, t in
             zip([r for r in rows if r["id"] == "pillow"], [r for r in rows if r["id"] == "tf"])]
print(f"thumbfetch / Pillow: {ratio:.2f}x images/s (rounds {min(per_round):.2f}-{max(per_round):.2f}x), "
      f"{cpu_ratio:.2f}x by CPU time")
if "base" in med:
    print(f"thumbfetch / base: {med['base'][0] / med['tf'][0]:.2f}x images/s, "
          f"{med['base'][1] / med['tf'][1]:.2f}x by CPU time")
verdict = "PASS" if ratio >= target else "FAIL"
print(f"{verdict}: PNG serial at {ratio:.2f}x Pillow (target {target}x)")
sys.exit(0 if verdict == "PASS" else 1)
EOF
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
g++ -O3 -std=c++20 -I"$repo/src" "$bench/resample_bench.cpp" -o "$work/resample_bench" &&
  "$work/resample_bench"
exit $status
