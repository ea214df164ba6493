#!/usr/bin/env bash
# sftsd as an administrator starts it (issue 13): a second sftsd on the same ports exits 71
# (no SO_REUSEPORT); state files are private whatever the umask, and a state that is not is
# refused; logins need channel binding unless allowed, and the audit says which mechanism;
# failed enrollments are audited with the user; password refusals name their subject;
# log.file in a missing directory is named; idle worker threads end after a burst.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
# Failures on purpose below; blocking is abuse_test.sh's business.
SFTS_E2E_EXTRA_CONF=$'[abuse]\nsafe_list = 127.0.0.1'
# The server side runs under the umask an administrator's shell usually has.
SFTS_E2E_UMASK=022
e2e_init
umask 022
conf=$work/server/sftsd.conf
state=$work/server/state
audit=$state/audit.jsonl
sed -i '/^\[server\]/a thread_idle_s = 1' "$conf"
sed -i '/^\[abuse\]/a account_max_failures = 3' "$conf"
# A connection of the burst below holds its worker in the TLS handshake until it is closed.
printf "[limits]\nhandshake_timeout_ms = 120000\n" >> "$conf"

# wait_for SECONDS COMMAND...: until COMMAND succeeds, at most SECONDS (a busy machine is slow).
wait_for() {
  local limit=$1; shift
  local end=$((SECONDS + limit))
  until "$@"; do
    ((SECONDS < end)) || return 1
    sleep 0.2
  done
}
mode() { stat -c %a "$1"; }

# --- 2. state file modes under umask 022 -----------------------------------------------------
check "sfts-admin init leaves the state directory 0700 (made 0755 under umask 022)" test "$(mode "$state")" = 700
for f in pki.db ca.crt server.crt crl.pem; do
  check "sfts-admin init: $f is 0600" test "$(mode "$state/$f")" = 600
done
start_server || exit 1
make_client alice
check "enroll alice" as alice enroll --secret "file:$work/server/site-secret"
# --- 13. a refused password names what it is about
printf 'password' > "$work/weak"; chmod 600 "$work/weak"
expect_exit "a common first password is refused, naming the new password" 2 \
  "server: the new password is on the list of common or breached passwords" as alice ls --new-password "file:$work/weak"
check "alice's first login (channel-bound)" as alice ls --new-password "file:$work/alice/password"
# The server has written to every state file it keeps (database with its WAL, audit trail, files).
check "the audit trail exists" test -s "$audit"
check "the WAL of sfts.db exists while sftsd runs" test -e "$state/sfts.db-wal"
loose=$(find "$state" \( -type f -perm /077 \) -o \( -type d -perm /077 \))
check "no state file or directory is accessible by group or others: ${loose//$'\n'/ }" test -z "$loose"
check "sfts.db is 0600" test "$(mode "$state/sfts.db")" = 600
check "audit.jsonl is 0600" test "$(mode "$audit")" = 600
check "files/ is 0700" test "$(mode "$state/files")" = 700
admin user add carol >/dev/null
check "sfts-admin under umask 022 leaves sfts.db 0600" test "$(mode "$state/sfts.db")" = 600

# --- 5. login without channel binding ----------------------------------------------------------
unbound=$bin/tests/e2e/unbound_login
expect_exit "plain SCRAM-SHA-256 (no channel binding) is refused by default" 1 \
  "login refused: permission_denied: login without channel binding refused" \
  env SOFTHSM2_CONF="$work/alice/softhsm2.conf" "$unbound" "$work/alice/sfts.conf"
check "the refusal is audited with the mechanism" \
  grep -q '"event":"login".*"user":"alice".*"result":"unbound_refused","mechanism":"SCRAM-SHA-256"' "$audit"
check "a channel-bound login is audited as SCRAM-SHA-256-PLUS" \
  grep -q '"event":"login".*"user":"alice".*"result":"ok","mechanism":"SCRAM-SHA-256-PLUS","channel_binding":"tls-exporter"' "$audit"

# --- 13. a failed enrollment is audited with its user
make_client bob
printf 'wrong secret' > "$work/wrong"; chmod 600 "$work/wrong"
expect_exit "wrong enrollment secret refused" 6 "enrollment refused" as bob enroll --secret "file:$work/wrong"
check "the failed enrollment's audit record names the user" \
  grep -q '"event":"enroll","user":"bob",.*"result":"auth_failed"' "$audit"

# --- 10. an account locked by failed logins shows as locked in user show and user list
printf 'Wrong-Password-123' > "$work/badpw"; chmod 600 "$work/badpw"
for i in 1 2 3; do
  expect_exit "wrong password $i" 6 "authentication failed" as alice --password "file:$work/badpw" ls
done
expect_exit "alice is locked after 3 failed logins (abuse.account_max_failures)" 5 "account locked" as alice ls
check "user show says locked, with the failed count" bash -c "$(declare -f admin); work=$work admin_bin=$admin_bin; \
  admin user show alice > $work/show && grep -q '^state: *locked, 3 failed login(s) in a row, last ' $work/show && \
  grep -q '^lock: *locked until an administrator unlocks it (sfts-admin user unlock alice)' $work/show"
check "user list says locked" bash -c "$(declare -f admin); work=$work admin_bin=$admin_bin; admin user list | grep -q '^alice .* set  *locked\$'"
check "user unlock" admin user unlock alice
check "user show says active again" bash -c "$(declare -f admin); work=$work admin_bin=$admin_bin; admin user show alice | grep -q '^state: *active\$'"
check "alice logs in again" as alice ls

# --- 1. a second sftsd on the same ports exits 71 ---------------------------------------------
# second_server NAME FILE_PORT ENROLL_PORT: runs another sftsd on the same state with these ports;
# it must exit 71 naming the address, without ever writing its ports file (= listening).
second_server() {
  local name=$1 fp=$2 ep=$3 c2=$work/server/second.conf rc
  sed -e "s/^file_port = .*/file_port = $fp/" -e "s/^enroll_port = .*/enroll_port = $ep/" \
    -e "s|^ports_file = .*|ports_file = $work/server/ports2|" "$conf" > "$c2"
  rm -f "$work/server/ports2"
  SOFTHSM2_CONF=$work/server/softhsm2.conf "$sftsd_bin" --config="$c2" > "$work/second.log" 2>&1 &
  local pid=$!
  # Until it exits or says it listens (a fixed bound, not a fixed sleep).
  wait_for 120 bash -c "! kill -0 $pid 2>/dev/null || test -s '$work/server/ports2'"
  if kill -0 "$pid" 2>/dev/null; then
    fail=$((fail + 1)); echo "FAIL: $name: a second sftsd runs on the same ports"; sed 's/^/    /' "$work/second.log" | tail -5
    kill "$pid"; wait "$pid" 2>/dev/null
    return
  fi
  wait "$pid"; rc=$?
  if [[ $rc -eq 71 ]] && grep -q "cannot listen: .* on 127.0.0.1:" "$work/second.log" && [[ ! -s $work/server/ports2 ]]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1)); echo "FAIL: $name (exit $rc, wanted 71 and 'cannot listen: ... on 127.0.0.1:PORT')"; sed 's/^/    /' "$work/second.log" | tail -5
  fi
}
second_server "second sftsd on the same file port exits 71" "$file_port" 0
second_server "second sftsd on the same enrollment port exits 71" 0 "$enroll_port"
check "the first sftsd still serves (ls)" as alice ls
make_client dave
check "the first sftsd still enrolls" as dave enroll --secret "file:$work/server/site-secret"

# --- 14. idle worker threads end after a burst (server.thread_idle_s = 1 here) -----------------
tasks() { ls "/proc/$server_pid/task" | wc -l; }
base=$(tasks)
fds=()
for _ in $(seq 1 40); do
  exec {fd}<>"/dev/tcp/127.0.0.1/$file_port" && fds+=("$fd")
done
# Each connection waits in its TLS handshake on a worker thread of its own.
check "a burst of 40 connections grows the pool (from $base threads)" wait_for 120 bash -c "(( \$(ls /proc/$server_pid/task | wc -l) >= $base + 30 ))"
peak=$(tasks)
for fd in "${fds[@]}"; do exec {fd}>&-; done
check "after the burst the idle threads end (from $peak back to at most $((base + 2)))" \
  wait_for 120 bash -c "(( \$(ls /proc/$server_pid/task | wc -l) <= $base + 2 ))"
echo "threads: $base before, $peak during the burst, $(tasks) after"
check "the server still serves after the burst" as alice ls

# --- 2. sftsd refuses a state that group or others can read -------------------------------------
stop_server
chmod g+r "$state/sfts.db"
expect_exit "sftsd refuses a group-readable sfts.db" 78 "sfts.db is mode 0640" \
  env SOFTHSM2_CONF="$work/server/softhsm2.conf" "$sftsd_bin" --config="$conf"
cp "$work/out" "$work/refused"
check "the message says what to do" grep -q "must not be accessible by group or others.*chmod 600" "$work/refused"
chmod 600 "$state/sfts.db"
chmod 755 "$state"
expect_exit "sftsd refuses a state directory others may enter" 78 "$state is a directory mode 0755" \
  env SOFTHSM2_CONF="$work/server/softhsm2.conf" "$sftsd_bin" --config="$conf"
chmod 700 "$state"
chmod o+r "$state/pki.db"
expect_exit "sftsd refuses a world-readable pki.db" 78 "pki.db is mode 0604" \
  env SOFTHSM2_CONF="$work/server/softhsm2.conf" "$sftsd_bin" --config="$conf"
chmod 600 "$state/pki.db"

# --- 13. log.file in a missing directory names the option and the path
sed "s|^\[log\]|[log]\nfile = $work/no-such-dir/sftsd.log|" "$conf" > "$work/server/badlog.conf"
expect_exit "log.file in a missing directory: the option and the path are named" 78 \
  "log.file: cannot open $work/no-such-dir/sftsd.log: its directory $work/no-such-dir does not exist" \
  env SOFTHSM2_CONF="$work/server/softhsm2.conf" "$sftsd_bin" --config="$work/server/badlog.conf"

# --- 5. with auth.allow_unbound_scram = true, plain SCRAM is accepted and audited as such
sed -i '/^\[auth\]/a allow_unbound_scram = true' "$conf"
start_server || exit 1
sed -i -e "s/^file_port = .*/file_port = $file_port/" -e "s/^enroll_port = .*/enroll_port = $enroll_port/" "$work/alice/sfts.conf"
expect_exit "plain SCRAM-SHA-256 is accepted with auth.allow_unbound_scram = true" 0 "login ok (SCRAM-SHA-256)" \
  env SOFTHSM2_CONF="$work/alice/softhsm2.conf" "$unbound" "$work/alice/sfts.conf"
check "the unbound login is audited as SCRAM-SHA-256 without channel binding" \
  grep -q '"event":"login".*"user":"alice".*"result":"ok","mechanism":"SCRAM-SHA-256","channel_binding":"none"' "$audit"
check "the audit trail verifies" admin audit verify
finish
