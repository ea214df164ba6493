#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan, fuzz/CMakeLists.txt) in build-fuzz/ and runs
# each for SECONDS (default 30) over its committed seed corpus fuzz/corpus/<target>/, as many at
# once as there are cores (SFTS_FUZZ_JOBS).
# A crash, sanitizer report, leak, slow input (-timeout) or memory blow-up (-rss_limit_mb,
# -malloc_limit_mb) fails the script; the input that did it is kept in build-fuzz/artifacts/.
# New inputs go to build-fuzz/fuzz-work/<target>/, never into the committed corpus.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
build=${SFTS_FUZZ_BUILD_DIR:-build-fuzz}

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$build" -G Ninja -DSFTS_FUZZ=ON -DSFTS_BUILD_TESTS=OFF \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ "${launcher[@]}" >/dev/null
cmake --build "$build" --target fuzz

if (($# > 0)); then
  targets=("$@")
else
  targets=()
  for d in fuzz/corpus/*/; do targets+=("$(basename "$d")"); done
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$build/artifacts"
# The targets run side by side, one per core; each prints its result line when it ends.
fuzz_one() {
  local t=$1 work="$build/fuzz-work/$1" log="$build/fuzz-work/$1.log"
  mkdir -p "$work"
  # -timeout: one input may take 10 s (a PBKDF2 at 100000 iterations under ASan is < 1 s);
  # -malloc_limit_mb: no single allocation over 256 MiB (a frame is at most 1.06 MiB).
  if "$build/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=512 -malloc_limit_mb=256 \
      -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" "$work" "fuzz/corpus/$t" >"$log" 2>&1; then
    local execs last
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' || true)
    echo "fuzz: $t ok: $execs executions in ${seconds}s, $last"
  else
    echo "fuzz: $t FAILED (log $log, input in $build/artifacts/):" >&2
    grep -E 'ERROR|invariant|SUMMARY|Test unit written' "$log" | head -20 >&2 || tail -40 "$log" >&2
    return 1
  fi
}
jobs_max=${SFTS_FUZZ_JOBS:-$(nproc)}
declare -A running=()
failed=()
reap() {  # waits for one running target and records its failure
  local pid
  wait -n -p pid "${!running[@]}" || failed+=("${running[$pid]}")
  unset "running[$pid]"
}
for t in "${targets[@]}"; do
  while ((${#running[@]} >= jobs_max)); do reap; done
  fuzz_one "$t" &
  running[$!]=$t
done
while ((${#running[@]})); do reap; done
if ((${#failed[@]})); then
  echo "fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
