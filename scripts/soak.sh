#!/usr/bin/env bash
# The long soak: 20,000 URLs (or $1) against `thumbfetch serve` with 5% each of six faults and
# 0-20 ms latency, a hard deadline of 15 minutes (or $2 seconds). Prints wall time, outcomes per
# fault, requests served and peak RSS. The test suite runs the same soak at 2,000 URLs.
#   scripts/soak.sh [URLS] [DEADLINE_SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
[ -x "$BUILD_DIR/tests/thumbfetch_tests" ] || scripts/setup.sh
cmake --build "$BUILD_DIR" -j 2 >/dev/null
THUMBFETCH_SOAK_URLS="${1:-20000}" THUMBFETCH_SOAK_DEADLINE="${2:-900}" \
  "$BUILD_DIR/tests/thumbfetch_tests" --gtest_filter='FaultsSoak.*' --gtest_brief=1
