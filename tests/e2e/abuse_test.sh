#!/usr/bin/env bash
# Abuse resistance with real processes: brute force ends in a block that survives a restart,
# the safe list, account lockout with growing delays, connection and command floods, slow and
# silent clients, oversized frames and names, quotas, and the tamper-evident audit trail.
# Loopback offers many source addresses: 127.0.0.1 is safe-listed, the others are "the internet".
set -uo pipefail
source "$(dirname "$0")/lib.sh"
SFTS_E2E_EXTRA_CONF=$'[abuse]\nsafe_list = 127.0.0.1\nfailure_threshold = 3\naccount_max_failures = 3\naccount_delay_ms = 500\nconnections_per_s = 2\nconnection_burst = 10\ncommands_per_s = 5\ncommand_burst = 20\n[limits]\nhandshake_timeout_ms = 2000\nframe_timeout_ms = 2000\nquota_files = 3\nquota_mib = 1'
e2e_init
start_server || exit 1
abuse=$bin/tests/e2e/abuse_client

ready_client alice user
ready_client bob

# from_source NAME ADDRESS [PASSWORD_FILE]: NAME's configuration, connecting from ADDRESS
from_source() {
  local c=$work/$1
  sed "s#^\[server\]#[server]\nsource_address = $2#" "$c/sfts.conf" > "$c/from-$2.conf"
  [[ -n ${3:-} ]] && sed -i "s#^password = .*#password = file:$3#" "$c/from-$2.conf"
  echo "$c/from-$2.conf"
}
printf 'Not-Alices-Password-1' > "$work/wrong"; chmod 600 "$work/wrong"
sfts_with() { local n=$1 conf=$2; shift 2; SOFTHSM2_CONF=$work/$n/softhsm2.conf "$sfts_bin" --config "$conf" --quiet "$@"; }

# --- brute force from one address ends blocked, and stays blocked across a restart
attacker=$(from_source alice 127.0.0.2 "$work/wrong")
for i in 1 2 3; do expect_exit "wrong password $i from 127.0.0.2" 6 "authentication failed" sfts_with alice "$attacker" ls; done
check "admin unlocks alice's account (the account cap is tested below)" admin user unlock alice
expect_exit "127.0.0.2 is now refused at accept" 10 "" sfts_with alice "$(from_source alice 127.0.0.2)" ls
check "the server refused it before TLS" grep -q "refused connection from 127.0.0.2: blocked" "$work/server/log"
check "block list shows it" bash -c "SOFTHSM2_CONF=$work/server/softhsm2.conf $admin_bin --config $work/server/sftsd.conf block list | grep -q '^127.0.0.2 .*3 authentication failures'"
check "another address is still served" sfts_with alice "$(from_source alice 127.0.0.3)" ls
stop_server; start_server
sed -i "s/^file_port = .*/file_port = $file_port/; s/^enroll_port = .*/enroll_port = $enroll_port/" "$work"/*/sfts.conf "$work"/*/from-*.conf
expect_exit "still blocked after a restart" 10 "" sfts_with alice "$(from_source alice 127.0.0.2)" ls
check "admin lifts the block" admin block remove 127.0.0.2
check "served again once lifted" sfts_with alice "$(from_source alice 127.0.0.2)" ls
check "admin blocks by hand" admin block add 127.0.0.9 --hours 1 --reason "test"
expect_exit "a hand-made block holds" 10 "" sfts_with alice "$(from_source alice 127.0.0.9)" ls

# --- the safe list is never blocked; the account cap still applies (NIST: per account)
bobwrong=$(from_source bob 127.0.0.1 "$work/wrong")
expect_exit "bob: wrong password 1" 6 "authentication failed" sfts_with bob "$bobwrong" ls
expect_exit "bob: wrong password 2" 6 "authentication failed" sfts_with bob "$bobwrong" ls
start=$(date +%s%N)
expect_exit "bob: wrong password 3" 6 "authentication failed" sfts_with bob "$bobwrong" ls
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
check "a growing delay slows the third guess (${elapsed} ms >= 1000)" test "$elapsed" -ge 1000
expect_exit "bob's account is locked, even with the right password" 5 "account locked" as bob ls
check "the safe-listed source was not blocked" bash -c "! SOFTHSM2_CONF=$work/server/softhsm2.conf $admin_bin --config $work/server/sftsd.conf block list | grep -q '^127.0.0.1 '"
check "admin unlocks bob" admin user unlock bob
check "bob logs in again" as bob ls

# --- a forced password change on evidence of compromise
check "admin expires bob's password" admin user expire bob
expect_exit "bob must change it before anything else" 5 "must be changed first" as bob ls
printf 'Fresh-Start-Zeta-Quill-42' > "$work/bob/newpw"; chmod 600 "$work/bob/newpw"
check "bob changes it" as bob passwd --new-password "file:$work/bob/newpw"
cp "$work/bob/newpw" "$work/bob/password"
check "bob works again" as bob ls

# --- floods hit the rate limits (and score towards a block)
check "connection flood from 127.0.0.4" env SOFTHSM2_CONF=$work/alice/softhsm2.conf "$abuse" flood-connections "$(from_source alice 127.0.0.4)" 40
check "flooding source ends blocked" bash -c "SOFTHSM2_CONF=$work/server/softhsm2.conf $admin_bin --config $work/server/sftsd.conf block list | grep -q '^127.0.0.4 '"
check "command flood from 127.0.0.5" env SOFTHSM2_CONF=$work/alice/softhsm2.conf "$abuse" flood-commands "$(from_source alice 127.0.0.5)" 60

# --- deadlines, not just timeouts
# Upper bounds are generous (a busy machine can delay the server's close by seconds): the drip
# is still cut long before its 45 bytes at one a second are through, which a per-read timeout
# would never do; the reasons are checked in the server's log.
check "silent client dropped at the handshake deadline" env SOFTHSM2_CONF=$work/alice/softhsm2.conf "$abuse" silent "$work/alice/sfts.conf" 30000
check "the server ended it at the handshake deadline" grep -qE 'ended: timeout: .*handshake' "$work/server/log"
check "one byte a second is cut off at the frame deadline" env SOFTHSM2_CONF=$work/alice/softhsm2.conf "$abuse" drip "$work/alice/sfts.conf" 30000
n=$(log_count 'ended: limit_exceeded')
check "oversized length prefix" env SOFTHSM2_CONF=$work/alice/softhsm2.conf "$abuse" oversize "$work/alice/sfts.conf"
check "the length ended it, not a deadline (server log)" wait_for 60 log_grew 'ended: limit_exceeded' "$n"
check "over-long file name" env SOFTHSM2_CONF=$work/alice/softhsm2.conf "$abuse" longname "$work/alice/sfts.conf"
check "the server still serves after all that" as alice ls

# --- quotas: 3 files, 1 MiB
for i in 1 2 3; do head -c 1000 /dev/urandom > "$work/q$i.bin"; check "upload q$i within quota" as alice put "$work/q$i.bin"; done
head -c 1000 /dev/urandom > "$work/q4.bin"
expect_exit "a fourth file exceeds the file quota" 11 "quota exceeded" as alice put "$work/q4.bin"
check "nothing stored over quota" test ! -e "$work/server/state/files/q4.bin"
check "admin lets bob upload" admin user role bob user
head -c $((2 * 1024 * 1024)) /dev/urandom > "$work/big2.bin"
expect_exit "2 MiB exceeds the 1 MiB quota" 11 "quota exceeded" as bob put "$work/big2.bin"
check "nothing stored over the byte quota" test ! -e "$work/server/state/files/big2.bin"
check "no temporary file left" bash -c "! ls -A '$work/server/state/files' | grep -q sfts-tmp"

# --- the audit trail: complete, chained, and tamper-evident
log=$work/server/state/audit.jsonl
check "audit trail verifies" admin audit verify
check "audit has logins, commands, blocks and admin changes" bash -c "grep -q '\"event\":\"login\"' $log && grep -q '\"event\":\"command\".*\"command\":\"upload\".*\"filename\":\"q1.bin\".*\"sha256\":\"' $log && grep -q '\"event\":\"block\"' $log && grep -q '\"event\":\"role_change\"' $log && grep -q '\"event\":\"user_unlock\"' $log"
check "no secret in the audit trail" bash -c "! grep -qF \"\$(cat $work/alice/password)\" $log && ! grep -qF 'correct horse' $log && ! grep -qF \"\$(cat $work/server/pin)\" $log"
cp "$log" "$work/edited.jsonl"; sed -i '5s/"result":"ok"/"result":"no"/' "$work/edited.jsonl"
expect_exit "an edited record is detected" 7 "edited" admin audit verify --file "$work/edited.jsonl"
cp "$log" "$work/deleted.jsonl"; sed -i '6d' "$work/deleted.jsonl"
expect_exit "a deleted record is detected" 7 "removed" admin audit verify --file "$work/deleted.jsonl"
awk 'NR==7{hold=$0; next} NR==8{print; print hold; next} {print}' "$log" > "$work/swapped.jsonl"
expect_exit "swapped records are detected" 7 "line 7" admin audit verify --file "$work/swapped.jsonl"
check "the real trail is still intact" admin audit verify

finish
