#!/usr/bin/env bash
# A/B of two builds on the 1 GiB cases, per side: CPU seconds per GiB of the client (GNU time)
# and of sftsd (/proc/PID/stat), and wall-clock MB/s, medians of alternating pairs against one
# server work directory (same tokens, users and stored file for both builds). This is the
# recipe of docs/benchmarks.md "What each change bought" as a script. Files on /dev/shm unless
# --disk. Both builds must understand the same protocol.
#
#   bench/ab.sh [--case upload|download] [--mib N] [--pairs N] [--disk] [--boost] [--keep] A_BUILD B_BUILD
#
# A_BUILD / B_BUILD: build directories (or copies of server/, client-tui/ from them).
# --boost (root): run in a session of its own whose autogroup has nice -15, so that other
# work on a shared machine (compilers in other sessions) does not take the cores mid-run. With
# the kernel's autogroups, plain nice only ranks processes within one session.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

what=upload mib=512 pairs=3 disk=0 keep=0
if [[ ${1:-} == --boost ]]; then
  shift
  exec setsid bash -c 'echo -15 > /proc/self/autogroup && exec "$@"' ab "$0" "$@"
fi
while (($#)); do
  case $1 in
    --case) what=${2:?}; shift ;;
    --mib) mib=${2:?}; shift ;;
    --pairs) pairs=${2:?}; shift ;;
    --disk) disk=1 ;;
    --keep) keep=1 ;;
    --boost) die "--boost must come first" ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) break ;;
  esac
  shift
done
(($# == 2)) || die "usage: $0 [options] A_BUILD B_BUILD"
A=$(cd "$1" && pwd) B=$(cd "$2" && pwd)
[[ $what == upload || $what == download ]] || die "--case upload or download"
idle_sessions=0 load_clients=4

base=${TMPDIR:-/tmp}
((disk)) || base=/dev/shm
work=$(mktemp -d "$base/sfts-ab-XXXXXX")
cleanup() {
  set +e
  stop_sftsd
  if ((keep)); then note "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
mkdir -p "$work/out" "$work/srv" "$work/dl"
umask 077

bin=$A
sfts_server_init
sfts_server_config 4096
start_sftsd
make_client ab
enroll_with_password ab
stop_sftsd
bytes=$((mib << 20))
head -c "$bytes" /dev/urandom > "$work/src.bin"
cat "$work/src.bin" > /dev/null

one() {  # one VARIANT PAIR
  local v=$1 dir c0
  [[ $v == A ]] && dir=$A || dir=$B
  bin=$dir
  start_sftsd
  write_client_config ab  # a new port each start
  sync
  c0=$(cpu_ticks "$sftsd_pid")
  if [[ $what == upload ]]; then
    timed "$v-$2" env "SOFTHSM2_CONF=$work/ab/softhsm2.conf" "$dir/client-tui/sfts" --config "$work/ab/sfts.conf" \
      --quiet put "$work/src.bin" --as big.bin --overwrite || die "upload failed ($v)"
  else
    rm -f "$work/dl/src.bin"
    timed "$v-$2" env "SOFTHSM2_CONF=$work/ab/softhsm2.conf" "$dir/client-tui/sfts" --config "$work/ab/sfts.conf" \
      --quiet get src.bin -o "$work/dl" || die "download failed ($v)"
  fi
  local srv=$(( $(cpu_ticks "$sftsd_pid") - c0 ))
  stop_sftsd
  echo "$(calc "$cpu_s * 1024 / $mib")" >> "$work/$v.client"
  echo "$(calc "$srv / $clk_tck * 1024 / $mib")" >> "$work/$v.server"
  echo "$(calc "$bytes / $t_s / 1e6")" >> "$work/$v.mbps"
  printf '%s pair %d: client %.2f s/GiB, server %.2f s/GiB, %.0f MB/s (whole command), load %s\n' "$v" "$2" \
    "$(tail -1 "$work/$v.client")" "$(tail -1 "$work/$v.server")" "$(tail -1 "$work/$v.mbps")" \
    "$(cut -d' ' -f1 /proc/loadavg)" >&2
}

if [[ $what == download ]]; then
  bin=$A; start_sftsd; write_client_config ab
  as ab put "$work/src.bin" > /dev/null || die "upload of the download source failed"
  stop_sftsd
fi
note "$what of $mib MiB, $pairs pairs, files on $(stat -f -c %T "$work"), load $(cut -d' ' -f1-3 /proc/loadavg)"
for p in $(seq 1 "$pairs"); do
  if ((p % 2)); then one A "$p"; one B "$p"; else one B "$p"; one A "$p"; fi
done
for v in A B; do
  printf '%s: client %.2f  server %.2f  total %.2f s/GiB  %.0f MB/s  (medians of %d)\n' "$v" \
    "$(median < "$work/$v.client")" "$(median < "$work/$v.server")" \
    "$(calc "$(median < "$work/$v.client") + $(median < "$work/$v.server")")" "$(median < "$work/$v.mbps")" "$pairs"
done
note "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
