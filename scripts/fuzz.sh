#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/fuzz_*.cpp, with Debian's clang, ASan+UBSan) in build-fuzz/
# and runs each for SECONDS (30) from its seed corpus fuzz/corpus/NAME/. Fails when any target
# crashes, leaks, times out or breaks a property; the reproducer is left in
# build-fuzz/artifacts/ (replay: build-fuzz/fuzz/fuzz_NAME FILE).
#   scripts/fuzz.sh [SECONDS] [NAME...]      e.g. scripts/fuzz.sh 600 http_request
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-30}
shift || true

# The build's packages (scripts/setup.sh), then clang and its libFuzzer runtime.
scripts/setup.sh --packages-only
scripts/install-packages.sh clang libclang-rt-14-dev

BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DTHUMBFETCH_FUZZ=ON -DTHUMBFETCH_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" --target fuzzers
source scripts/sanitizers/env.sh

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in fuzz/fuzz_*.cpp; do names+=("$(basename "$f" .cpp | sed 's/^fuzz_//')"); done
fi
mkdir -p "$BUILD_DIR/artifacts"
failed=()
for name in "${names[@]}"; do
  # New inputs go to a work corpus in the build folder; the committed seeds stay as they are.
  work="$BUILD_DIR/corpus/$name"
  seeds="fuzz/corpus/$name"
  mkdir -p "$work" "$seeds"
  dict=(); [ ! -f "fuzz/fuzz_$name.dict" ] || dict=(-dict="fuzz/fuzz_$name.dict")
  echo "=== fuzz_$name, $SECONDS_EACH s" >&2
  if "$BUILD_DIR/fuzz/fuzz_$name" -max_total_time="$SECONDS_EACH" -timeout=20 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$BUILD_DIR/artifacts/$name-" "${dict[@]}" "$work" "$seeds" \
    >"$BUILD_DIR/fuzz_$name.log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^stat::new_units_added' "$BUILD_DIR/fuzz_$name.log" |
      tr '\n' ' ' >&2
    echo >&2
  else
    tail -n 60 "$BUILD_DIR/fuzz_$name.log" >&2
    failed+=("$name")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz targets that failed: ${failed[*]} (logs: $BUILD_DIR/fuzz_NAME.log)" >&2
  exit 1
fi
echo "fuzz: ${#names[@]} targets, $SECONDS_EACH s each, no crash" >&2
