#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh) and runs the whole test suite with CTest.
#   scripts/test.sh                               the suite (build/)
#   SANITIZE=address,undefined scripts/test.sh    the suite under ASan+UBSan (build-asan/)
#   SANITIZE=thread scripts/test.sh               the concurrency tests under TSan (build-tsan/)
#   scripts/test.sh all                           what CI runs: the suite, a real Slurm array job
#                                                 (scripts/test-slurm.sh), the two sanitizer runs,
#                                                 a short run of every fuzz target, timed
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = all ]; then
  # Every step runs even when one fails, and the wall time of each is printed at the end.
  summary=() failed=0
  step() {
    local name=$1 start=$SECONDS status=0
    shift
    echo "=== $name" >&2
    "$@" || status=$?
    summary+=("$(printf '%-28s %5d s  %s' "$name" $((SECONDS - start)) \
      "$([ $status -eq 0 ] && echo ok || echo "FAILED ($status)")")")
    [ $status -eq 0 ] || failed=1
  }
  step "suite" scripts/test.sh
  step "Slurm array job on loopback" scripts/test-slurm.sh
  step "suite, ASan+UBSan" env SANITIZE=address,undefined scripts/test.sh
  step "concurrency tests, TSan" env SANITIZE=thread scripts/test.sh
  step "fuzz targets, ${FUZZ_SECONDS:-30} s each" scripts/fuzz.sh "${FUZZ_SECONDS:-30}"
  printf '%s\n' "=== wall time per step" "${summary[@]}" >&2
  exit $failed
fi

# The concurrency tests, the ones TSan can say something about: the thumbnail pool and its
# strategies, per-image isolation across workers, the download strategies against a real
# server, the streamed pipeline (run), the Imgur collector and the server under load.
TSAN_TESTS='ThumbPool|ThumbnailIsolation|FetchServer|FetchScale|CliRun|SourceImgur|ServeConcurrency|ServeImageServer\.'
CTEST_ARGS=()
if [ -n "${SANITIZE:-}" ]; then
  # Each sanitizer in its own build folder, asserts on (Debug; cmake/Warnings.cmake adds -O1).
  case "$SANITIZE" in
    *thread*) export BUILD_DIR=${BUILD_DIR:-build-tsan}; CTEST_ARGS=(-R "$TSAN_TESTS") ;;
    *) export BUILD_DIR=${BUILD_DIR:-build-asan} ;;
  esac
  export BUILD_TYPE=${BUILD_TYPE:-Debug}
  source scripts/sanitizers/env.sh
fi

# The Python module (built by setup.sh when pybind11 is there) and its tests: pytest and the
# example notebook executed headless.
scripts/install-packages.sh pybind11-dev python3-dev python3-pandas python3-numpy \
  python3-matplotlib python3-pytest python3-tqdm jupyter-nbconvert python3-ipykernel
scripts/setup.sh
# The report test renders index.html in a real browser.
scripts/install-packages.sh chromium
BUILD_DIR=${BUILD_DIR:-build}
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" --timeout 600 "${CTEST_ARGS[@]}"
