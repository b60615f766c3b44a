#!/usr/bin/env bash
# Installs what thumbfetch needs (Debian packages, only those missing) and builds it in build/.
#   scripts/setup.sh            build only
#   BUILD_DIR=... BUILD_TYPE=Debug SANITIZE=address,undefined scripts/setup.sh
#   scripts/setup.sh --packages-only    the packages, no build (scripts/fuzz.sh builds its own)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-packages.sh \
  build-essential cmake ninja-build pkg-config git ccache \
  libvips-dev libturbojpeg0-dev libspng-dev libdeflate-dev libcurl4-openssl-dev libssl-dev \
  libcli11-dev libfmt-dev nlohmann-json3-dev libgtest-dev \
  libtiff-dev \
  libjpeg62-turbo-dev \
  libarchive-dev \
  nginx libnginx-mod-http-echo openssl \
  librsvg2-common fonts-dejavu-core \
  help2man
[ "${1:-}" != --packages-only ] || exit 0

BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" \
  -DTHUMBFETCH_SANITIZE="${SANITIZE:-}" >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"
