#!/usr/bin/env bash
# CPU per image of two thumbfetch builds side by side (and the same-scale decode floor):
#   bench/thumbs_cpu_ab.sh OLD_BINARY NEW_BINARY [DIR_OR_LIST_OF_JPEGS] [RUNS]
# DIR (default: the baseline JPEGs of /tmp/corpus/corpus_web, as thumbs_bench.sh picks them)
# is thumbnailed by both builds under serial, threads -j2 and processes -j2, RUNS times (default
# 3), interleaved, outputs on tmpfs; prints the median user+sys CPU ms per image (start-up
# included) and the load average. CPU time, not wall: steadier while other builds run.
set -euo pipefail
old=$(readlink -f "$1") new=$(readlink -f "$2") set_dir=${3:-} runs=${4:-3}
work=$(mktemp -d "${TMPDIR:-/dev/shm}/thumbs_ab.XXXXXX")
trap 'rm -rf "$work"' EXIT
bench=$(cd "$(dirname "$0")" && pwd)
if [ -z "$set_dir" ]; then  # the baseline JPEGs: SOF0/SOF1 frame, as thumbs_bench.sh reads it
  set_dir=$work/base
  mkdir -p "$set_dir"
  /usr/bin/python3 - "$set_dir" <<'PY'
import glob, os, sys
for f in sorted(glob.glob('/tmp/corpus/corpus_web/*')):
    if not f.lower().endswith(('.jpg', '.jpeg')): continue
    d = open(f, 'rb').read(1 << 20); i = 2
    while i + 4 <= len(d) and d[i] == 0xFF:
        m, n = d[i + 1], d[i + 2] << 8 | d[i + 3]
        if m in (0xC0, 0xC1): os.symlink(f, os.path.join(sys.argv[1], os.path.basename(f)))
        if m in (0xC0, 0xC1, 0xC2, 0xCA, 0xDA): break
        i += 2 + n
PY
fi
n=$(find "$set_dir" -maxdepth 1 \( -type f -o -type l \) | wc -l)
g++ -O2 -std=c++17 "$bench/tj_floor.cpp" -o "$work/tj_floor" -lturbojpeg -lcrypto
find "$set_dir" -maxdepth 1 \( -type f -o -type l \) | sort > "$work/list"
cpu_ms() {  # command... -> CPU ms of it and its threads and children (perf's task-clock,
            # finer than /usr/bin/time's 10 ms steps; the latter when perf is missing)
  if command -v perf > /dev/null; then
    perf stat -x, -e task-clock -o "$work/t" "$@" > /dev/null 2>&1 || true
    awk -F, '/task-clock/ {printf "%.0f\n", $1}' "$work/t"
  else
    /usr/bin/time -f '%U %S' -o "$work/t" "$@" > /dev/null 2>&1 || true
    awk '{printf "%.0f\n", ($1 + $2) * 1000}' "$work/t"
  fi
}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $n images; $runs runs"
declare -A ms
for ((r = 1; r <= runs; r++)); do
  for strat in serial threads processes; do
    for b in old new; do
      bin=$old; [ $b = new ] && bin=$new
      rm -rf "$work/out"
      ms[$b.$strat]+="$(cpu_ms "$bin" thumbs "$set_dir" -o "$work/out" --strategy $strat -j 2 -q) "
    done
  done
  ms[floor]+="$(cpu_ms "$work/tj_floor" --scale same - < "$work/list") "
  ms[floor_thumb]+="$(cpu_ms "$work/tj_floor" --scale same --thumbnail - < "$work/list") "
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '%-34s %10s %12s  %s\n' "contestant" "CPU ms" "ms/image" "runs"
for k in old.serial new.serial old.threads new.threads old.processes new.processes floor floor_thumb; do
  m=$(echo "${ms[$k]}" | median)
  printf '%-34s %10s %12.3f  %s\n' "$k" "$m" "$(echo "$m / $n" | bc -l)" "${ms[$k]}"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
