#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh) and runs the whole test suite with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
# The Python module (built by setup.sh when pybind11 is there) and its tests: pytest and the
# example notebook executed headless.
scripts/install-packages.sh pybind11-dev python3-dev python3-pandas python3-numpy \
  python3-matplotlib python3-pytest python3-tqdm jupyter-nbconvert python3-ipykernel
scripts/setup.sh
# The report test renders index.html in a real browser.
scripts/install-packages.sh chromium
BUILD_DIR=${BUILD_DIR:-build}
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" --timeout 600
