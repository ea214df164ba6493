#!/usr/bin/env bash
# Proof under failure (4/4): a file truncated by another process while it is being sent. Senders
# hash and send files straight from mapped page cache (sfts::MappedReader), where a vanished
# page would raise SIGBUS and kill the process; the guard turns it into an error for that one
# transfer. Upload: the client's source shrinks mid-upload -> a clear error (exit 7, integrity),
# the server stores nothing. Download: the stored file shrinks under sftsd (something outside
# sftsd did it) -> the client gets an error and keeps nothing, sftsd lives on and serves.
# The client is stopped (SIGSTOP) mid-transfer while the file is truncated, so the truncation
# lands inside the window being sent, whatever the machine's speed.
set -uo pipefail
here=$(dirname "$0")
source "$here/../e2e/lib.sh"
source "$here/faults_lib.sh"
SFTS_E2E_EXTRA_CONF=$'[limits]\nquota_mib = 4096'
faults_init

size=$((256 * 1024 * 1024))
head -c "$size" /dev/urandom > "$work/big.bin"
mkdir -p "$work/dl"

grown() { (($(written "$1") > $2)); }

# stop_midway PID WRITER: stops PID once WRITER (the process that writes the received file)
# has written another 32 MiB with write(2) (/proc/WRITER/io wchar): midway through the file.
stop_midway() {
  local target=$(($(written "$2") + 32 * 1024 * 1024))
  wait_until 120 grown "$2" "$target" && kill -STOP "$1"
}

# truncated_midway WHAT FILE WRITER OUT sfts-args...: runs alice's client with those arguments,
# pauses it midway (WRITER: "server" when sftsd writes the file, "client" when the client does),
# truncates FILE to 1 MiB, lets the client go on; its exit code in rc, its output in OUT.
truncated_midway() {
  local what=$1 file=$2 writer=$3 out=$4 client; shift 4
  (as_exec alice "$@" > "$out" 2>&1) &
  client=$!
  [[ $writer == server ]] && writer=$server_pid || writer=$client
  check "the $what got under way and the client was paused midway" stop_midway "$client" "$writer"
  check "${file##*/} is truncated to 1 MiB while the client is paused" truncate -s 1M "$file"
  kill -CONT "$client"
  wait "$client"
  rc=$?
  check "the client did not die of a signal such as SIGBUS (exit $rc)" test "$rc" -lt 128
}

# --- 1. upload: the source shrinks under the client
cp "$work/big.bin" "$work/shrinking.bin"
usage_before=$(usage alice)
truncated_midway upload "$work/shrinking.bin" server "$work/up.out" put "$work/shrinking.bin" --as shrunk.bin
check "the client failed with integrity (exit 7), got $rc" test "$rc" -eq 7
check "the error names the file and says it shrank" grep -q "shrinking.bin shrank while being uploaded" "$work/up.out"
check "the server stored nothing" not listed alice shrunk.bin
check "no file in storage" test ! -e "$files/shrunk.bin"
check "no temporary file left" wait_until 120 no_temps
check "usage unchanged" test "$(usage alice)" = "$usage_before"
check "the server still serves" as alice ls

# --- 2. download: the stored file shrinks under sftsd (as root, or a disk fault, could do)
check "alice uploads the file to download" as alice put "$work/big.bin" --as victim.bin
check "and it is stored whole" same_sha "$work/big.bin" "$files/victim.bin"
truncated_midway download "$files/victim.bin" client "$work/down.out" get victim.bin -o "$work/dl"
check "the client failed (exit $rc), not with success" test "$rc" -ne 0
check "the client keeps nothing: no victim.bin" test ! -e "$work/dl/victim.bin"
check "no partial download left" test -z "$(find "$work/dl" -name '.sfts-part-*')"
check "sftsd is alive" server_alive
check "sftsd logged why" grep -q "stored file changed while being sent" "$work/server/log"
served_again() {
  as alice put "$work/big.bin" --as again.bin --overwrite > /dev/null && as alice get again.bin -o "$work/dl" > /dev/null &&
    same_sha "$work/big.bin" "$work/dl/again.bin"
}
check "sftsd still serves: a new upload and download" served_again
check "the database is intact" db_ok

finish
