#!/usr/bin/env bash
# Proof under failure (3/4): the hardware token is unavailable. At the server's start (token
# gone, wrong PIN): sftsd refuses to start, names the token and exits non-zero (for systemd).
# While it runs (the SoftHSM2 token directory renamed away): no crash, no hang, clear failures,
# and recovery once the token is back. On the client: a missing token is a clear error naming
# it, exit 8 (token).
set -uo pipefail
here=$(dirname "$0")
source "$here/../e2e/lib.sh"
source "$here/faults_lib.sh"
faults_init
tokens=$work/server/tokens
head -c 1000 /dev/urandom > "$work/small.bin"

# start_fails NAME PATTERN: sftsd must exit (not hang) non-zero, with PATTERN in its output.
start_fails() {
  local name=$1 pattern=$2 rc
  rm -f "$work/server/ports"
  SOFTHSM2_CONF=$work/server/softhsm2.conf timeout 120 "$sftsd_bin" --config="$work/server/sftsd.conf" >"$work/start.out" 2>&1
  rc=$?
  if ((rc != 0 && rc != 124)) && grep -qi -- "$pattern" "$work/start.out"; then pass=$((pass + 1))
  else fail=$((fail + 1)); echo "FAIL: $name (exit $rc, wanted non-zero and /$pattern/)"; sed 's/^/    /' "$work/start.out" | tail -8; fi
}

# --- 1. at start: the token's directory is gone
stop_server
mv "$tokens" "$tokens.gone"
start_fails "no token: sftsd refuses to start and names the token" "token=server"
echo "sftsd without its token: $(tail -1 "$work/start.out")"
check "it listens on nothing" test ! -s "$work/server/ports"
mv "$tokens.gone" "$tokens"

# --- 2. at start: the PIN is wrong
cp "$work/server/pin" "$work/server/pin.right"
printf 'wrong-pin-1234' > "$work/server/pin"
start_fails "wrong PIN: sftsd refuses to start and names the token" "token=server"
echo "sftsd with a wrong PIN: $(tail -1 "$work/start.out")"
check "the message says the PIN was refused" grep -qi "pin" "$work/start.out"
check "no secret in the message" not grep -qF "wrong-pin-1234" "$work/start.out"
cp "$work/server/pin.right" "$work/server/pin"
check "with the token back and the right PIN it starts" restart_server
check "alice can list" as alice ls

# --- 3. while running: the token's directory renamed away. SoftHSM2 invalidates its object
# handles and they stay invalid even when the directory comes back, so no handshake can succeed
# any more: sftsd must say so and stop with a failure status (systemd: Restart=on-failure),
# and a new start with the token back must serve again.
mv "$tokens" "$tokens.gone"
(as_exec alice ls) >"$work/mid.out" 2>&1 &
client=$!
check "the client's attempt ends (no hang)" wait_until 120 not kill -0 "$client"
wait "$client"; rc=$?
echo "ls with the server's token gone: exit $rc: $(tr '\n' ' ' < "$work/mid.out")"
check "the client fails" test "$rc" -ne 0
stopped() { ! kill -0 "$server_pid" 2>/dev/null; }
check "sftsd stops by itself (no hang)" wait_until 120 stopped
stopped || kill -KILL "$server_pid"
wait "$server_pid"; rc=$?; server_pid=
check "with a failure status for systemd (69, unavailable)" test "$rc" -eq 69
check "the log names the token and says why" grep -q "Fatal.*server token pkcs11:token=server.* no longer usable" "$work/server/log"
check "no crash (no abort, no sanitizer report)" not grep -qiE "terminate called|Aborted|AddressSanitizer" "$work/server/log"
mv "$tokens.gone" "$tokens"
check "started again with the token back (as systemd would)" restart_server
check "after the token is back the server serves" as alice ls
check "uploads work after the token is back" as alice put "$work/small.bin" --as after-token.bin
check "the server is still running" server_alive

# --- 4. the client's token is missing
mv "$work/alice/tokens" "$work/alice/tokens.gone"
expect_exit "client without its token: exit 8 naming the token" 8 "alice-token" as alice ls
mv "$work/alice/tokens.gone" "$work/alice/tokens"
check "the client works again with its token" as alice ls
printf 'wrong-pin-1234' > "$work/alice/pin.wrong"; chmod 600 "$work/alice/pin.wrong"
cp "$work/alice/pin" "$work/alice/pin.right"; cp "$work/alice/pin.wrong" "$work/alice/pin"
expect_exit "client with a wrong PIN: exit 6 naming the token" 6 "alice-token" as alice ls
cp "$work/alice/pin.right" "$work/alice/pin"
check "database integrity at the end" db_ok
check "audit chain verifies at the end" audit_ok

finish
