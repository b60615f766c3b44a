#!/usr/bin/env bash
# The streamed pipeline against its two stages run one after the other (issue 6):
#   bench/run_bench.sh [RUNS]
# N (default 400) web-sized photo-like images (`thumbfetch corpus`) served by nginx on
# 127.0.0.1 with +50 ms per request (../shared/bench/nginx-latency.conf, port 18081). Each run,
# in turn: `fetch` (async -j 64), `thumbs` of what it fetched (threads -j $(nproc)), and `run`
# (the same strategies, streamed), each timed externally with /usr/bin/time (wall, user+sys).
# RUNS (default 3) runs, medians. Every run is checked: all N ok, and `run`'s thumbnails equal
# `thumbs`' byte for byte. Target: run's wall at most 1.15x the slower stage alone.
# Prints the report and writes it to bench/results/run-<date>.md.
# Environment: THUMBFETCH (default build/thumbfetch), N, JOBS (64), WORKERS (nproc), KEEP=1.
# All traffic goes to 127.0.0.1; nginx is stopped by the EXIT trap.
set -euo pipefail
bench=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$bench")
cd "$repo"
shared=${SHARED_BENCH:-$repo/../shared/bench}
runs=${1:-3}
n=${N:-400}
jobs=${JOBS:-64}
workers=${WORKERS:-$(nproc)}
tf=${THUMBFETCH:-build/thumbfetch}
[[ $runs =~ ^[1-9][0-9]?$ ]] || { echo "RUNS must be 1..99" >&2; exit 2; }
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
say() { printf '== %s\n' "$*" >&2; }

"$repo/scripts/install-packages.sh" nginx libnginx-mod-http-echo time
[ -x "$tf" ] || { scripts/setup.sh >&2; tf=build/thumbfetch; }
tf=$(readlink -f "$tf")

cache=/tmp/runbench-cache
work=$(mktemp -d /tmp/runbench.XXXXXX)
chmod 755 "$work"
mkdir -p "$work/www" "$work/logs" "$work/tmp" "$cache"
nginx_pid=""
cleanup() {
  local rc=$?
  [ -n "$nginx_pid" ] && kill -QUIT "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
  if [ "${KEEP:-0}" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
  exit $rc
}
trap cleanup EXIT

say "corpus: $n images in $cache/corpus-$n"
"$tf" corpus "$cache/corpus-$n" -n "$n" >/dev/null
cp -r "$cache/corpus-$n" "$work/www/img"
chmod -R a+rX "$work/www"
sed "s|/tmp/dlbench|$work|g" "$shared/nginx-latency.conf" >"$work/nginx.conf"
nginx -p "$work/" -c "$work/nginx.conf" -e "$work/logs/error.log" &
nginx_pid=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:18080/img/" 2>/dev/null && break; sleep 0.1; done
ls "$work/www/img" | sed 's|^|http://127.0.0.1:18081/img/|' >"$work/urls.txt"

# timed LABEL CMD...: appends "LABEL wall cpu" to $work/times
timed() {
  local label=$1; shift
  /usr/bin/time -f "%e %U %S" -o "$work/t" "$@" -q >/dev/null
  awk -v l="$label" '{ printf "%s %.3f %.3f\n", l, $1, $2 + $3 }' "$work/t" >>"$work/times"
}
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq "$runs"); do
  say "run $r of $runs"
  rm -rf "$work/out"; mkdir -p "$work/out"
  timed fetch "$tf" fetch --urls "$work/urls.txt" -o "$work/out/fetched" -j "$jobs"
  timed thumbs "$tf" thumbs "$work/out/fetched" -o "$work/out/thumbs" -j "$workers"
  timed run "$tf" run --urls "$work/urls.txt" -o "$work/out/run" -j "$jobs" -w "$workers"
  got=$(ls "$work/out/run" | grep -cv '\.jsonl$' || true)
  [ "$got" = "$n" ] || { echo "run $r: $got of $n thumbnails" >&2; exit 1; }
  diff -r -x '*.jsonl' -x '.*' "$work/out/thumbs" "$work/out/run" >/dev/null ||
    { echo "run $r: run's thumbnails differ from thumbs'" >&2; exit 1; }
done

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
stat() { awk -v l="$1" -v c="$2" '$1 == l { print $c }' "$work/times" | median; }
fw=$(stat fetch 2); fc=$(stat fetch 3); tw=$(stat thumbs 2); tc=$(stat thumbs 3); rw=$(stat run 2); rc=$(stat run 3)
report=$(awk -v n="$n" -v fw="$fw" -v fc="$fc" -v tw="$tw" -v tc="$tc" -v rw="$rw" -v rc="$rc" \
  -v runs="$runs" -v jobs="$jobs" -v w="$workers" -v cpu="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" \
  -v load="$load_start" 'BEGIN {
  slow = fw > tw ? fw : tw
  printf "# run against fetch then thumbs\n\n%s images from nginx on 127.0.0.1, +50 ms per request; %s; load at start %s; medians of %s runs (external wall, user+sys CPU).\n\n", n, cpu, load, runs
  printf "| contestant | wall s | CPU s | images/s |\n|---|---:|---:|---:|\n"
  printf "| `fetch` async -j %s | %.2f | %.2f | %.0f |\n", jobs, fw, fc, n / fw
  printf "| `thumbs` threads -j %s | %.2f | %.2f | %.0f |\n", w, tw, tc, n / tw
  printf "| `fetch` then `thumbs` (sum) | %.2f | %.2f | %.0f |\n", fw + tw, fc + tc, n / (fw + tw)
  printf "| `run` (streamed) | %.2f | %.2f | %.0f |\n\n", rw, rc, n / rw
  printf "run / slower stage alone: %.2fx (target at most 1.15x); run / sum: %.2fx\n", rw / slow, rw / (fw + tw)
}')
echo "$report"
mkdir -p "$bench/results"
echo "$report" >"$bench/results/run-$(date +%Y%m%d-%H%M).md"
