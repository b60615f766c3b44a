#!/usr/bin/env bash
# The download benchmark of issue 3, side by side in one run:
#   bench/fetch_bench.sh [RUNS]
# 500 images of 50-300 KB served on 127.0.0.1 with +0, +50 and +200 ms per request by nginx
# (Debian's, echo module: echo_sleep then the static file; the primary server) and by
# `thumbfetch serve --latency` (a cross-check), fetched by Python requests (serial loop: the
# reference; ThreadPoolExecutor(16)), curl --parallel 64, aria2c -j 64, wget2 64 threads and
# thumbfetch serial / threads -j 64 / async -j 64 and -j 256. RUNS (default 3) runs of each,
# interleaved with the order rotated per run; medians of the external wall time. Every run is
# checked (exit 0, every file with its served content); one that is not complete is FAILED.
# Then 1,000,000 URLs of a tiny image fetched by thumbfetch async -j 256 under /usr/bin/time -v,
# with PASS/FAIL against peak RSS <= 150 MB and >= 5,000 images/s (bench/mem_bench.sh does the
# same against thumbfetch serve, at two list lengths to show the memory flat).
# Prints the report and writes it to bench/results/fetch-<date>.md.
# Environment: THUMBFETCH=path (default build/thumbfetch, built with scripts/setup.sh when
# missing), CONTESTANTS="id id..." (a subset: py_serial py_tpe16 curl64 aria2c64 wget2_64
# tf_serial tf_threads64 tf_async64 tf_async256), SERIAL_N (default 100: URLs the serial contestants fetch at 50/200 ms),
# MEM_URLS (default 1000000), SKIP_MEMORY=1, KEEP=1 (keep the work dir), TMPDIR (work and cache
# under ${TMPDIR:-/tmp}/dlbench), SHARED_BENCH (default ../shared/bench).
# SCALE=3000 runs only the 3,000-URL benchmark of issue 9 instead (see its section below and
# bench/README.md): wget2 beside thumbfetch async and threads, http +0/+50 ms and https HTTP/2.
# All traffic goes to 127.0.0.1; every server started here is stopped by the EXIT trap.
set -euo pipefail
bench=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$bench")
cd "$repo"
shared=${SHARED_BENCH:-$repo/../shared/bench}
runs=${1:-3}
tf=${THUMBFETCH:-build/thumbfetch}
serial_n=${SERIAL_N:-100}
mem_n=${MEM_URLS:-1000000}
py=/usr/bin/python3   # Debian's python3 with python3-requests, not a pyenv one
tool="$py $bench/fetch_tool.py"
[[ $runs =~ ^[1-9][0-9]?$ ]] || { echo "RUNS must be 1..99" >&2; exit 2; }
[[ $serial_n =~ ^[1-9][0-9]*$ && $serial_n -le 500 ]] || { echo "SERIAL_N must be 1..500" >&2; exit 2; }
[[ $mem_n =~ ^[1-9][0-9]*$ && $mem_n -le 1000000 ]] || { echo "MEM_URLS must be 1..1000000" >&2; exit 2; }
# Loopback only: no proxy may redirect a request anywhere else.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY ftp_proxy FTP_PROXY

say() { printf '== %s\n' "$*" >&2; }
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
say "load average at start: $load_start"

# --- what it needs (Debian packages, installed only when missing) --------------------------------
"$repo/scripts/install-packages.sh" nginx libnginx-mod-http-echo python3 python3-requests curl aria2 wget2 time

# --- thumbfetch: a private copy, so that a rebuild during the run changes nothing ----------------
if [ ! -x "$tf" ]; then
  say "building thumbfetch (scripts/setup.sh)"
  scripts/setup.sh >&2
  tf=build/thumbfetch
fi
tf_src=$(readlink -f "$tf")
root=${TMPDIR:-/tmp}/dlbench
cache=$root/cache
mkdir -p "$cache"
work=$(mktemp -d "$root/run.XXXXXX")
chmod 755 "$work"   # nginx's workers (www-data) read the served files under it
mkdir -p "$work/bin" "$work/www/img" "$work/logs" "$work/tmp" "$work/out" "$work/lists"
tfb=$work/bin/thumbfetch
cp "$tf_src" "$tfb"
has_fetch=0
if "$tfb" fetch --help >/dev/null 2>&1; then has_fetch=1; fi
tf_note="$(stat -c '%y' "$tf_src" | cut -d. -f1), sha256 $(sha256sum "$tfb" | cut -c1-12)"
[ $has_fetch = 1 ] || { tf_note="$tf_note; NO fetch command: thumbfetch contestants skipped"; say "WARNING: $tf_src has no 'fetch' command: thumbfetch contestants are skipped"; }

pids=()
nginx_pid=""
cleanup() {
  local rc=$?
  set +e
  if [ -n "$nginx_pid" ]; then kill -QUIT "$nginx_pid" 2>/dev/null; fi
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for _ in $(seq 1 50); do   # at most 5 s for them to go
    alive=0
    for p in $nginx_pid "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for p in $nginx_pid "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  if [ "${KEEP:-0}" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
  [ -n "${scale_out:-}" ] && rm -rf "$scale_out"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- SCALE=3000: the 3,000-URL benchmark of issue 9, alone ---------------------------------------
# 300 web-sized photos (../shared/bench/make_corpus.sh's corpus_web; WEB_CORPUS=dir for another),
# ten query strings each (distinct URLs, the same files), from nginx on 127.0.0.1: http at +0 and
# +50 ms and https with HTTP/2 (a bench CA made here with openssl) at +0 ms. wget2 64 threads,
# thumbfetch async -j 64 and threads -j 64, RUNS times interleaved; medians of wall and CPU
# (user+sys); PASS/FAIL lines for the targets. Nothing else of this script runs.
scale_bench() {
  local copies=10 n_files=$((SCALE / 10))
  local web=${WEB_CORPUS:-/tmp/corpus/corpus_web}
  if [ ! -d "$web" ]; then
    [ "$(basename "$web")" = corpus_web ] || { echo "no corpus at $web" >&2; exit 2; }
    say "making the web corpus: $shared/make_corpus.sh $(dirname "$web")"
    "$shared/make_corpus.sh" "$(dirname "$web")" >&2
  fi
  local corpus_text
  corpus_text=$($tool select "$web" "$work/www/img" "$work/sizes.tsv" "$n_files" 1 50000000)
  say "files: $corpus_text"
  # The bench CA and a certificate for 127.0.0.1 (as tests/support/tls_nginx.cpp makes them).
  local tls=$work/tls
  mkdir -p "$tls"
  echo "subjectAltName=IP:127.0.0.1,DNS:localhost" > "$tls/ext.cnf"
  {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$tls/ca.key" \
      -out "$tls/ca.pem" -days 2 -subj "/CN=thumbfetch bench CA"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$tls/server.key" \
      -out "$tls/server.csr" -subj "/CN=127.0.0.1"
    openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
      -out "$tls/server.pem" -days 2 -extfile "$tls/ext.cnf"
  } >"$work/logs/openssl.log" 2>&1 || { cat "$work/logs/openssl.log" >&2; exit 2; }
  local p0 p50 p200 ph2
  read -r p0 p50 p200 ph2 < <($tool freeports 4)
  printf 'server {   # https + HTTP/2, no added latency\n    listen 127.0.0.1:%s ssl http2;\n    ssl_certificate %s;\n    ssl_certificate_key %s;\n    location / { }\n}\n' \
    "$ph2" "$tls/server.pem" "$tls/server.key" > "$work/tls.conf"
  sed -e "s|/tmp/dlbench|$work|g" -e "s|127.0.0.1:18080;|127.0.0.1:$p0;|" \
      -e "s|127.0.0.1:18081;|127.0.0.1:$p50;|" -e "s|127.0.0.1:18082;|127.0.0.1:$p200;|" \
      -e "s|^    server {   # (a) no added latency|    include $work/tls.conf;\n&|" \
      "$shared/nginx-latency.conf" > "$work/nginx.conf"
  grep -q "include $work/tls.conf" "$work/nginx.conf" || { echo "could not rewrite the nginx config" >&2; exit 2; }
  mkdir -p "$work/tmp/body" "$work/tmp/proxy" "$work/tmp/fastcgi" "$work/tmp/uwsgi" "$work/tmp/scgi"
  nginx -p "$work/" -c "$work/nginx.conf" -e "$work/logs/error.log" &
  nginx_pid=$!
  local first
  first=$(head -1 "$work/sizes.tsv" | cut -f1)
  declare -A sbase=([http,0]=http://127.0.0.1:$p0 [http,50]=http://127.0.0.1:$p50 [https,0]=https://127.0.0.1:$ph2)
  local key ok
  for key in http,0 http,50 https,0; do
    ok=0
    for _ in $(seq 1 50); do
      if curl -q -s -f --cacert "$tls/ca.pem" -o /dev/null --max-time 2 "${sbase[$key]}/img/$first"; then ok=1; break; fi
      sleep 0.1
    done
    [ $ok = 1 ] || { echo "nginx on ${sbase[$key]} does not answer; $work/logs/error.log:" >&2; cat "$work/logs/error.log" >&2; exit 2; }
    $tool queryurls "${sbase[$key]}" "$work/sizes.tsv" "$work/lists/${key/,/-}.txt" "$copies"
  done
  say "nginx (pid $nginx_pid): ${sbase[http,0]} ${sbase[http,50]} ${sbase[https,0]} (HTTP/2)"
  local cont=(wget2_64)
  [ $has_fetch = 1 ] && cont+=(tf_async64 tf_threads64)
  if [ -n "${CONTESTANTS:-}" ]; then
    local keep=() id
    for id in "${cont[@]}"; do [[ " $CONTESTANTS " == *" $id "* ]] && keep+=("$id"); done
    cont=("${keep[@]}")
    [ ${#cont[@]} -gt 0 ] || { echo "CONTESTANTS matches none of: wget2_64 tf_async64 tf_threads64" >&2; exit 2; }
  fi
  # scale_command ID LIST OUT SCHEME: the command line
  scale_command() {
    local ca=""
    case $1 in
      wget2_64)     [ "$4" = https ] && ca="--ca-certificate=$tls/ca.pem"
                    echo "wget2 --no-config -q --max-threads=64 --no-robots -nd --no-hsts --no-hpkp --tries=3 $ca -i $2 -P $3" ;;
      tf_async64)   [ "$4" = https ] && ca="--cacert $tls/ca.pem"
                    echo "$tfb fetch --urls $2 -o $3 --strategy async -j 64 --per-host 64 -q $ca" ;;
      tf_threads64) [ "$4" = https ] && ca="--cacert $tls/ca.pem"
                    echo "$tfb fetch --urls $2 -o $3 --strategy threads -j 64 --per-host 64 -q $ca" ;;
    esac
  }
  # The downloads go to tmpfs (SCALE_OUT, default /dev/shm): on this VM's ext4 (no journal)
  # creating files right after deleting thousands scans the recently deleted inodes, seconds of
  # kernel time that fall on whichever contestant runs next, whatever it is.
  local out_root=${SCALE_OUT:-/dev/shm}
  [ -d "$out_root" ] && [ -w "$out_root" ] || out_root=$work/out
  scale_out=$(mktemp -d "$out_root/dlbench-out.XXXXXX")
  local results=$work/scale.jsonl run k srv lat list n=${#cont[@]}
  : > "$results"
  say "$runs runs x 3 servers x $n contestants, $SCALE URLs each"
  for run in $(seq 1 "$runs"); do
    for key in http,0 http,50 https,0; do
      srv=${key%,*}; lat=${key#*,}
      list=$work/lists/${key/,/-}.txt
      for k in $(seq 0 $((n - 1))); do
        id=${cont[$(( (k + run - 1) % n ))]}
        # shellcheck disable=SC2046
        $tool run --results "$results" --id "$id" --server "$srv" --latency "$lat" --run "$run" \
          --urls "$list" --sizes "$work/sizes.tsv" --out "$scale_out/$id" --timeout 300 \
          --log "$work/logs/$id.log" --stats "" -- $(scale_command "$id" "$list" "$scale_out/$id" "$srv")
      done
    done
  done
  local load_end date_tag report
  load_end=$(cut -d' ' -f1-3 /proc/loadavg)
  say "load average at end: $load_end"
  date_tag=$(date +%Y-%m-%d)
  mkdir -p "$bench/results"
  BENCH_META_DATE=$date_tag BENCH_META_LOAD_START=$load_start BENCH_META_LOAD_END=$load_end \
  BENCH_META_TF="${THUMBFETCH:-build/thumbfetch}" BENCH_META_TF_NOTE="$tf_note" \
  BENCH_META_VERSIONS="$(wget2 --version | head -1 | cut -d' ' -f1-3), $(nginx -v 2>&1 | sed 's|nginx version: ||'), $(openssl version | cut -d' ' -f1-2)" \
  BENCH_META_RUNS=$runs BENCH_META_COMMAND="SCALE=$SCALE ${THUMBFETCH:+THUMBFETCH=$THUMBFETCH }bench/fetch_bench.sh${1:+ $1}" \
  BENCH_META_CORPUS="$web, $n_files files x $copies query strings (?v=0..$((copies - 1))): $corpus_text; downloads written to $out_root" \
  BENCH_META_MACHINE="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GB, $(uname -r)" \
  $py -c 'import json, os, sys
e = os.environ
json.dump({k[11:].lower(): v for k, v in e.items() if k.startswith("BENCH_META_")}, open(sys.argv[1], "w"))' "$work/scale-meta.json"
  report=$bench/results/fetch-scale-$date_tag.md
  $tool scale-report "$results" "$work/scale-meta.json" > "$report"
  cp "$results" "$bench/results/fetch-scale-$date_tag.jsonl"
  cat "$report"
  say "written $report (raw runs: bench/results/fetch-scale-$date_tag.jsonl)"
}
if [ -n "${SCALE:-}" ]; then
  [[ $SCALE =~ ^[1-9][0-9]*0$ ]] || { echo "SCALE must be a multiple of 10 (the URL count, 10 per file)" >&2; exit 2; }
  scale_bench "$@"
  exit 0
fi

# --- the files: 500 images of 50-300 KB ----------------------------------------------------------
# `thumbfetch corpus -n 1000 --seed 1` (deterministic) in the cache; about half of its images are
# 50,000-300,000 bytes (the large ones are mostly PNGs, the small ones small JPEGs): the first 500
# of those, by name, are served.
corpus=$cache/corpus-s1-n1000
if [ ! -d "$corpus" ]; then
  say "making the corpus (thumbfetch corpus -n 1000 --seed 1, once, about 2 minutes on 2 cores)"
  rm -rf "$corpus.tmp"
  "$tfb" corpus "$corpus.tmp" -n 1000 --seed 1 >/dev/null
  mv "$corpus.tmp" "$corpus"
fi
corpus_text=$($tool select "$corpus" "$work/www/img" "$work/sizes.tsv" 500 50000 300000)
say "files: $corpus_text"
# The tiny image of the memory test: a 16x16 thumbnail of the first file.
first=$(head -1 "$work/sizes.tsv" | cut -f1)
"$tfb" thumbs "$work/www/img/$first" -o "$work/tinymk" --size 16x16 >/dev/null
mv "$work/tinymk/${first%.*}.jpg" "$work/www/tiny.jpg"
tiny_size=$(stat -c %s "$work/www/tiny.jpg")

# --- servers -------------------------------------------------------------------------------------
read -r p0 p50 p200 < <($tool freeports 3)
sed -e "s|/tmp/dlbench|$work|g" -e "s|127.0.0.1:18080;|127.0.0.1:$p0;|" \
    -e "s|127.0.0.1:18081;|127.0.0.1:$p50;|" -e "s|127.0.0.1:18082;|127.0.0.1:$p200;|" \
    -e 's|location / { }|location / { }\n        location /tiny/ { try_files /tiny.jpg =404; }   # memory test: every name is the tiny file|' \
    "$shared/nginx-latency.conf" > "$work/nginx.conf"
grep -q "127.0.0.1:$p200;" "$work/nginx.conf" || { echo "could not rewrite the nginx config" >&2; exit 2; }
mkdir -p "$work/tmp/body" "$work/tmp/proxy" "$work/tmp/fastcgi" "$work/tmp/uwsgi" "$work/tmp/scgi"
nginx -p "$work/" -c "$work/nginx.conf" -e "$work/logs/error.log" &
nginx_pid=$!
declare -A base
base[nginx,0]=http://127.0.0.1:$p0
base[nginx,50]=http://127.0.0.1:$p50
base[nginx,200]=http://127.0.0.1:$p200
for lat in 0 50 200; do
  "$tfb" serve --dir "$work/www/img" --latency "$lat" --port 0 >"$work/serve-$lat.out" 2>"$work/serve-$lat.err" &
  pids+=($!)
done
for lat in 0 50 200; do
  for _ in $(seq 1 300); do   # at most 30 s (it reads 500 files at start)
    grep -q '^listening on ' "$work/serve-$lat.out" 2>/dev/null && break
    sleep 0.1
  done
  line=$(head -1 "$work/serve-$lat.out")
  [[ $line =~ ^listening\ on\ (http://127\.0\.0\.1:[0-9]+)$ ]] || {
    echo "thumbfetch serve --latency $lat did not start: $line $(cat "$work/serve-$lat.err")" >&2; exit 2; }
  base[tfserve,$lat]=${BASH_REMATCH[1]}
done
for lat in 0 50 200; do
  ok=0
  for _ in $(seq 1 50); do
    if curl -q -s -f -o /dev/null --max-time 2 "${base[nginx,$lat]}/img/$first"; then ok=1; break; fi
    sleep 0.1
  done
  [ $ok = 1 ] || { echo "nginx on ${base[nginx,$lat]} does not answer; $work/logs/error.log:" >&2; cat "$work/logs/error.log" >&2; exit 2; }
done
curl -q -s -f -o /dev/null --max-time 2 "${base[nginx,0]}/tiny/t1.jpg" || { echo "nginx /tiny/ does not answer" >&2; exit 2; }
say "nginx (pid $nginx_pid): ${base[nginx,0]} ${base[nginx,50]} ${base[nginx,200]}"
say "thumbfetch serve: ${base[tfserve,0]} ${base[tfserve,50]} ${base[tfserve,200]}"

# --- URL lists and curl configs ------------------------------------------------------------------
for srv in nginx tfserve; do
  for lat in 0 50 200; do
    $tool urls "${base[$srv,$lat]}" "$work/sizes.tsv" "$work/lists/$srv-$lat.txt"
    $tool urls "${base[$srv,$lat]}" "$work/sizes.tsv" "$work/lists/$srv-$lat-serial.txt" "$serial_n"
    sed 's|.*|url = "&"|' "$work/lists/$srv-$lat.txt" > "$work/lists/$srv-$lat.curl"
  done
done

# --- contestants ---------------------------------------------------------------------------------
contestants=(py_serial py_tpe16 curl64 aria2c64 wget2_64)
[ $has_fetch = 1 ] && contestants+=(tf_serial tf_threads64 tf_async64 tf_async256)
if [ -n "${CONTESTANTS:-}" ]; then   # a subset, e.g. CONTESTANTS="wget2_64 tf_async64"
  keep=()
  for id in "${contestants[@]}"; do [[ " $CONTESTANTS " == *" $id "* ]] && keep+=("$id"); done
  contestants=("${keep[@]}")
  [ ${#contestants[@]} -gt 0 ] || { echo "CONTESTANTS matches none of the contestants" >&2; exit 2; }
fi
# command_for ID URLS OUT CURLCFG: the command line, one word per line
command_for() {
  local id=$1 u=$2 o=$3 cfg=$4
  case $id in
    py_serial)    echo "$py $bench/fetch_py.py serial $u $o" ;;
    py_tpe16)     echo "$py $bench/fetch_py.py threads $u $o 16" ;;
    curl64)       echo "curl -q --parallel --parallel-max 64 -s -S --fail --remote-name-all --output-dir $o --config $cfg" ;;
    aria2c64)     echo "aria2c --no-conf -q -j 64 -x 16 -s 1 --file-allocation=none --allow-overwrite=true --auto-file-renaming=false --max-tries=3 --disable-ipv6=true -i $u -d $o" ;;
    wget2_64)     echo "wget2 --no-config -q --max-threads=64 --no-robots -nd --no-hsts --no-hpkp --tries=3 -i $u -P $o" ;;
    tf_serial)    echo "$tfb fetch --urls $u -o $o --strategy serial" ;;
    tf_threads64) echo "$tfb fetch --urls $u -o $o --strategy threads -j 64 --per-host 64" ;;
    tf_async64)   echo "$tfb fetch --urls $u -o $o --strategy async -j 64 --per-host 64" ;;
    tf_async256)  echo "$tfb fetch --urls $u -o $o --strategy async -j 256 --per-host 256" ;;
  esac
}
results=$work/results.jsonl
: > "$results"
n_cont=${#contestants[@]}
say "$runs runs x 2 servers x 3 latencies x $n_cont contestants (serial ones: first $serial_n URLs at 50/200 ms)"
for run in $(seq 1 "$runs"); do
  for srv in nginx tfserve; do
    for lat in 0 50 200; do
      for k in $(seq 0 $((n_cont - 1))); do
        id=${contestants[$(( (k + run - 1) % n_cont ))]}
        list=$work/lists/$srv-$lat.txt
        if [[ $id == *serial && $lat != 0 ]]; then list=$work/lists/$srv-$lat-serial.txt; fi
        stats=""
        [ "$srv" = tfserve ] && stats=${base[$srv,$lat]}/stats
        # shellcheck disable=SC2046
        $tool run --results "$results" --id "$id" --server "$srv" --latency "$lat" --run "$run" \
          --urls "$list" --sizes "$work/sizes.tsv" --out "$work/out/$id" --timeout 300 \
          --log "$work/logs/$id.log" --stats "$stats" \
          -- $(command_for "$id" "$list" "$work/out/$id" "$work/lists/$srv-$lat.curl")
      done
    done
  done
done

# --- memory: 1,000,000 URLs of a tiny image, 0 ms ------------------------------------------------------
memory_json='null'
mem_cmd="thumbfetch fetch --urls tiny-urls.txt -o DIR --strategy async -j 256 --per-host 256 -q"
if [ "${SKIP_MEMORY:-0}" = 1 ]; then
  memory_json='{"skipped": "SKIP_MEMORY=1"}'
elif [ $has_fetch = 0 ]; then
  memory_json='{"skipped": "thumbfetch has no fetch command"}'
else
  say "memory: $mem_n URLs (distinct names, all the $tiny_size-byte tiny.jpg via nginx try_files), async -j 256"
  $tool tinyurls "${base[nginx,0]}" "$mem_n" "$work/lists/tiny.txt"
  $tool run --results "$work/memory.jsonl" --id tf_async256_mem --server nginx --latency 0 --run 1 \
    --urls "$work/lists/tiny.txt" --sizes "$tiny_size" --out "$work/out/mem" --timeout 900 \
    --log "$work/logs/memory.log" --stats "" \
    -- /usr/bin/time -v -o "$work/memory.timev" "$tfb" fetch --urls "$work/lists/tiny.txt" \
       -o "$work/out/mem" --strategy async -j 256 --per-host 256 -q
  memory_json=$(printf '{"results": "%s", "timev": "%s", "command": "%s", "note": "URLs %s/tiny/t000000.jpg ... (distinct names, so %s distinct files), nginx answers each with the %s-byte tiny.jpg (try_files)."}' \
    "$work/memory.jsonl" "$work/memory.timev" "$mem_cmd" "${base[nginx,0]}" "$mem_n" "$tiny_size")
  say "$(awk -v n="$mem_n" -F': ' '/Maximum resident set size/ { kb = $2 } /Elapsed \(wall clock\)/ {
      k = split($2, p, ":"); for (i = 1; i <= k; i++) s = s * 60 + p[i] }
    END { printf "memory: %d URLs, peak RSS %.1f MB: %s (<= 150 MB); %.0f images/s: %s (>= 5,000)",
          n, kb * 1.024 / 1000, kb * 1.024 / 1000 <= 150 ? "PASS" : "FAIL", n / s, n / s >= 5000 ? "PASS" : "FAIL" }' \
      "$work/memory.timev")"
fi

# --- the report ----------------------------------------------------------------------------------
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
say "load average at end: $load_end"
date_tag=$(date +%Y-%m-%d)
mkdir -p "$bench/results"
commands_json=$(
  for id in "${contestants[@]}"; do
    lat_list="LIST"; o="DIR"
    printf '%s\t%s\n' "$id" "$(command_for "$id" "$lat_list" "$o" "CURL_CONFIG" | sed -e "s|$bench/|bench/|g" -e "s|$tfb|thumbfetch|g")"
  done | $py -c 'import json,sys; print(json.dumps(dict(l.rstrip("\n").split("\t",1) for l in sys.stdin)))')
versions="$(curl --version | head -1 | cut -d' ' -f1-2), $(aria2c --version | head -1), $(wget2 --version | head -1 | cut -d' ' -f1-3), $($py --version) with requests $($py -c 'import requests; print(requests.__version__)'), $(nginx -v 2>&1 | sed 's|nginx version: ||')"
export BENCH_META_DATE=$date_tag BENCH_META_LOAD_START=$load_start BENCH_META_LOAD_END=$load_end \
  BENCH_META_TF="${THUMBFETCH:-build/thumbfetch}" BENCH_META_TF_NOTE="$tf_note" \
  BENCH_META_VERSIONS="$versions" BENCH_META_SERIAL_N=$serial_n BENCH_META_RUNS=$runs \
  BENCH_META_CORPUS="thumbfetch corpus -n 1000 --seed 1, the first 500 by name of 50,000-300,000 bytes: $corpus_text" \
  BENCH_META_COMMAND="${THUMBFETCH:+THUMBFETCH=$THUMBFETCH }bench/fetch_bench.sh${1:+ $1}" \
  BENCH_META_MACHINE="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GB, $(uname -r)" \
  BENCH_META_COMMANDS="$commands_json" BENCH_META_MEMORY="$memory_json"
$py - "$work/meta.json" <<'EOF'
import json, os, sys
e = os.environ
meta = {"date": e["BENCH_META_DATE"], "load_start": e["BENCH_META_LOAD_START"],
        "load_end": e["BENCH_META_LOAD_END"], "thumbfetch": e["BENCH_META_TF"],
        "thumbfetch_note": e["BENCH_META_TF_NOTE"], "versions": e["BENCH_META_VERSIONS"],
        "serial_n": int(e["BENCH_META_SERIAL_N"]), "runs": int(e["BENCH_META_RUNS"]),
        "corpus": e["BENCH_META_CORPUS"], "command": e["BENCH_META_COMMAND"],
        "machine": e["BENCH_META_MACHINE"], "commands": json.loads(e["BENCH_META_COMMANDS"]),
        "memory_run": json.loads(e["BENCH_META_MEMORY"]),
        "notes": [
            "img/s = URLs / median wall time of the whole command; ratios are taken between cells of this run.",
            "Ceiling = requests in flight / added latency (transfer time ignored): 64 / 0.05 s = 1,280, 64 / 0.2 s = 320 img/s.",
            "Serial target: the issue's 'within 5% of one image per latency' is read as >= 0.95 / latency (19 img/s at 50 ms, 4.75 at 200 ms); "
            "the same line also shows the rate against 1 / (latency + thumbfetch serial's own time per image at 0 ms), which counts the transfer.",
            "The Python contestants call requests.get(link) per image with no Session, as the reference notebook does.",
            "curl gets the URLs through --config (url = \"...\" lines) with --remote-name-all --output-dir; aria2c and wget2 through -i.",
        ]}
with open(sys.argv[1], "w") as f:
    json.dump(meta, f, indent=1)
EOF
report=$bench/results/fetch-$date_tag.md
$tool report "$results" "$work/meta.json" > "$report"
cp "$results" "$bench/results/fetch-$date_tag.jsonl"
cat "$report"
say "written $report (raw runs: bench/results/fetch-$date_tag.jsonl)"
