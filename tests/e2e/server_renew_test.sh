#!/usr/bin/env bash
# Server certificate renewal (issue 18, item 6): `sfts-admin cert renew-server` makes a new key in
# the token and a certificate from the same CA; a running sftsd keeps working with its old key,
# says on SIGHUP that server.crt changed, switches at restart, and enrolled clients connect
# unchanged and see the new serial. A certificate within pki.warn_days is warned about in the
# log and in `cert list`.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

# 30-day server certificates: within pki.warn_days (60) from the start.
SFTS_E2E_EXTRA_CONF=$'[pki]\nserver_days = 30'
e2e_init
state=$work/server/state
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
# The serial the server shows a TLS client on port $1, verified against our CA.
seen_serial() {
  timeout 20 openssl s_client -connect "127.0.0.1:$1" -CAfile "$state/ca.crt" -verify_return_error </dev/null 2>/dev/null |
    openssl x509 -noout -serial | cut -d= -f2
}
# restart: stop and start sftsd (new kernel-chosen ports) and point the clients at it.
restart() {
  stop_server
  start_server
  local c
  for c in "$work"/alice "$work"/bob; do
    [[ -f $c/sfts.conf ]] && sed -i "s/^file_port = .*/file_port = $file_port/; s/^enroll_port = .*/enroll_port = $enroll_port/" "$c/sfts.conf"
  done
  return 0
}
wait_log() {
  local i
  for i in $(seq 1 1200); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timed out after 120 s waiting for /$2/ in $1"; tail -20 "$1"; return 1
}

start_server
ready_client alice user
old=$(serial_of "$state/server.crt")
check "the server shows its certificate" test "$(seen_serial "$enroll_port")" = "$old"
check "sftsd warns that its certificate expires within pki.warn_days" grep -qE "the server certificate $old expires in (29|30) days" "$work/server/log"
admin cert list > "$work/list.txt" 2>&1
check "cert list warns about the server certificate" grep -qE "warning: the server certificate expires in (29|30) days" "$work/list.txt"
check "cert list marks it" grep -q "^$old .*server .*EXPIRING SOON" "$work/list.txt"
ca_before=$(sha256sum < "$state/ca.crt")

check "renew-server" admin cert renew-server
cp "$work/out" "$work/renew.txt"
new=$(serial_of "$state/server.crt")
check "server.crt has a new serial" test "$new" != "$old"
check "renew-server names it" grep -q "serial $new" "$work/renew.txt"
check "the CA is unchanged" test "$(sha256sum < "$state/ca.crt")" = "$ca_before"
check "the new certificate is from our CA" openssl verify -CAfile "$state/ca.crt" "$state/server.crt"
check "and has a new key" bash -c "! cmp -s <(openssl x509 -in '$state/server.crt' -noout -pubkey) <(timeout 20 openssl s_client -connect 127.0.0.1:$enroll_port -CAfile '$state/ca.crt' </dev/null 2>/dev/null | openssl x509 -noout -pubkey)"
check "the registry records it" bash -c "SOFTHSM2_CONF=$work/server/softhsm2.conf $admin_bin --config $work/server/sftsd.conf cert list | grep -q '^$new .*server'"

# The running server still signs with the key it loaded (kept in the token as -previous).
printf 'before restart' > "$work/a.txt"
check "alice uploads to the running server after the renewal" as alice put "$work/a.txt"
kill -HUP "$server_pid"
check "SIGHUP: sftsd says server.crt changed and a restart switches" wait_log "$work/server/log" "server certificate $new in .* is not the one in use"

restart
check "after the restart the server shows the new certificate" test "$(seen_serial "$enroll_port")" = "$new"
check "and on the file port too" test "$(seen_serial "$file_port")" = "$new"
printf 'after restart' > "$work/b.txt"
check "alice, unchanged, uploads" as alice put "$work/b.txt"
mkdir -p "$work/dl"
check "and downloads" as alice get a.txt -o "$work/dl"
check "the round trip is intact" cmp "$work/a.txt" "$work/dl/a.txt"
check "a new user enrolls against the new certificate" ready_client bob

# A second renewal replaces the -previous key of the first (one previous key at most).
check "a second renewal" admin cert renew-server
third=$(serial_of "$state/server.crt")
restart
check "the server shows the third certificate" test "$(seen_serial "$file_port")" = "$third"
check "alice still gets in" as alice ls
stop_server
finish
