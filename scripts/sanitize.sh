#!/usr/bin/env bash
# Builds sfts with a sanitizer (gcc) and runs the tests under it.
#   scripts/sanitize.sh address [ctest args...]   ASan+UBSan (-DSFTS_SANITIZE=address) in build-asan/:
#                                                 every CTest test except those in ASAN_EXCLUDE
#   scripts/sanitize.sh thread  [ctest args...]   TSan (-DSFTS_SANITIZE=thread) in build-tsan/: the
#                                                 tests that run threads in one process (TSAN_TESTS)
# Every instrumented process - test binaries, and the sftsd, sfts and sfts-admin the shell tests
# start - writes its reports to BUILD/sanitizer-logs/ (log_path), so a report from a daemon whose
# exit status no test looks at still fails the run. Suppressions: scripts/sanitizers/*.supp.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:?usage: scripts/sanitize.sh address|thread [ctest args...]}
shift

# ASan: all tests but these, to stay within the CI budget: the benchmark smoke run (it times 1 GiB
# transfers; under ASan it measures the sanitizer, and its code paths are the e2e test's), the
# tmux-driven TUI test (screen-polling deadlines made for an uninstrumented sfts-tui; the TUI's
# model is still run under ASan by tui_model_test, and its network code is sfts's), the 3-minute
# load soak (its server paths are e2e's and attack_slow's, which do run), testssl.sh (its minutes
# go to the scanner; attack_tls drives the same TLS code of sftsd under ASan), the .deb check
# (packaging, not our code) and the booted-root test (it installs that package into a root
# without libasan). Also token_test_opencryptoki: opencryptoki's library leaks at exit
# (LeakSanitizer, in the library's own allocations, unnamed because the module is unloaded by
# then); its sfts code paths are run under ASan by token_test_tpm and token_test_p11kit.
ASAN_EXCLUDE='^(bench_smoke|tui_test|load_test|attack_testssl|ops_deb_test|ops_boot_test|token_test_opencryptoki)$'
# TSan: the tests with concurrency inside one process: token use from many threads (hsm_test),
# TLS deadlines and channels (net_test), concurrent SCRAM and password checks (auth_test), the
# database and the store under parallel writers (db_test, storage_test), audit writers
# (audit_test), the server's context, rate limits and abuse tables (server_test), and the
# multithreaded sftsd under many clients (e2e_test, abuse_test).
TSAN_TESTS='^(hsm_test|net_test|auth_test|db_test|storage_test|audit_test|server_test|e2e_test|abuse_test)$'

# What those tests run; TSan builds only these (the e2e tests drive sftsd, sfts, sfts-admin and
# the attack/abuse clients).
TSAN_TARGETS=(hsm_test net_test auth_test db_test storage_test audit_test server_test
              sftsd sfts sfts-admin attack_client abuse_client)

case "$mode" in
  address) build=${SFTS_ASAN_BUILD_DIR:-build-asan}; select=(-E "$ASAN_EXCLUDE"); targets=(all) ;;
  thread) build=${SFTS_TSAN_BUILD_DIR:-build-tsan}; select=(-R "$TSAN_TESTS"); targets=("${TSAN_TARGETS[@]}") ;;
  *) echo "sanitize: mode must be address or thread, not '$mode'" >&2; exit 2 ;;
esac

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
# Line tables only (-g1: symbolized stacks). ASan+UBSan at -O0: gcc compiles the instrumented
# tree about 3x faster than at -O1 (46 s -> 17 s for the largest test file), which is most of
# this stage's CI time, and ASan finds at least as much unoptimised. TSan stays at -O1: its
# tests drive a TSan sftsd against deadlines, and TSan at -O0 runs several times slower.
case "$mode" in address) opt=-O0 ;; *) opt=-O1 ;; esac
cmake -S . -B "$build" -G Ninja -DSFTS_SANITIZE="$mode" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="$opt -g1 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$opt -g1 -DNDEBUG" \
  "${launcher[@]}" >/dev/null
cmake --build "$build" --target "${targets[@]}"

supp=$PWD/scripts/sanitizers
logs=$PWD/$build/sanitizer-logs
rm -rf "$logs"
mkdir -p "$logs"
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=0:log_path=$logs/asan"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="suppressions=$supp/ubsan.supp:print_stacktrace=1:halt_on_error=1:log_path=$logs/ubsan"
export TSAN_OPTIONS="suppressions=$supp/tsan.supp:halt_on_error=1:second_deadlock_stack=1:log_path=$logs/tsan"

# gcc 12's TSan cannot map its shadow memory under a kernel's full mmap randomisation
# (vm.mmap_rnd_bits 32: "unexpected memory mapping"); without ASLR it always can. Children
# inherit the personality.
run=()
if [[ $mode == thread ]]; then run=(setarch "$(uname -m)" --addr-no-randomize); fi

status=0
(cd "$build" && "${run[@]}" ctest --output-on-failure --timeout 1200 -j"$(nproc)" "${select[@]}" "$@") || status=$?

# Reports written by processes whose exit status no test checked (daemons, children).
reports=$(find "$logs" -type f -size +0 | sort)
if [[ -n $reports ]]; then
  echo "sanitize: $mode: sanitizer reports:" >&2
  for r in $reports; do
    echo "==== $r" >&2
    head -60 "$r" >&2
  done
  status=1
fi
if ((status == 0)); then echo "sanitize: $mode: all selected tests passed, no sanitizer report"; fi
exit $status
