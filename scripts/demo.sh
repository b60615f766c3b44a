#!/usr/bin/env bash
# The main job on a built-in default, offline: the whole workflow of the reference notebook,
# on this machine only. Sets up, starts `thumbfetch serve` on 127.0.0.1 with web-like latency
# (50 ms a request) serving a generated corpus of photo-like images, downloads them with each
# download strategy, thumbnails them with each thumbnail strategy, checks that every strategy
# produced the same bytes, and prints the comparison table.
#   DEMO_IMAGES=N (default 200)  DEMO_LATENCY_MS=MS (default 50)  DEMO_DIR=... (default build/demo)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
TF=$PWD/build/thumbfetch
DEMO=${DEMO_DIR:-$PWD/build/demo}
N=${DEMO_IMAGES:-200}
LATENCY=${DEMO_LATENCY_MS:-50}
JOBS=$(nproc)

mkdir -p "$DEMO"
[ "$(ls "$DEMO/corpus" 2>/dev/null | wc -l)" -ge "$N" ] || $TF corpus "$DEMO/corpus" -n "$N" >/dev/null
rm -rf "$DEMO/downloads-"* "$DEMO/thumbs-"*

# The server prints its address first; it is stopped however this script ends.
$TF serve --dir "$DEMO/corpus" --latency "$LATENCY" --port 0 >"$DEMO/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -qs '^listening on' "$DEMO/serve.log" && break; sleep 0.1; done
BASE=$(sed -n 's/^listening on //p' "$DEMO/serve.log" | head -1)
[ -n "$BASE" ] || { echo "demo: the server did not start" >&2; cat "$DEMO/serve.log" >&2; exit 2; }
ls "$DEMO/corpus" | head -n "$N" | sed "s|^|$BASE/img/|" >"$DEMO/urls.txt"

rows=()
# run LABEL STRATEGY WORKERS COMMAND...: times a command, keeps a table row.
run() {
  local label=$1 strategy=$2 workers=$3; shift 3
  local start end
  start=$(date +%s.%N)
  "$@" -q
  end=$(date +%s.%N)
  rows+=("$(awk -v l="$label" -v s="$strategy" -v w="$workers" -v a="$start" -v b="$end" -v n="$N" \
    'BEGIN { t = b - a; printf "%s|%s|%s|%.2f|%.0f", l, s, w, t, n / t }')")
}

echo "thumbfetch demo: $N images from $BASE (+$LATENCY ms per request), $JOBS cores"
run download serial 1 $TF fetch --urls "$DEMO/urls.txt" -o "$DEMO/downloads-serial" --strategy serial
run download threads 16 $TF fetch --urls "$DEMO/urls.txt" -o "$DEMO/downloads-threads" --strategy threads -j 16
run download async 64 $TF fetch --urls "$DEMO/urls.txt" -o "$DEMO/downloads-async" --strategy async -j 64
for s in threads async; do
  diff -r -x manifest.jsonl "$DEMO/downloads-serial" "$DEMO/downloads-$s" >/dev/null ||
    { echo "demo: downloads differ between serial and $s" >&2; exit 1; }
done
IN=$DEMO/downloads-async
run thumbnails serial 1 $TF thumbs "$IN" -o "$DEMO/thumbs-serial" --strategy serial
run thumbnails threads "$JOBS" $TF thumbs "$IN" -o "$DEMO/thumbs-threads" --strategy threads -j "$JOBS"
run thumbnails processes "$JOBS" $TF thumbs "$IN" -o "$DEMO/thumbs-processes" --strategy processes -j "$JOBS"
for s in threads processes; do
  diff -r "$DEMO/thumbs-serial" "$DEMO/thumbs-$s" >/dev/null ||
    { echo "demo: thumbnails differ between serial and $s" >&2; exit 1; }
done

echo
echo "| step | strategy | workers | seconds | images/s | speed-up vs serial |"
echo "|---|---|---:|---:|---:|---:|"
for row in "${rows[@]}"; do
  IFS='|' read -r step strategy workers seconds rate <<<"$row"
  [ "$strategy" = serial ] && base=$seconds
  awk -v a="$step" -v b="$strategy" -v c="$workers" -v d="$seconds" -v e="$rate" -v f="$base" \
    'BEGIN { printf "| %s | %s | %s | %s | %s | %.1fx |\n", a, b, c, d, e, f / d }'
done
echo
echo "Every strategy wrote identical files. Thumbnails: $DEMO/thumbs-serial"
