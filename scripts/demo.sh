#!/usr/bin/env bash
# The main job on a built-in default, offline: sets up, generates a corpus of photo-like images
# and thumbnails it with each strategy, checking that every strategy wrote the same bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
TF=build/thumbfetch
DEMO=${DEMO_DIR:-build/demo}
N=${DEMO_IMAGES:-200}
rm -rf "$DEMO/thumbs-"*
$TF corpus "$DEMO/images" -n "$N"
for strategy in serial threads processes; do
  printf '%-10s ' "$strategy"
  $TF thumbs "$DEMO/images" -o "$DEMO/thumbs-$strategy" --strategy "$strategy" -j "$(nproc)"
done
diff -r "$DEMO/thumbs-serial" "$DEMO/thumbs-threads" >/dev/null &&
  diff -r "$DEMO/thumbs-serial" "$DEMO/thumbs-processes" >/dev/null &&
  echo "all strategies wrote identical thumbnails: $DEMO/thumbs-serial"
