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
  wait_until 60 grown "$2" "$target" && kill -STOP "$1"
}

# --- 1. upload: the source shrinks under the client
cp "$work/big.bin" "$work/shrinking.bin"
usage_before=$(usage alice)
(as_exec alice put "$work/shrinking.bin" --as shrunk.bin > "$work/up.out" 2>&1) &
client=$!
check "the upload got under way and was paused midway" stop_midway "$client" "$server_pid"
check "the source is truncated to 1 MiB while the client is paused" truncate -s 1M "$work/shrinking.bin"
kill -CONT "$client"
wait "$client"
rc=$?
check "the client did not die of SIGBUS (exit $rc)" test "$rc" -lt 128
check "the client failed with integrity (exit 7), got $rc" test "$rc" -eq 7
check "the error names the file and says it shrank" grep -q "shrinking.bin shrank while being uploaded" "$work/up.out"
check "the server stored nothing" not listed alice shrunk.bin
check "no file in storage" test ! -e "$files/shrunk.bin"
check "no temporary file left" wait_until 10 no_temps
check "usage unchanged" test "$(usage alice)" = "$usage_before"
check "the server still serves" as alice ls

# --- 2. download: the stored file shrinks under sftsd
check "alice uploads the file to download" as alice put "$work/big.bin" --as victim.bin
check "and it is stored whole" same_sha "$work/big.bin" "$files/victim.bin"
(as_exec alice get victim.bin -o "$work/dl" > "$work/down.out" 2>&1) &
client=$!
check "the download got under way and the client was paused midway" stop_midway "$client" "$client"
check "the stored file is truncated under sftsd (as root could)" truncate -s 1M "$files/victim.bin"
kill -CONT "$client"
wait "$client"
rc=$?
check "the client failed (exit $rc), not with success" test "$rc" -ne 0
check "the client did not die of a signal (exit $rc)" test "$rc" -lt 128
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
