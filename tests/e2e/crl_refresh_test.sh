#!/usr/bin/env bash
# The CRL keeps itself fresh (issue 18, item 5): with the clock moved past the CRL's nextUpdate
# (libfaketime on sftsd only), sftsd re-signs crl.pem in its token and clients still get in; a
# second node on the same state directory does not sign it again; when re-signing cannot
# happen, the log and `sfts-admin cert list` say so and the client's error names the CRL, not
# the user's certificate; once the cause is gone sftsd re-signs by itself at its next check.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

faketime_bin=$(command -v faketime) || { echo "FAIL: faketime is not installed (scripts/setup.sh installs it)"; exit 1; }
# ASan wants to be first in the library list; libfaketime comes first through LD_PRELOAD.
[[ -n ${ASAN_OPTIONS:-} ]] && export ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0"

SFTS_E2E_EXTRA_CONF=$'[pki]\ncrl_check_s = 1'
e2e_init
crl=$work/server/state/crl.pem
next_update() { date -u -d "$(openssl crl -in "$crl" -noout -nextupdate | cut -d= -f2)" +%s; }
crl_number() { echo $(( $(openssl crl -in "$crl" -noout -crlnumber | cut -d= -f2) )); }
# at OFFSET NAME sfts-args...: the client on a clock moved like the server's (commands carry
# timestamps the server checks against its own clock: the whole site is "8 days later").
at() { local off=$1 n=$2; shift 2; SOFTHSM2_CONF=$work/$n/softhsm2.conf "$faketime_bin" -f "$off" "$sfts_bin" --config "$work/$n/sfts.conf" --quiet "$@"; }

# wait_log FILE PATTERN: up to 120 s for the pattern to appear in the file.
wait_log() {
  local i
  for i in $(seq 1 1200); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "timed out after 120 s waiting for /$2/ in $1"; tail -20 "$1"; return 1
}

# start_node NAME FAKETIME-OFFSET: sftsd with its own config (own ports file and log) on the
# shared state directory and token, under a moved clock; waits up to 120 s for its ports.
start_node() {
  local n=$1 offset=$2
  sed "s|ports_file = .*|ports_file = $work/$n.ports|" "$work/server/sftsd.conf" > "$work/$n.conf"
  rm -f "$work/$n.ports"
  SOFTHSM2_CONF=$work/server/softhsm2.conf "$faketime_bin" -f "$offset" "$sftsd_bin" --config="$work/$n.conf" >>"$work/$n.log" 2>&1 &
  eval "${n}_pid=$!"
  local pid=$!
  for _ in $(seq 1 1200); do
    [[ -s $work/$n.ports ]] && break
    kill -0 "$pid" 2>/dev/null || { echo "FAIL: sftsd $n died:"; tail -20 "$work/$n.log"; fail=$((fail + 1)); return 1; }
    sleep 0.1
  done
  [[ -s $work/$n.ports ]] || { echo "FAIL: sftsd $n did not listen within 120 s"; fail=$((fail + 1)); return 1; }
  read -r f e < "$work/$n.ports"
  file_port=${f#file=}; enroll_port=${e#enroll=}
  sed -i "s/^file_port = .*/file_port = $file_port/; s/^enroll_port = .*/enroll_port = $enroll_port/" "$work/alice/sfts.conf"
}
stop_node() { local v=${1}_pid; if [[ -n ${!v:-} ]]; then kill "${!v}" 2>/dev/null; wait "${!v}" 2>/dev/null; eval "$v="; fi; }
cleanup_nodes() { stop_node a; stop_node b; stop_node c; }

start_server
ready_client alice user
printf 'hello' > "$work/hello.txt"
check "alice uploads before the clock moves" as alice put "$work/hello.txt"
stop_server
first_number=$(crl_number); mkdir -p "$work/dl"

# 1. Eight days later the CRL of the set-up (pki.crl_days = 7) has expired: sftsd re-signs it at start.
trap 'cleanup_nodes; e2e_cleanup' EXIT
start_node a '+8d'
check "sftsd at +8d logs the re-signed CRL" wait_log "$work/a.log" "re-signed in the token"
check "the CRL's nextUpdate moved past the moved clock (+8d + 7d)" test "$(next_update)" -gt $(( $(date +%s) + 14 * 86400 ))
check "alice still gets in at +8d" at +8d alice get hello.txt -o "$work/dl"
check "and her file round-trips" cmp "$work/hello.txt" "$work/dl/hello.txt"
second_number=$(crl_number)
check "the CRL number grew" test "$second_number" -gt "$first_number"

# 2. A second node on the same state directory, same clock: the CRL is fresh, it does not sign it again.
start_node b '+8d'
check "node b runs" wait_log "$work/b.log" "listening: file service"
sleep_until=$((SECONDS + 3)); while ((SECONDS < sleep_until)); do sleep 0.5; done  # b's checks every 1 s
check "node b did not re-sign a fresh CRL" bash -c "! grep -q 're-signed in the token' '$work/b.log'"
check "the CRL number is unchanged" test "$(crl_number)" = "$second_number"
stop_node b

# 3. Not expired yet but past half its life: at +12d the list (nextUpdate +15d) has 3 of 7 days
# left, and sftsd re-signs it. (The periodic check of a running node is step 4's recovery.)
stop_node a
start_node c '+12d'
check "node c re-signs a CRL with less than half its life left" wait_log "$work/c.log" "re-signed in the token"
stop_node c
stop_node a

# 4. Re-signing impossible (the CRL lock cannot be taken: a directory in its place): at +20d the
# CRL has expired; sftsd says so, cert list says so, and the client's error names the CRL.
rm -f "$work/server/state/crl.lock"
mkdir "$work/server/state/crl.lock"
before=$(cat "$crl")
start_node a '+20d'
check "the log warns that the CRL could not be re-signed" wait_log "$work/a.log" "could not be re-signed"
check "the warning says it has expired" grep -q "EXPIRED on" "$work/a.log"
check "crl.pem is untouched" test "$(cat "$crl")" = "$before"
expect_exit "the client is refused, and told about the server's CRL" 6 "revocation list (CRL) has expired" at +20d alice ls
cp "$work/out" "$work/refused.txt"
check "the client does not blame its own certificate" grep -q "but it is valid until" "$work/refused.txt"
SOFTHSM2_CONF=$work/server/softhsm2.conf "$faketime_bin" -f '+20d' "$admin_bin" --config "$work/server/sftsd.conf" cert list > "$work/list.txt" 2>&1
check "cert list warns that the CRL has expired" grep -q "WARNING: the CRL expired on" "$work/list.txt"
# The cause goes away: sftsd re-signs at its next check (pki.crl_check_s = 1) without a restart.
rmdir "$work/server/state/crl.lock"
check "sftsd re-signs once it can" wait_log "$work/a.log" "re-signed in the token"
ok=0
for _ in $(seq 1 120); do at +20d alice ls >/dev/null 2>&1 && { ok=1; break; }; sleep 1; done
check "alice gets in again without a restart" test "$ok" = 1
SOFTHSM2_CONF=$work/server/softhsm2.conf "$faketime_bin" -f '+20d' "$admin_bin" --config "$work/server/sftsd.conf" cert list > "$work/list.txt" 2>&1
check "cert list no longer warns about the CRL" bash -c "! grep -qi 'warning: the CRL' '$work/list.txt'"
stop_node a
finish
