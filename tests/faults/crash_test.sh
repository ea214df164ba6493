#!/usr/bin/env bash
# Proof under failure (1/4): processes killed with SIGKILL in the middle of a transfer.
# The server dies mid-upload; a client dies mid-upload; a client dies mid-download.
# Exit codes: 10 io (docs: one error vocabulary).
set -uo pipefail
here=$(dirname "$0")
source "$here/../e2e/lib.sh"
source "$here/faults_lib.sh"
SFTS_E2E_EXTRA_CONF=$'[limits]\nquota_mib = 1024'
faults_init

head -c 1000 /dev/urandom > "$work/small.bin"
head -c $((200 * 1024 * 1024)) /dev/urandom > "$work/big.bin"
mkdir -p "$work/dl"
check "a small upload before the faults" as alice put "$work/small.bin"
usage_before=$(usage alice)
check "usage counts the small file" test "$usage_before" = "1 1000"

# --- 1. the server is killed (SIGKILL) while it receives a 200 MiB upload
(as_exec alice put "$work/big.bin") >"$work/put.out" 2>&1 &
client=$!
base=$(written "$server_pid")
grown() { (($(written "$server_pid") - base > 40 * 1024 * 1024)); }
check "the server has received 40 MiB" wait_until 120 grown
check "its temporary file is in the storage directory" bash -c "[[ -n \$(find '$files' -maxdepth 1 -name '.sfts-tmp-*') ]]"
kill9_server
wait "$client"; rc=$?
check "the client fails with exit 10 (io)" test "$rc" -eq 10
check "the client names the lost connection" grep -qi "connection" "$work/put.out"
check "the client says the upload failed" grep -q "big.bin" "$work/put.out"
echo "client after the server's SIGKILL: $(tr '\n' ' ' < "$work/put.out")"
check "the client log records the failure" grep -q "upload 'big.bin' from .*: io: " "$work/alice/state/sfts.log"
temp_after_kill=$(temps)
check "restart after SIGKILL" restart_server
check "no temporary file survives the restart (storage dir)" no_temps
check "the SIGKILL left a temporary that the start-up removed" test -n "$temp_after_kill"
check "no partial file big.bin on disk" test ! -e "$files/big.bin"
check "ls through the protocol shows no big.bin" not listed alice big.bin
check "ls still shows small.bin" listed alice small.bin
check "database integrity_check ok" db_ok
check "usage unchanged by the failed upload" test "$(usage alice)" = "$usage_before"
check "audit chain verifies" audit_ok
check "retry after restart succeeds" as alice put "$work/big.bin"
check "download the retried upload" as alice get big.bin -o "$work/dl"
check "identical sha256" same_sha "$work/big.bin" "$work/dl/big.bin"
rm -f "$work/dl/big.bin"
usage_before=$(usage alice)

# --- 2. a client is killed (SIGKILL) in the middle of an upload
(as_exec alice put --as big2.bin "$work/big.bin") >/dev/null 2>&1 &
client=$!
base=$(written "$server_pid")
check "the server has received 40 MiB of the second upload" wait_until 120 grown
kill -KILL "$client"; wait "$client" 2>/dev/null
check "the server drops the temporary file" wait_until 120 no_temps
check "the server is still running" server_alive
check "nothing stored as big2.bin" test ! -e "$files/big2.bin"
check "ls shows no big2.bin" not listed alice big2.bin
check "usage unchanged by the killed client" test "$(usage alice)" = "$usage_before"
check "another user is served right after" as bob put "$work/small.bin" --as bob.bin
check "the killed user is served right after" as alice ls

# --- 3. a client is killed (SIGKILL) in the middle of a download
(as_exec alice get big.bin -o "$work/dl") >/dev/null 2>&1 &
client=$!
part_grown() {
  local f
  for f in "$work"/dl/.sfts-part-*; do [[ -f $f ]] && (($(stat -c %s "$f") > 8 * 1024 * 1024)) && return 0; done
  return 1
}
check "the download has written 8 MiB to its temporary" wait_until 120 part_grown
kill -KILL "$client"; wait "$client" 2>/dev/null
check "the destination path does not exist" test ! -e "$work/dl/big.bin"
check "what is left has a temporary name" bash -c "ls -A '$work/dl' | grep -qx '.sfts-part-[0-9a-f]*'"
check "the server is still running after the client vanished" server_alive
check "the next download succeeds" as alice get big.bin -o "$work/dl"
check "identical sha256 after the interrupted download" same_sha "$work/big.bin" "$work/dl/big.bin"
check "the next download removed the stale temporary" bash -c "! ls -A '$work/dl' | grep -q sfts-part"
check "database integrity_check ok at the end" db_ok
check "audit chain verifies at the end" audit_ok

finish
