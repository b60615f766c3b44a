#!/usr/bin/env bash
# Installs what thumbfetch needs (Debian packages, only those missing) and builds it in build/.
#   scripts/setup.sh            build only
#   BUILD_DIR=... BUILD_TYPE=Debug SANITIZE=address,undefined scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config git
  libvips-dev libturbojpeg0-dev libspng-dev libcurl4-openssl-dev libssl-dev
  libcli11-dev libfmt-dev nlohmann-json3-dev libgtest-dev
  nginx libnginx-mod-http-echo
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" \
  -DTHUMBFETCH_SANITIZE="${SANITIZE:-}" >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"
