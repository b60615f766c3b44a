#!/usr/bin/env bash
# Issue 7's compatibility figure: of the still images Pillow 9.4 thumbnails in the public test
# collections, how many does `thumbfetch thumbs` thumbnail, with Pillow's dimensions?
#   bench/pillow_compat.sh [COLLECTION_DIR...]
# Default: every collection under ../shared/testimages/. Environment: THUMBFETCH (default
# build/thumbfetch, built with scripts/setup.sh when missing), KEEP=1 keeps the work dir.
# Prints the counts, the percentage and each miss with thumbfetch's message (target: 97%).
set -euo pipefail
bench=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$bench")
tf=${THUMBFETCH:-$repo/build/thumbfetch}
py=/usr/bin/python3   # Debian's python3 with python3-pil (Pillow 9.4), not a pyenv one

"$repo/scripts/install-packages.sh" python3-pil
if [ ! -x "$tf" ]; then
  "$repo/scripts/setup.sh" >&2
  tf=$repo/build/thumbfetch
fi
if [ $# -eq 0 ]; then
  shared=$repo/../shared/testimages
  [ -d "$shared" ] || { echo "no collections at $shared (give folders as arguments)" >&2; exit 2; }
  set -- "$shared"/*/
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/pillow_compat.XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
echo "Pillow $("$py" -c 'import PIL; print(PIL.__version__)'), thumbfetch $tf, work dir $work"
"$py" "$bench/pillow_compat.py" "$tf" "$work" "$@"
