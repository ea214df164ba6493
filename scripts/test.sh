#!/usr/bin/env bash
# Every test, from a fresh Debian 12 machine: install packages, build, run CTest; then the whole
# suite again under ASan+UBSan, the concurrency tests under TSan, and each libFuzzer target for
# 30 s. Each stage prints its wall time.
#   scripts/test.sh [--quick] [--no-asan] [--no-tsan] [--no-fuzz] [-- ctest args for the first stage]
#   --quick   the normal build and CTest only (what a developer runs before a commit)
set -euo pipefail
cd "$(dirname "$0")/.."
asan=1 tsan=1 fuzz=1
while (($#)); do
  case "$1" in
    --quick) asan=0 tsan=0 fuzz=0 ;;
    --no-asan) asan=0 ;;
    --no-tsan) tsan=0 ;;
    --no-fuzz) fuzz=0 ;;
    --) shift; break ;;
    *) break ;;
  esac
  shift
done

stage() {
  local name=$1 start=$SECONDS
  shift
  echo "== test.sh: $name"
  "$@"
  echo "== test.sh: $name passed in $((SECONDS - start)) s"
}

normal() {
  scripts/build.sh
  (cd "${SFTS_BUILD_DIR:-build}" && ctest --output-on-failure --timeout 900 -j"$(nproc)" "$@")
}

stage setup scripts/setup.sh
stage "build + ctest" normal "$@"
((asan)) && stage "ASan+UBSan suite" scripts/sanitize.sh address
((tsan)) && stage "TSan concurrency tests" scripts/sanitize.sh thread
((fuzz)) && stage "fuzzing 30 s per target" scripts/fuzz.sh 30
echo "== test.sh: all stages passed in $SECONDS s"
