#!/usr/bin/env bash
# The main job on a built-in default, offline: sets everything up, then `thumbfetch demo`. It
# serves a generated corpus on 127.0.0.1 with web-like latency, collects the links through the
# server's Imgur API look-alike, runs every download and thumbnail approach and the streamed
# pipeline on them, prints the comparison table and writes the report (index.html, chart,
# CSV/JSON) to ./thumbfetch-demo/. Extra arguments go to `thumbfetch demo` (-n 200, --latency
# 20, --repeat 1, -o DIR ...; `build/thumbfetch demo --help` lists them).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
exec build/thumbfetch demo "$@"
