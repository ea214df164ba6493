#!/usr/bin/env bash
# The benchmark suite: sfts against OpenSSH sftp on loopback, and against the ceiling (TLS 1.3
# AES-GCM with SHA-256 on both ends and nothing else). Builds what it needs, starts its own sshd
# (own config, host key, user key, aes128-gcm) and its own sftsd with SoftHSM2 tokens, runs each
# case several times alternating the two tools, and prints a table of medians. docs/benchmarks.md
# explains the cases, the targets and the latest results.
#
#   bench/run.sh [--boost] [--smoke] [--runs N] [--out FILE] [--cases LIST] [--tmpfs] [--keep]
#
#   --boost      (root; must come first) run in a session of its own whose autogroup has nice
#                -15: on a shared machine, compilers in other sessions then no longer take the
#                cores mid-run (with autogroups, plain nice ranks only within one session)
#   --smoke      small sizes, one run: checks that every case runs (tests/bench); no timing goals
#   --runs N     runs per case (default 3; smoke 1)
#   --out FILE   results (Markdown; a .tsv beside it). Default for a full run:
#                bench/results/latest.md plus a dated copy; for --smoke: $BUILD/bench-smoke.md
#   --cases LIST comma-separated subset of: ceiling,upload,download,small,ls,handshakes,load,idle
#   --tmpfs      everything (server storage, downloads, sshd's files) on /dev/shm instead of
#                ${TMPDIR:-/tmp}: fsync becomes free, so the 1 GiB cases measure CPU, not the disk
#   --keep       keep the work directory
#
# Build directory: $SFTS_BINARY_DIR (set by CTest: used as is, not rebuilt), else $SFTS_BUILD_DIR,
# else build/ (configured RelWithDebInfo if new, then built with -j2).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
srcdir=$(cd "$here/.." && pwd)
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

smoke=0 runs= out= cases=ceiling,upload,download,small,ls,handshakes,load,idle tmpfs=0 keep=0
if [[ ${1:-} == --boost ]]; then
  shift
  BENCH_BOOST=-15 exec setsid bash -c 'echo -15 > /proc/self/autogroup && exec "$@"' bench "$0" "$@"
fi
while (($#)); do
  case $1 in
    --smoke) smoke=1 ;;
    --runs) runs=${2:?--runs needs N}; shift ;;
    --out) out=${2:?--out needs FILE}; shift ;;
    --cases) cases=${2:?--cases needs a list}; shift ;;
    --tmpfs) tmpfs=1 ;;
    --keep) keep=1 ;;
    --boost) die "--boost must come first" ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done
want() { [[ ,$cases, == *,$1,* ]]; }

if ((smoke)); then
  big=$((8 << 20)) big_label="8 MiB"
  small_n=50 small_size=4096
  load_clients=3 load_files=2 load_size=$((64 << 10)) load_label="3 x 2 x 64 KiB"
  idle_sessions=10 hs_count=10 ls_reps=1
  runs=${runs:-1}
else
  big=$((1 << 30)) big_label="1 GiB"
  small_n=1000 small_size=4096
  load_clients=50 load_files=20 load_size=$((1 << 20)) load_label="50 x 20 x 1 MiB"
  idle_sessions=500 hs_count=300 ls_reps=3
  runs=${runs:-3}
fi
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive number"
hs_threads=4

# ---- build

if [[ -n ${SFTS_BINARY_DIR:-} ]]; then
  bin=$SFTS_BINARY_DIR
else
  bin=${SFTS_BUILD_DIR:-$srcdir/build}
  if [[ ! -f $bin/CMakeCache.txt ]]; then
    cmake -S "$srcdir" -B "$bin" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
  fi
  note "building in $bin"
  cmake --build "$bin" -j2 --target sftsd sfts-admin sfts sfts-bench-ceiling sfts-bench-load > "$bin/bench-build.log" 2>&1 \
    || { tail -30 "$bin/bench-build.log" >&2; die "build failed (log: $bin/bench-build.log)"; }
fi
for b in server/sftsd server/sfts-admin client-tui/sfts bench/sfts-bench-ceiling bench/sfts-bench-load; do
  [[ -x $bin/$b ]] || die "missing $bin/$b (build the tree first)"
done
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$bin/CMakeCache.txt")
sanitize=$(sed -n 's/^SFTS_SANITIZE:[A-Z]*=//p' "$bin/CMakeCache.txt")
[[ $build_type == Release || $build_type == RelWithDebInfo ]] || note "WARNING: build type '${build_type:-none}': numbers are not representative"
[[ -z $sanitize || $sanitize == OFF ]] || note "WARNING: sanitizer build ($sanitize): numbers are not representative"

if [[ ! -x /usr/sbin/sshd ]] || ! command -v sftp > /dev/null || [[ ! -x /usr/bin/time ]]; then
  die "needs /usr/sbin/sshd, sftp and /usr/bin/time: apt-get install openssh-server openssh-client time"
fi

# ---- work directory

base=${TMPDIR:-/tmp}
((tmpfs)) && base=/dev/shm
work=$(mktemp -d "$base/sfts-bench-XXXXXX")
sampler_pid=
cleanup() {
  set +e
  [[ -n $sampler_pid ]] && { kill "$sampler_pid" 2>/dev/null; wait "$sampler_pid" 2>/dev/null; }
  stop_sftsd
  stop_sshd
  if ((keep)); then note "work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work/out" "$work/m" "$work/data" "$work/dl" "$work/sshdest" "$work/sshsrc"
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
umask 077

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
t_start=$(now_ns)

# ---- sfts: the server, and two enrolled users. 'bench' has a verifier with the product's
# default 600 000 PBKDF2 iterations (what a user pays at every login). 'load' has 4096, set while
# the server ran with scram_iterations = 4096, so that the load cases (hundreds of logins from
# one process) measure transfers and memory rather than the client's PBKDF2. The server's own
# work per login does not depend on the count.

note "setting up sftsd, SoftHSM2 tokens and users in $work"
sfts_server_init
sfts_server_config 4096
start_sftsd
make_client load
enroll_with_password load
stop_sftsd
sfts_server_config 600000
start_sftsd
write_client_config load
make_client bench
enroll_with_password bench
sfts_cmd=(env "SOFTHSM2_CONF=$work/bench/softhsm2.conf" "$bin/client-tui/sfts" --config "$work/bench/sfts.conf" --quiet)
sfts4096_cmd=(env "SOFTHSM2_CONF=$work/load/softhsm2.conf" "$bin/client-tui/sfts" --config "$work/load/sfts.conf" --quiet)
load_cmd=(env "SOFTHSM2_CONF=$work/load/softhsm2.conf" "$bin/bench/sfts-bench-load")
sfts_log=$work/bench/state/sfts.log

# ---- OpenSSH

note "setting up sshd"
ssh_init
start_sshd
sftp_cmd=(sftp -q -F "$work/ssh/ssh_config" -c aes128-gcm@openssh.com)
printf 'pwd\n' > "$work/b-pwd"
"${sftp_cmd[@]}" -b "$work/b-pwd" bench > "$work/out/sftp-check.log" 2>&1 || { cat "$work/out/sftp-check.log" >&2; die "sftp cannot log in to the bench sshd"; }

# ---- data, in the page cache

note "making test data"
head -c "$big" /dev/urandom > "$work/data/big.bin"
cat "$work/data/big.bin" > /dev/null
ln "$work/data/big.bin" "$work/sshsrc/big.bin"
mkdir -p "$work/data/small" "$work/data/load"
head -c $((small_n * small_size)) /dev/urandom | split -b "$small_size" -d -a 4 - "$work/data/small/f"
head -c $((load_files * load_size)) /dev/urandom | split -b "$load_size" -d -a 3 - "$work/data/load/f"
small_names=()
for f in "$work"/data/small/f*; do small_names+=("${f##*/}"); done

# ---- results

rows=$work/rows.tsv
: > "$rows"
# row KEY CASE UNIT SFTS PEER GOAL NOTES; GOAL: "ratio>=X", "ratio<=X", "sfts<X" or "-"
row() {
  local key=$1 name=$2 unit=$3 s=$4 p=$5 goal=$6 notes=${7:-} ratio=- met=-
  if [[ $p != - && $s != - ]]; then ratio=$(calc "$s / $p"); fi
  case $goal in
    'ratio>='*) met=$(awk -v r="$ratio" -v g="${goal#ratio>=}" 'BEGIN { print (r >= g) ? "met" : "missed" }') ;;
    'ratio<='*) met=$(awk -v r="$ratio" -v g="${goal#ratio<=}" 'BEGIN { print (r <= g) ? "met" : "missed" }') ;;
    'sfts<'*) met=$(awk -v v="$s" -v g="${goal#sfts<}" 'BEGIN { print (v < g) ? "met" : "missed" }') ;;
  esac
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$key" "$name" "$unit" "$s" "$p" "$ratio" "$goal" "$met" "$notes" >> "$rows"
}
m() { median < "$work/m/$1"; }       # median of a series of measurements
record() { echo "$2" >> "$work/m/$1"; }
mib() { calc "$1 / 1024"; }          # KiB -> MiB

# sfts_log_seconds FROM TO: seconds between the last client-log lines matching FROM and TO
# (the client logs each step with a millisecond timestamp when it completes)
sfts_log_seconds() {
  awk -v a="$1" -v b="$2" '
    function secs(ts,  t) { split(substr(ts, 12, 12), t, ":"); return t[1] * 3600 + t[2] * 60 + t[3] }
    index($0, a) { ta = secs($1) } index($0, b) { tb = secs($1) }
    END { if (ta && tb) printf "%.3f\n", tb - ta; else print "nan" }' "$sfts_log"
}

# alternate R CMD_SFTS CMD_PEER: odd runs start with sfts, even runs with the peer
alternate() {
  if (($1 % 2)); then "$2" "$1"; "$3" "$1"; else "$3" "$1"; "$2" "$1"; fi
}

start_sampler() { tree_hwm_sampler "$sshd_pid" "$work/hwm" & sampler_pid=$!; }
# stop_sampler: sets sampler_kib (not in a subshell: sampler_pid must be cleared here)
stop_sampler() { kill "$sampler_pid" 2>/dev/null || true; wait "$sampler_pid" 2>/dev/null || true; sampler_pid=; sampler_kib=$(cat "$work/hwm"); }

# ---- cases

case_ceiling() {
  note "ceiling: TLS 1.3 + SHA-256 on both ends, $big_label x $runs"
  local r s
  for r in $(seq 1 "$runs"); do
    for s in TLS_AES_256_GCM_SHA384 TLS_AES_128_GCM_SHA256; do
      timed ceiling "$bin/bench/sfts-bench-ceiling" --bytes "$big" --suite "$s" || die "ceiling failed"
      record "ceil.$s" "$(sed -n 's/.* = \([0-9.]*\) MB\/s.*/\1/p' "$work/out/ceiling.log")"
      record "ceil.$s.cpu" "$(calc "$cpu_s * 1073741824 / $big")"
      # The same with the files a real transfer has: the source read from big.bin, the bytes
      # stored beside the servers' directories (same filesystem): what any signed transfer
      # that reads and stores a file can reach here.
      timed ceiling-files "$bin/bench/sfts-bench-ceiling" --from "$work/data/big.bin" --to "$work/ceiling-dst.bin" \
        --suite "$s" || die "ceiling with files failed"
      rm -f "$work/ceiling-dst.bin"
      record "ceilf.$s" "$(sed -n 's/.* = \([0-9.]*\) MB\/s.*/\1/p' "$work/out/ceiling-files.log")"
    done
  done
  ceil256=$(m ceil.TLS_AES_256_GCM_SHA384) ceil128=$(m ceil.TLS_AES_128_GCM_SHA256)
  ceilf256=$(m ceilf.TLS_AES_256_GCM_SHA384) ceilf128=$(m ceilf.TLS_AES_128_GCM_SHA256)
}

# The ceiling to compare sfts with is the one on the TLS 1.3 suite sfts negotiated, as its
# client logged it ("connected to HOST:PORT: TLSv1.3 SUITE"): sets ceil, ceil_cpu, ceil_suite.
pick_ceiling() {
  local suite
  suite=$(sed -n 's/.*connected to .*: TLSv1\.3 \(TLS_[A-Z0-9_]*\).*/\1/p' "$sfts_log" | tail -1)
  case $suite in
    TLS_AES_128_GCM_SHA256) ceil_suite=AES-128-GCM ;;
    TLS_AES_256_GCM_SHA384) ceil_suite=AES-256-GCM ;;
    *) die "sfts negotiated '${suite:-nothing}' (client log $sfts_log): the ceiling has no run on that suite" ;;
  esac
  ceil=$(m "ceil.$suite") ceil_cpu=$(m "ceil.$suite.cpu") ceil_files=$(m "ceilf.$suite")
}

up_sfts() {
  sync
  clear_peak "$sftsd_pid"
  local c0; c0=$(cpu_ticks "$sftsd_pid")
  timed "sfts-up-$1" "${sfts_cmd[@]}" put "$work/data/big.bin" --as "up-$1.bin" || die "sfts upload failed"
  record up.sfts.cpu "$(calc "($cpu_s + ($(cpu_ticks "$sftsd_pid") - $c0) / $clk_tck) * 1073741824 / $big")"
  record up.sfts "$(calc "$big / $t_s / 1e6")"
  record up.sfts.xfer "$(calc "$big / $(sfts_log_seconds "login as" "upload 'up-$1.bin'") / 1e6")"
  record up.sfts.crss "$rss_kib"
  record up.sfts.srss "$(status_kib "$sftsd_pid" VmHWM)"
  "${sfts_cmd[@]}" rm "up-$1.bin" > /dev/null
}
up_sftp() {
  sync
  printf 'put %s %s\n' "$work/data/big.bin" "$work/sshdest/up-$1.bin" > "$work/b-up"
  start_sampler
  local c0; c0=$(cpu_ticks "$sshd_pid")
  timed "sftp-up-$1" "${sftp_cmd[@]}" -b "$work/b-up" bench || die "sftp upload failed"
  stop_sampler; record up.sftp.srss "$sampler_kib"
  sleep 0.2  # let sshd reap the session, whose CPU time then shows in its children's times
  record up.sftp.cpu "$(calc "($cpu_s + ($(cpu_ticks "$sshd_pid") - $c0) / $clk_tck) * 1073741824 / $big")"
  record up.sftp "$(calc "$big / $t_s / 1e6")"
  record up.sftp.crss "$rss_kib"
  cmp -s "$work/data/big.bin" "$work/sshdest/up-$1.bin" || die "sftp upload differs"
  rm -f "$work/sshdest/up-$1.bin"
}
case_upload() {
  note "upload $big_label x $runs"
  local r
  for r in $(seq 1 "$runs"); do alternate "$r" up_sfts up_sftp; done
}

down_sfts() {
  sync
  clear_peak "$sftsd_pid"
  local c0; c0=$(cpu_ticks "$sftsd_pid")
  timed "sfts-down-$1" "${sfts_cmd[@]}" get big.bin -o "$work/dl" || die "sfts download failed"
  record down.sfts.cpu "$(calc "($cpu_s + ($(cpu_ticks "$sftsd_pid") - $c0) / $clk_tck) * 1073741824 / $big")"
  record down.sfts "$(calc "$big / $t_s / 1e6")"
  record down.sfts.xfer "$(calc "$big / $(sfts_log_seconds "login as" "download 'big.bin'") / 1e6")"
  record down.sfts.crss "$rss_kib"
  record down.sfts.srss "$(status_kib "$sftsd_pid" VmHWM)"
  if (($1 == 1)); then cmp -s "$work/data/big.bin" "$work/dl/big.bin" || die "sfts download differs"; fi
  rm -f "$work/dl/big.bin"
}
down_sftp() {
  sync
  printf 'get %s %s\n' "$work/sshsrc/big.bin" "$work/dl/big-sftp.bin" > "$work/b-down"
  start_sampler
  local c0; c0=$(cpu_ticks "$sshd_pid")
  timed "sftp-down-$1" "${sftp_cmd[@]}" -b "$work/b-down" bench || die "sftp download failed"
  stop_sampler; record down.sftp.srss "$sampler_kib"
  sleep 0.2  # let sshd reap the session, whose CPU time then shows in its children's times
  record down.sftp.cpu "$(calc "($cpu_s + ($(cpu_ticks "$sshd_pid") - $c0) / $clk_tck) * 1073741824 / $big")"
  record down.sftp "$(calc "$big / $t_s / 1e6")"
  record down.sftp.crss "$rss_kib"
  if (($1 == 1)); then cmp -s "$work/data/big.bin" "$work/dl/big-sftp.bin" || die "sftp download differs"; fi
  rm -f "$work/dl/big-sftp.bin"
}
case_download() {
  note "download $big_label x $runs"
  "${sfts_cmd[@]}" put "$work/data/big.bin" > /dev/null || die "upload of the download source failed"
  local r
  for r in $(seq 1 "$runs"); do alternate "$r" down_sfts down_sftp; done
  "${sfts_cmd[@]}" rm big.bin > /dev/null
}

small_sfts() {
  sync
  timed "sfts-small-$1" "${sfts_cmd[@]}" put "$work"/data/small/f* || die "sfts small uploads failed"
  local n
  n=$(grep -c 'receipt verified' "$work/out/sfts-small-$1.log" || true)
  ((n == small_n)) || die "sfts: $n of $small_n small uploads verified"
  record small.sfts "$(calc "$small_n / $t_s")"
  "${sfts_cmd[@]}" rm "${small_names[@]}" > /dev/null
}
small_sftp() {
  sync
  mkdir -p "$work/sshdest/small-$1"
  printf 'lcd %s\ncd %s\nput *\n' "$work/data/small" "$work/sshdest/small-$1" > "$work/b-small"
  timed "sftp-small-$1" "${sftp_cmd[@]}" -b "$work/b-small" bench || die "sftp small uploads failed"
  local n
  n=$(find "$work/sshdest/small-$1" -type f | wc -l)
  ((n == small_n)) || die "sftp: $n of $small_n small uploads arrived"
  record small.sftp "$(calc "$small_n / $t_s")"
  rm -rf "$work/sshdest/small-$1"
}
case_small() {
  note "$small_n x $small_size B uploads in one session x $runs"
  local r
  for r in $(seq 1 "$runs"); do alternate "$r" small_sfts small_sftp; done
}

ls_sfts() {
  timed "sfts-ls" "${sfts_cmd[@]}" ls || die "sfts ls failed"
  record ls.sfts "$(calc "$t_s * 1000")"
  timed "sfts4096-ls" "${sfts4096_cmd[@]}" ls || die "sfts ls (4096 iterations) failed"
  record ls.sfts4096 "$(calc "$t_s * 1000")"
}
ls_sftp() {
  printf 'cd %s\nls\n' "$work/sshsrc" > "$work/b-ls"
  timed "sftp-ls" "${sftp_cmd[@]}" -b "$work/b-ls" bench || die "sftp ls failed"
  record ls.sftp "$(calc "$t_s * 1000")"
}
case_ls() {
  note "connect + login + ls x $((runs * ls_reps))"
  "${sfts_cmd[@]}" put "$work/data/small/f0000" > /dev/null  # one file to list, as sftp has
  local r
  for r in $(seq 1 $((runs * ls_reps))); do alternate "$r" ls_sfts ls_sftp; done
  "${sfts_cmd[@]}" rm f0000 > /dev/null
}

case_handshakes() {
  note "$hs_count mTLS handshakes, $hs_threads at a time x $runs"
  local r
  for r in $(seq 1 "$runs"); do
    timed "sfts-hs-$r" "${load_cmd[@]}" handshakes "$work/load/sfts.conf" --count "$hs_count" --threads "$hs_threads" \
      || die "handshakes failed"
    record hs.sfts "$(sed -n 's/.* per_s=\([0-9.]*\).*/\1/p' "$work/out/sfts-hs-$r.log")"
  done
}

load_sfts() {
  sync
  mkdir -p "$work/dl/load-$1"
  clear_peak "$sftsd_pid"
  timed "sfts-load-$1" "${load_cmd[@]}" transfer "$work/load/sfts.conf" --clients "$load_clients" \
    --src "$work/data/load" --dest "$work/dl/load-$1" --tag "r$1" || die "sfts load failed"
  local line
  line=$(grep '^transfer:' "$work/out/sfts-load-$1.log")
  record load.sfts "$(sed -n 's/.* MBps=\([0-9.]*\).*/\1/p' <<< "$line")"
  record load.sfts.connect "$(sed -n 's/.* connect_s=\([0-9.]*\).*/\1/p' <<< "$line")"
  record load.sfts.srss "$(status_kib "$sftsd_pid" VmHWM)"
  rm -rf "$work/dl/load-$1"
}
load_sftp() {
  sync
  local i f pids=() t0 t1 bad=0
  mkdir -p "$work/dl/sftp-load-$1"
  for i in $(seq 1 "$load_clients"); do
    mkdir -p "$work/sshdest/load-$1-c$i"
    {
      for f in "$work"/data/load/f*; do printf 'put %s %s/load-%s-c%s/%s\n' "$f" "$work/sshdest" "$1" "$i" "${f##*/}"; done
      for f in "$work"/data/load/f*; do printf 'get %s/load-%s-c%s/%s %s/c%s-%s\n' "$work/sshdest" "$1" "$i" "${f##*/}" "$work/dl/sftp-load-$1" "$i" "${f##*/}"; done
    } > "$work/b-load-$i"
  done
  start_sampler
  t0=$(now_ns)
  for i in $(seq 1 "$load_clients"); do
    "${sftp_cmd[@]}" -b "$work/b-load-$i" bench > "$work/out/sftp-load-$1-$i.log" 2>&1 &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || bad=$((bad + 1)); done
  t1=$(now_ns)
  stop_sampler; record load.sftp.srss "$sampler_kib"
  ((bad == 0)) || { tail -5 "$work/out/sftp-load-$1-1.log" >&2; die "sftp load: $bad clients failed"; }
  # Verified like sfts's: every file that came back is byte for byte the one sent.
  for i in $(seq 1 "$load_clients"); do
    for f in "$work"/data/load/f*; do
      cmp -s "$f" "$work/dl/sftp-load-$1/c$i-${f##*/}" || die "sftp load: c$i-${f##*/} differs"
    done
  done
  record load.sftp "$(calc "$load_clients * $load_files * $load_size * 2 / (($t1 - $t0) / 1e9) / 1e6")"
  rm -rf "$work/dl/sftp-load-$1" "$work"/sshdest/load-"$1"-*
}
case_load() {
  note "$load_clients clients x $load_files x $load_size B up + down x $runs"
  local r
  for r in $(seq 1 "$runs"); do alternate "$r" load_sfts load_sftp; done
}

case_idle() {
  note "$idle_sessions idle logged-in sessions"
  timed "sfts-idle" "${load_cmd[@]}" idle "$work/load/sfts.conf" --sessions "$idle_sessions" --server-pid "$sftsd_pid" \
    || die "idle sessions failed"
  idle_line=$(grep '^idle:' "$work/out/sfts-idle.log")
  record idle.rss "$(sed -n 's/.* server_rss_kib=\([0-9]*\).*/\1/p' <<< "$idle_line")"
  record idle.per "$(sed -n 's/.* per_session_kib=\([0-9.]*\).*/\1/p' <<< "$idle_line")"
  record idle.base "$(sed -n 's/.* server_rss_before_kib=\([0-9]*\).*/\1/p' <<< "$idle_line")"
}

for c in ceiling upload download small ls handshakes load idle; do
  if want "$c"; then "case_$c"; fi
done

# ---- table

f0() { awk -v v="$1" 'BEGIN { printf "%.0f", v }'; }
f1() { awk -v v="$1" 'BEGIN { printf "%.1f", v }'; }
if want ceiling && { want upload || want download; }; then pick_ceiling; fi
if want upload; then
  row up "upload $big_label" MB/s "$(m up.sfts)" "$(m up.sftp)" 'ratio>=1.5' \
    "sfts after login: $(f0 "$(m up.sfts.xfer)") MB/s"
  want ceiling && row up_ceiling "upload $big_label vs ceiling" MB/s "$(m up.sfts)" "$ceil" 'ratio>=0.85' \
    "peer = ceiling on the suite sfts negotiated, $ceil_suite"
  want ceiling && row up_ceiling_files "upload $big_label vs ceiling with files" MB/s "$(m up.sfts)" "$ceil_files" - \
    "peer = the ceiling reading and storing a file (mmap, fallocate, write, fsync), $ceil_suite"
  row cpu_up "CPU per GiB, upload, client + server" s "$(m up.sfts.cpu)" "$(m up.sftp.cpu)" - \
    "robust to a shared machine; includes login$(want ceiling && echo "; ceiling: $(f1 "$ceil_cpu") s ($ceil_suite)")"
  row rss_client_up "peak RSS client, upload $big_label" MiB "$(mib "$(m up.sfts.crss)")" "$(mib "$(m up.sftp.crss)")" 'sfts<64' \
    "sftp: max of sftp and ssh"
  row rss_server_up "peak RSS server, upload $big_label" MiB "$(mib "$(m up.sfts.srss)")" "$(mib "$(m up.sftp.srss)")" 'sfts<64' \
    "sftsd: whole process; sshd: the session's processes"
fi
if want download; then
  row down "download $big_label" MB/s "$(m down.sfts)" "$(m down.sftp)" 'ratio>=1.3' \
    "sfts after login: $(f0 "$(m down.sfts.xfer)") MB/s"
  want ceiling && row down_ceiling "download $big_label vs ceiling" MB/s "$(m down.sfts)" "$ceil" 'ratio>=0.85' \
    "peer = ceiling on the suite sfts negotiated, $ceil_suite"
  want ceiling && row down_ceiling_files "download $big_label vs ceiling with files" MB/s "$(m down.sfts)" "$ceil_files" - \
    "peer = the ceiling reading and storing a file (mmap, fallocate, write, fsync), $ceil_suite"
  row cpu_down "CPU per GiB, download, client + server" s "$(m down.sfts.cpu)" "$(m down.sftp.cpu)" - \
    "robust to a shared machine; includes login$(want ceiling && echo "; ceiling: $(f1 "$ceil_cpu") s ($ceil_suite)")"
  row rss_client_down "peak RSS client, download $big_label" MiB "$(mib "$(m down.sfts.crss)")" "$(mib "$(m down.sftp.crss)")" 'sfts<64' \
    "sftp: max of sftp and ssh"
  row rss_server_down "peak RSS server, download $big_label" MiB "$(mib "$(m down.sfts.srss)")" "$(mib "$(m down.sftp.srss)")" 'sfts<64' \
    "sftsd: whole process; sshd: the session's processes"
fi
want small && row small "$small_n x 4 KiB uploads, one session" files/s "$(m small.sfts)" "$(m small.sftp)" 'ratio>=1.0' \
  "every sfts file signed, receipt verified"
if want ls; then
  row ls "connect + login + ls" ms "$(m ls.sfts)" "$(m ls.sftp)" 'ratio<=0.8' "600000 PBKDF2 iterations (default)"
  row ls4096 "connect + login + ls, 4096 iterations" ms "$(m ls.sfts4096)" "$(m ls.sftp)" - "verifier with 4096 iterations"
fi
want handshakes && row handshakes "new mTLS handshakes, server key in SoftHSM2" "1/s" "$(m hs.sfts)" - - \
  "$hs_threads client threads; handshake + hello + exit"
want load && row load "$load_clients clients x $load_files x $(f0 "$(calc "$load_size / 1024")") KiB up+down, all verified" MB/s \
  "$(m load.sfts)" "$(m load.sftp)" - \
  "sfts: transfer phase, after $(f1 "$(m load.sfts.connect)") s of sequential logins, sftsd peak $(f0 "$(mib "$(m load.sfts.srss)")") MiB; sftp: whole processes"
want idle && row idle "$idle_sessions idle logged-in sessions, server RSS" MiB "$(mib "$(m idle.rss)")" - 'sfts<256' \
  "$(f0 "$(m idle.per)") KiB per session over a $(f0 "$(mib "$(m idle.base)")") MiB base"

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
elapsed=$(calc "($(now_ns) - $t_start) / 1e9")
fmt() {  # number formatting by unit
  local v=$1 unit=$2
  [[ $v == - || $v == nan ]] && { echo "$v"; return; }
  case $unit in MiB|s) f1 "$v" ;; *) f0 "$v" ;; esac
}
render() {
  echo "## sfts benchmark results$( ((smoke)) && echo ' (smoke run: small sizes, not comparable)')"
  echo
  echo "- date: $started, $(f0 "$elapsed") s, $runs run(s) per case, medians, sfts and peer alternating"
  echo "- machine: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r)"
  echo "- load average before / after: $load_before / $load_after (a shared machine: numbers may be pessimistic)$(
    ag=$(sed -n 's/.* nice \(-\{0,1\}[0-9]*\)$/\1/p' /proc/self/autogroup 2>/dev/null); [[ -n $ag && $ag != 0 ]] && echo "; run with autogroup nice $ag (--boost)")"
  echo "- $(openssl version | cut -d' ' -f1-2), $(ssh -V 2>&1 | cut -d, -f1), sfts $(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null || echo '?') (build: ${build_type:-none}${sanitize:+, SFTS_SANITIZE=$sanitize})"
  echo "- files in: $(stat -f -c %T "$work") ($( ((tmpfs)) && echo 'tmpfs: fsync is free' || echo "$base"))"
  if want ceiling; then
    echo "- ceiling (TLS 1.3 + SHA-256 on both ends, memory to memory): AES-256-GCM $(f0 "$ceil256") MB/s, AES-128-GCM $(f0 "$ceil128") MB/s"
    echo "- ceiling with files (the same, reading the source file and storing the destination): AES-256-GCM $(f0 "$ceilf256") MB/s, AES-128-GCM $(f0 "$ceilf128") MB/s"
  fi
  echo
  echo "| case | unit | sfts | peer | sfts/peer | target | met | notes |"
  echo "|---|---|---:|---:|---:|---|---|---|"
  local key name unit s p ratio goal met notes
  while IFS=$'\t' read -r key name unit s p ratio goal met notes; do
    [[ $ratio != - ]] && ratio=$(awk -v v="$ratio" 'BEGIN { printf "%.2f", v }')
    echo "| $name | $unit | $(fmt "$s" "$unit") | $(fmt "$p" "$unit") | $ratio | $goal | $met | $notes |"
  done < "$rows"
}

umask 022
table=$(render)
echo "$table"
if [[ -z $out ]]; then
  if ((smoke)); then
    out=$bin/bench-smoke.md
  else
    mkdir -p "$here/results"
    suffix=
    ((tmpfs)) && suffix=-tmpfs
    out=$here/results/latest$suffix.md
    dated=$here/results/$(date -u +%Y%m%d-%H%M)$suffix.md
    echo "$table" > "$dated"
  fi
fi
mkdir -p "$(dirname "$out")"
echo "$table" > "$out"
cp "$rows" "${out%.md}.tsv"
note "results: $out${dated:+ and $dated}"
