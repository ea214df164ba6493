#!/usr/bin/env bash
# Every test, from a fresh Debian 12 machine: install packages, build, run CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
cd "${SFTS_BUILD_DIR:-build}"
ctest --output-on-failure --timeout 900 -j"$(nproc)" "$@"
