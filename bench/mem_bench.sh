#!/usr/bin/env bash
# Memory flat in the length of the list (issue 9, part 2): `thumbfetch fetch` of MEM_URLS
# (default 1,000,000) URLs of a tiny JPEG from `thumbfetch serve` on 127.0.0.1 (async -j 256),
# and of a tenth as many, each under /usr/bin/time -v. Prints the peak RSS of both (flat: the
# long run holds little more than the short one), the rate of the long run, and PASS/FAIL
# against the targets: peak RSS <= 150 MB and >= 5,000 images/s.
#   bench/mem_bench.sh            THUMBFETCH=build/thumbfetch MEM_URLS=1000000 KEEP=1
# The URLs are /img/tiny.jpg?n=I: one file served, every URL distinct; all want the stem
# "tiny", so every name is the hashed kind (the naming's slow path). The server runs on the
# same machine and shares its cores, as in the target. The output folders go under TMPDIR:
# TMPDIR=/dev/shm takes the disk out. On this VM's ext4, after millions of files made and
# removed, creating a file dominates (perf: ext4's inode allocator, find_inode_bit and
# recently_deleted, ~80% of the samples) and caps the rate near 3,000 images/s whatever the
# client does.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
tf=$(readlink -f "${THUMBFETCH:-$repo/build/thumbfetch}")
n=${MEM_URLS:-1000000}
short=$((n / 10))
max_mb=${MAX_RSS_MB:-150}
min_rate=${MIN_RATE:-5000}
[[ $n =~ ^[1-9][0-9]*$ && $n -ge 10 ]] || { echo "MEM_URLS must be a number >= 10" >&2; exit 2; }
[ -x "$tf" ] || { echo "no thumbfetch at $tf (build it: scripts/setup.sh)" >&2; exit 2; }
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
work=$(mktemp -d "${TMPDIR:-/tmp}/membench.XXXXXX")
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  [ "${KEEP:-0}" = 1 ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
echo "== load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# The tiny image: a 16x16 thumbnail of one generated image.
mkdir -p "$work/gen" "$work/www"
"$tf" serve --generate 1 --port 0 >"$work/gen.out" 2>&1 &
gen=$!
for _ in $(seq 50); do grep -q '^listening on ' "$work/gen.out" 2>/dev/null && break; sleep 0.1; done
gen_base=$(sed -n 's/^listening on \(http[^ ]*\).*/\1/p' "$work/gen.out")
curl -s -f -o "$work/gen/big.jpg" "$gen_base/img/img_0000.jpg"
kill "$gen"; wait "$gen" 2>/dev/null || true
"$tf" thumbs "$work/gen/big.jpg" -o "$work/tinymk" --size 16x16 >/dev/null
mv "$work/tinymk/big.jpg" "$work/www/tiny.jpg"

"$tf" serve --dir "$work/www" --port 0 >"$work/serve.out" 2>"$work/serve.err" &
server=$!
for _ in $(seq 50); do grep -q '^listening on ' "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
base=$(sed -n 's/^listening on \(http[^ ]*\).*/\1/p' "$work/serve.out")
[ -n "$base" ] || { echo "thumbfetch serve did not start: $(cat "$work/serve.err")" >&2; exit 2; }

run() {  # run COUNT: prints "maxrss_kb wall_s ok"
  local count=$1 dir=$work/out-$1
  awk -v n="$count" -v b="$base" 'BEGIN { for (i = 0; i < n; i++) printf "%s/img/tiny.jpg?n=%d\n", b, i }' \
    >"$work/urls-$count.txt"
  /usr/bin/time -f '%M %e' -o "$work/time-$count" "$tf" fetch --urls "$work/urls-$count.txt" \
    -o "$dir" --strategy async -j 256 --per-host 256 >"$work/summary-$count" 2>"$work/err-$count" || true
  local ok
  ok=$(grep -c '"status":"ok"' "$dir/manifest.jsonl" || true)
  echo "$(cat "$work/time-$count") $ok"
  rm -rf "$dir"
}
echo "== $short URLs" >&2
read -r rss_short wall_short ok_short < <(run "$short")
echo "== $n URLs" >&2
read -r rss_long wall_long ok_long < <(run "$n")
cat "$work/summary-$n" >&2

status=0
awk -v n="$n" -v s="$short" -v rs="$rss_short" -v rl="$rss_long" -v w="$wall_long" \
    -v ok="$ok_long" -v oks="$ok_short" -v max="$max_mb" -v min="$min_rate" 'BEGIN {
  rate = ok / w
  printf "peak RSS: %d URLs %.1f MB, %d URLs %.1f MB (%.1f bytes per extra URL)\n",
         s, rs * 1.024 / 1000, n, rl * 1.024 / 1000, (rl - rs) * 1024 / (n - s)
  printf "%d URLs: %d ok in %.1f s wall = %.0f images/s (process wall, start-up included)\n", n, ok, w, rate
  rss_ok = rl * 1.024 / 1000 <= max; rate_ok = rate >= min; all_ok = ok == n && oks == s
  printf "%s peak RSS <= %d MB (%.1f MB)\n", rss_ok ? "PASS" : "FAIL", max, rl * 1.024 / 1000
  printf "%s >= %d images/s (%.0f)\n", rate_ok ? "PASS" : "FAIL", min, rate
  printf "%s every URL ok (%d of %d, %d of %d)\n", all_ok ? "PASS" : "FAIL", ok, n, oks, s
  exit !(rss_ok && rate_ok && all_ok)
}' || status=1
echo "== load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
exit $status
