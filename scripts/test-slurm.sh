#!/usr/bin/env bash
# A real Slurm run on loopback: munged, slurmctld and slurmd for one node on 127.0.0.1 (stopped
# however this ends), `thumbfetch serve` with a generated corpus, scripts/slurm/thumbfetch.sbatch
# as a 4-task array with one task killed (scancel --signal=KILL), the shards `status` reports
# missing resubmitted, `merge`, and the result compared with a single-machine `run` of the same
# list: the same thumbnails byte for byte, one ok row per URL. Prints the figures at the end.
#   scripts/test-slurm.sh            (root, or sudo for the packages; builds build/ if needed)
#   IMAGES=400 SHARDS=4 KEEP=1 scripts/test-slurm.sh
#   TERM_TEST=1 scripts/test-slurm.sh   also the recipe's time-limit path: TERM to a task's batch
#                                       shell, requeued, resumed (+~3 min: Slurm's requeue delay)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
IMAGES=${IMAGES:-160}
SHARDS=${SHARDS:-4}
KILLED=${KILLED:-1}     # the task that is killed
LATENCY=${LATENCY:-250} # ms per request: a shard takes seconds, so the kill lands mid-run
BUILD_DIR=${BUILD_DIR:-build}

if [ "$(id -u)" -ne 0 ]; then
  # Said plainly and not counted as a pass or a failure: CI runs as root.
  echo "test-slurm: SKIPPED: needs root (slurmd starts jobs as their user)" >&2
  exit 0
fi
scripts/install-packages.sh slurm-wlm munge jq curl iproute2
[ -x "$BUILD_DIR/thumbfetch" ] || BUILD_DIR=$BUILD_DIR scripts/setup.sh
exe=$repo/$BUILD_DIR/thumbfetch

work=$(mktemp -d /tmp/thumbfetch-slurm-XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  local rc=$?
  if [ -n "${SLURM_CONF:-}" ]; then
    # scancel does not wait: give the tasks up to 30 s to go before the daemons do.
    scancel --quiet --user=root 2>/dev/null || true
    for _ in $(seq 150); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.2; done
  fi
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$rc" -ne 0 ]; then
    echo "test-slurm: FAILED (exit $rc); logs in $work" >&2
    tail -n 20 "$work"/*.log "$work"/logs/* 2>/dev/null >&2 || true
  elif [ -z "${KEEP:-}" ]; then
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits up to $1 seconds for the command after it to succeed.
await() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "test-slurm: timed out waiting for: $*" >&2
      return 1
    fi
    sleep 0.2
  done
}
free_port() {
  local p
  while :; do
    p=$(shuf -i 20000-59999 -n 1)
    ss -ltnH "sport = :$p" | grep -q . || { echo "$p"; return; }
  done
}

# --- munge, with its own key and socket -----------------------------------------------------
mkdir -p "$work/munge" && chmod 700 "$work/munge"
mungekey --create --keyfile="$work/munge/munge.key" --force
chmod 400 "$work/munge/munge.key"
munged --foreground --force --socket="$work/munge/munge.sock" --key-file="$work/munge/munge.key" \
  --pid-file="$work/munge/munged.pid" --log-file="$work/munged.log" \
  --seed-file="$work/munge/seed" >"$work/munged.out" 2>&1 &
pids+=($!)
await 10 test -S "$work/munge/munge.sock"

# --- Slurm: one node, this machine, on 127.0.0.1 -------------------------------------------
host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$work/state" "$work/spool" "$work/logs"
export SLURM_CONF=$work/slurm.conf
cat >"$SLURM_CONF" <<EOF
ClusterName=thumbfetch
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.sock
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobRequeue=1
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -D -i -f "$SLURM_CONF" >"$work/slurmctld.out" 2>&1 &
pids+=($!)
await 20 scontrol ping
slurmd -D -f "$SLURM_CONF" -N "$host" >"$work/slurmd.out" 2>&1 &
pids+=($!)
await 30 bash -c "sinfo -h -N -o %t | grep -qx idle"

# --- the corpus --------------------------------------------------------------------------
"$exe" serve --generate "$IMAGES" --latency "$LATENCY" >"$work/serve.log" 2>&1 &
pids+=($!)
await 180 grep -q "listening on" "$work/serve.log"  # generating the images takes a while
base=$(sed -n 's/^listening on //p' "$work/serve.log" | head -n 1)
curl -sf "$base/list.txt" >"$work/urls.txt"
urls=$(grep -c . "$work/urls.txt")
echo "test-slurm: $urls URLs from $base, $SHARDS shards, one node with $cpus CPUs"

# --- the array job, one task killed -------------------------------------------------------
out=$work/out
# --no-requeue: a task killed by a signal would otherwise be requeued by Slurm itself (after its
# requeue delay), and the resubmission from `status` is what this test is about.
sbatch_run() {  # sbatch_run ARRAY_SPEC
  # Bounded: a node that goes down or a job left pending must not hold CI for ever.
  THUMBFETCH=$exe timeout 900 sbatch --wait --parsable --no-requeue --array="$1" --cpus-per-task=1 \
    --output="$work/logs/%A_%a.out" --open-mode=append scripts/slurm/thumbfetch.sbatch \
    "$work/urls.txt" "$out" "$SHARDS" -j 4 -w 1
}
t0=$SECONDS
start=$(date +%s.%N)
sbatch_run "0-$((SHARDS - 1))" >"$work/sbatch1.txt" 2>&1 &
sbatch_pid=$!
await 20 grep -qE '^[0-9]+' "$work/sbatch1.txt"
job=$(grep -oE '^[0-9]+' "$work/sbatch1.txt" | head -n 1)
# Killed while it works: once its lock names its pid and it has settled a few items.
await 60 bash -c "grep -q pid '$out/parts/$KILLED-of-$SHARDS/.thumbfetch.lock' &&
  [ \$(grep -c . '$out/parts/$KILLED-of-$SHARDS/run.jsonl' 2>/dev/null || echo 0) -ge 5 ]"
killed_at=$(grep -c . "$out/parts/$KILLED-of-$SHARDS/run.jsonl")
scancel --full --signal=KILL "${job}_$KILLED"
wait "$sbatch_pid" || true  # a killed task fails the array
first_wall=$((SECONDS - t0))

status_rc=0
"$exe" status "$out" >"$work/status1.txt" || status_rc=$?
cat "$work/status1.txt"
[ "$status_rc" -eq 1 ] || { echo "test-slurm: status should report the killed shard" >&2; exit 1; }
spec=$(sed -n 's/^resubmit: --array=//p' "$work/status1.txt")
[ "$spec" = "$KILLED" ] || { echo "test-slurm: expected shard $KILLED to resubmit, got '$spec'" >&2; exit 1; }
t1=$SECONDS
sbatch_run "$spec" >"$work/sbatch2.txt" 2>&1
resubmit_wall=$((SECONDS - t1))
"$exe" status "$out"
"$exe" merge "$out"
total_wall=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')

# --- the same list on one machine, compared ---------------------------------------------------
t2=$SECONDS
"$exe" run --urls "$work/urls.txt" -o "$work/single" -q -j 4 -w 1
single_wall=$((SECONDS - t2))
rows=$(grep -c . "$out/merged.jsonl")
ok_rows=$(jq -r 'select(.status == "ok") | .url' "$out/merged.jsonl" | sort -u | wc -l)
[ "$rows" -eq "$urls" ] && [ "$ok_rows" -eq "$urls" ] || {
  echo "test-slurm: $rows rows, $ok_rows distinct ok URLs; expected $urls" >&2
  exit 1
}
differ=0
while IFS= read -r file; do
  cmp -s "$out/$file" "$work/single/$(basename "$file")" || { echo "differs: $file" >&2; differ=$((differ + 1)); }
done < <(jq -r '.file' "$out/merged.jsonl")
[ "$differ" -eq 0 ] || { echo "test-slurm: $differ thumbnails differ from the single run" >&2; exit 1; }

# --- optional: the time-limit path of the recipe (TERM, requeue, resume) --------------------
term_line=""
if [ -n "${TERM_TEST:-}" ]; then
  out2=$work/out-term
  t3=$SECONDS
  job2=$(THUMBFETCH=$exe sbatch --parsable --array=0 --cpus-per-task=1 \
    --output="$work/logs/%A_%a.out" --open-mode=append scripts/slurm/thumbfetch.sbatch \
    "$work/urls.txt" "$out2" 1 -j 4 -w 1)
  job2=${job2%%;*}
  await 60 bash -c "grep -q pid '$out2/parts/0-of-1/.thumbfetch.lock' &&
    [ \$(grep -c . '$out2/parts/0-of-1/run.jsonl' 2>/dev/null || echo 0) -ge 5 ]"
  scancel --batch --signal=TERM "${job2}_0"  # what --signal=B:TERM@120 sends
  await 600 "$exe" status "$out2"
  attempts=$(grep -c . "$out2/parts/0-of-1/attempts.jsonl")
  first_settled=$(head -n 1 "$out2/parts/0-of-1/attempts.jsonl" | jq -r .all_settled)
  [ "$attempts" -eq 2 ] && [ "$first_settled" = false ] || {
    echo "test-slurm: expected a stopped attempt then a resumed one, got $attempts attempts" >&2
    exit 1
  }
  "$exe" merge "$out2" >/dev/null
  [ "$(jq -r 'select(.status == "ok") | .url' "$out2/merged.jsonl" | sort -u | wc -l)" -eq "$urls" ]
  term_line="  TERM to the batch shell: stopped, requeued by the script, resumed and done in $((SECONDS - t3)) s"
fi

ips=$(jq -r '.images_per_second | floor' "$out/summary.json")
span=$(jq -r '.span_seconds * 10 | floor / 10' "$out/summary.json")
echo "test-slurm: OK"
echo "  $urls URLs, $SHARDS shards on one node ($cpus CPUs), serve --latency $LATENCY, -j 4 -w 1 per task"
echo "  array job: ${first_wall} s with task $KILLED killed after $killed_at manifest rows"
echo "  resubmitted --array=$spec: ${resubmit_wall} s (resumed, finished items skipped)"
echo "  submit to merge: ${total_wall} s; shards' own span ${span} s, ${ips} images/s (summary.json)"
echo "  per shard (wall s over attempts): $(jq -r '[.per_shard[] | "\(.shard) \(.wall_seconds * 10 | floor / 10) s/\(.attempts)"] | join(", ")' "$out/summary.json")"
echo "  (sbatch --wait polls the job's state, so its walls include up to a few seconds of polling)"
[ -n "$term_line" ] && echo "$term_line"
echo "  single-machine run of the same list: ${single_wall} s; thumbnails identical, one ok row per URL"
