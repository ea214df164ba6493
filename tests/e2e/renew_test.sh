#!/usr/bin/env bash
# Certificate lifetime end to end: short-lived client certificates (pki.client_days), the expiry
# warning, `sfts cert`, `sfts renew` (new key in the token, old serial revoked and refused by the
# running server at once), refused renewals that change nothing, and the operator's
# `sfts-admin cert renew` (same key, new serial) with `sfts cert install`. The openssl CLI judges
# the CRL and the certificates; pkcs11-tool looks into the token.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
SFTS_E2E_EXTRA_CONF=$'[abuse]\nsafe_list = 127.0.0.1\n[pki]\nclient_days = 10'
e2e_init
start_server || exit 1
state=$work/server/state

serial_of() { openssl x509 -noout -serial -in "$1" | cut -d= -f2; }
pubkey_of() { openssl x509 -noout -pubkey -in "$1"; }
# token_objects NAME: the labels of the objects in NAME's token, one a line
token_objects() {
  SOFTHSM2_CONF=$work/$1/softhsm2.conf pkcs11-tool --module /usr/lib/softhsm/libsofthsm2.so --token-label "$1-token" \
    --login --pin "$(cat "$work/$1/pin")" --list-objects 2>/dev/null | sed -n 's/^ *label: *//p' | sort
}
export -f token_objects
export work
# copy_client FROM TO: a snapshot of FROM's token, certificate and configuration, as client TO
copy_client() {
  mkdir -p "$work/$2"
  cp -a "$work/$1/tokens" "$work/$1/state" "$work/$1/pin" "$work/$1/password" "$work/$2/"
  sed "s#$work/$1/#$work/$2/#g" "$work/$1/softhsm2.conf" > "$work/$2/softhsm2.conf"
  sed "s#$work/$1/#$work/$2/#g" "$work/$1/sfts.conf" > "$work/$2/sfts.conf"
}

# --- a client certificate that lives 10 days, and the warning about it
make_client alice
make_client bob
check "enroll alice" as alice enroll --secret "file:$work/server/site-secret"
check "alice sets her password" as alice ls --new-password "file:$work/alice/password"
check "admin makes alice a user" admin user role alice user
days=$(( ($(date -d "$(openssl x509 -noout -enddate -in "$work/alice/state/client.crt" | cut -d= -f2)" +%s) - $(date +%s)) / 86400 ))
check "pki.client_days = 10 gives a 10-day certificate" bash -c "(( $days == 9 || $days == 10 ))"
expect_exit "sfts cert shows the certificate" 0 "expiring soon" as alice cert
check "sfts cert names subject, serial, not-after, days left" bash -c "$(declare -f as); work=$work sfts_bin=$sfts_bin
  out=\$(as alice cert); grep -q '^subject *CN=alice' <<<\"\$out\" && grep -q \"^serial *$(serial_of "$work/alice/state/client.crt")\" <<<\"\$out\" &&
  grep -q '^not after *20[0-9][0-9]-' <<<\"\$out\" && grep -qE '^days left *(9|10) ' <<<\"\$out\""
check "sfts cert needs no PIN" bash -c "SOFTHSM2_CONF=/nonexistent $sfts_bin --config $work/alice/sfts.conf --pin file:/nonexistent cert"
expect_exit "a command warns on stderr when the certificate expires soon" 0 "warning: your certificate .* expires on .* days left): run 'sfts renew'" as alice ls
check "the warning is in the client log" grep -q "Warning .*your certificate .* expires on" "$work/alice/state/sfts.log"
cp "$work/alice/sfts.conf" "$work/alice/quiet.conf"; printf '[cert]\nwarn_days = 5\n' >> "$work/alice/quiet.conf"
check "no warning outside cert.warn_days" bash -c "! SOFTHSM2_CONF=$work/alice/softhsm2.conf $sfts_bin --config $work/alice/quiet.conf --quiet ls 2>&1 | grep -q warning"
check "help lists renew" bash -c "$(declare -f as); work=$work sfts_bin=$sfts_bin; as alice help | grep -qx 'commands your role allows on the server: ls upload batch download update renew help exit'"

# --- a refused renewal changes nothing: old key and certificate still work, no key left behind
old_crt=$work/alice-old.crt
cp "$work/alice/state/client.crt" "$old_crt"
old_serial=$(serial_of "$old_crt")
token_objects alice > "$work/objects-before"
check "admin forces alice to change her password" admin user expire alice
expect_exit "renewal refused while the password must change" 5 "password must be changed" as alice renew
check "certificate unchanged after a refused renewal" cmp "$old_crt" "$work/alice/state/client.crt"
check "no renewal key left in the token" bash -c "[[ \"\$(token_objects alice)\" == \"\$(cat $work/objects-before)\" ]]"
printf 'Vivid-Granite-Orchard-58' > "$work/alice/newpw"; chmod 600 "$work/alice/newpw"
check "alice changes her password with the old certificate" as alice passwd --new-password "file:$work/alice/newpw"
cp "$work/alice/newpw" "$work/alice/password"

# --- sfts renew: a new key in the token, a new certificate, the old one revoked at once
copy_client alice alice-old   # the old key and certificate, to try them after the renewal
check "the snapshot works before the renewal" as alice-old ls
check "sfts renew" as alice renew
cp "$work/out" "$work/renew.out"
# The running server refuses the old certificate at once: no restart, no reload, no wait
# for the CRL file watcher (this runs right after the renewal).
check "the old certificate and key are refused by the running server" bash -c "! SOFTHSM2_CONF=$work/alice-old/softhsm2.conf $sfts_bin --config $work/alice-old/sfts.conf --quiet ls"
check "the server refused it as revoked" grep -q "certificate verify failed (certificate revoked)" "$work/server/log"
check "renew reports the revoked serial" grep -q "old certificate $old_serial is revoked" "$work/renew.out"
new_serial=$(serial_of "$work/alice/state/client.crt")
check "the new serial differs" test "$new_serial" != "$old_serial"
check "the new certificate has a new key" bash -c "[[ \"\$(openssl x509 -noout -pubkey -in $old_crt)\" != \"\$(openssl x509 -noout -pubkey -in $work/alice/state/client.crt)\" ]]"
check "the new certificate verifies against the CRL (openssl)" openssl verify -purpose sslclient -crl_check \
  -CRLfile "$state/crl.pem" -CAfile "$state/ca.crt" "$work/alice/state/client.crt"
expect_exit "the old certificate is revoked in the CRL (openssl verify)" 2 "certificate revoked" openssl verify -crl_check \
  -CRLfile "$state/crl.pem" -CAfile "$state/ca.crt" "$old_crt"
check "the CRL lists the old serial as superseded (openssl crl)" bash -c "openssl crl -in $state/crl.pem -noout -text | grep -A4 -i 'Serial Number: *$old_serial' | grep -q Superseded"
check "cert list: old serial revoked" bash -c "SOFTHSM2_CONF=$work/server/softhsm2.conf $admin_bin --config $work/server/sftsd.conf cert list | grep '^$old_serial ' | grep -q revoked"
check "cert list: new serial valid, expiring soon" bash -c "SOFTHSM2_CONF=$work/server/softhsm2.conf $admin_bin --config $work/server/sftsd.conf cert list | grep '^$new_serial ' | grep -q 'valid, expiring soon'"
check "the token holds one key pair and the new certificate, under the usual label" bash -c \
  "[[ \"\$(token_objects alice | uniq -c | tr -s ' ')\" == ' 3 sfts-client' ]]"
check "the token's certificate is the new one" bash -c "SOFTHSM2_CONF=$work/alice/softhsm2.conf pkcs11-tool --module /usr/lib/softhsm/libsofthsm2.so \
  --token-label alice-token --read-object --type cert --label sfts-client -o $work/token-cert.der 2>/dev/null &&
  [[ \$(openssl x509 -inform DER -in $work/token-cert.der -noout -serial | cut -d= -f2) == $new_serial ]]"
check "the new certificate works: put" as alice put "$old_crt" --as renewed.bin
mkdir -p "$work/dl"
check "the new certificate works: get" as alice get renewed.bin -o "$work/dl"
check "round trip identical" cmp "$old_crt" "$work/dl/renewed.bin"
check "the new certificate works: ls" bash -c "$(declare -f as); work=$work sfts_bin=$sfts_bin; as alice ls | grep -q renewed.bin"
check "a renewed certificate can be renewed again" as alice renew

# --- an interrupted renewal is finished (or undone) by the next connection. Simulated: the
# process died after writing client.crt but before switching the token, so the token holds the
# old key under the usual label and the renewal key (made here by pkcs11-tool) under the
# renewal label, and client.crt is the renewal key's certificate (CSR signed in the token by
# openssl's pkcs11 engine, issued by sfts-admin, the old serial revoked as the server would).
pk() { SOFTHSM2_CONF=$work/alice/softhsm2.conf pkcs11-tool --module /usr/lib/softhsm/libsofthsm2.so --token-label alice-token \
  --login --pin "$(cat "$work/alice/pin")" "$@"; }
before_crash=$(serial_of "$work/alice/state/client.crt")
check "simulate: a renewal key in the token" pk --keypairgen --key-type rsa:3072 --label sfts-client.renew
check "simulate: its certificate, signed in the token" env SOFTHSM2_CONF=$work/alice/softhsm2.conf openssl req -new -engine pkcs11 \
  -keyform engine -key "pkcs11:token=alice-token;object=sfts-client.renew;type=private;pin-value=$(cat "$work/alice/pin")" \
  -subj /CN=alice -out "$work/crash.csr"
check "simulate: issued and written to client.crt" bash -c "SOFTHSM2_CONF=$work/server/softhsm2.conf $admin_bin --config $work/server/sftsd.conf cert issue --csr $work/crash.csr --out $work/crash.crt &&
  SOFTHSM2_CONF=$work/server/softhsm2.conf $admin_bin --config $work/server/sftsd.conf cert revoke $before_crash --reason 4 && cp $work/crash.crt $work/alice/state/client.crt"
check "the next connection finishes the renewal" as alice ls
check "finished: one key pair and the certificate under the usual label" bash -c \
  "[[ \"\$(token_objects alice | uniq -c | tr -s ' ')\" == ' 3 sfts-client' ]]"
check "finished: the token's certificate is the renewed one" bash -c "SOFTHSM2_CONF=$work/alice/softhsm2.conf pkcs11-tool --module /usr/lib/softhsm/libsofthsm2.so \
  --token-label alice-token --read-object --type cert --label sfts-client -o $work/token-cert2.der 2>/dev/null &&
  [[ \$(openssl x509 -inform DER -in $work/token-cert2.der -noout -serial | cut -d= -f2) == $(serial_of "$work/crash.crt") ]]"
check "the client log says so" grep -q "finished an interrupted renewal" "$work/alice/state/sfts.log"
check "simulate a renewal key that never got its certificate" pk --keypairgen --key-type rsa:2048 --label sfts-client.renew
check "the next connection removes it and works" as alice ls
check "removed: only the current key pair and certificate remain" bash -c \
  "[[ \"\$(token_objects alice | uniq -c | tr -s ' ')\" == ' 3 sfts-client' ]]"
check "the renewal is in the audit trail" grep -q "\"command\":\"renew\",\"new_serial\":\"$new_serial\",\"result\":\"ok\"" "$state/audit.jsonl"

# --- renewal requests the client never sends: another user's name, replays, old or weak keys
check "enroll bob" as bob enroll --secret "file:$work/server/site-secret"
check "bob sets his password" as bob ls --new-password "file:$work/bob/password"
check "hostile renewals refused, nothing revoked" env SOFTHSM2_CONF=$work/alice/softhsm2.conf \
  "$bin/tests/e2e/renew_attack" "$work/alice/sfts.conf" bob
check "still exactly one valid certificate for alice" bash -c "[[ \$(SOFTHSM2_CONF=$work/server/softhsm2.conf $admin_bin --config $work/server/sftsd.conf cert list | grep ' client  alice ' | grep -c valid) == 1 ]]"

# --- the operator's renewal: the same key re-signed, new serial, old one revoked
bob_old=$work/bob-old.crt
cp "$work/bob/state/client.crt" "$bob_old"
bob_serial=$(serial_of "$bob_old")
expect_exit "cert renew needs a serial or --user" 1 "give a SERIAL or --user" admin cert renew
expect_exit "cert renew of an unknown serial" 3 "no certificate with serial" admin cert renew ABCDEF
server_serial=$(serial_of "$state/server.crt")
expect_exit "cert renew of the server certificate refused" 2 "not a client's" admin cert renew "$server_serial"
expect_exit "cert renew of a revoked certificate refused" 4 "is revoked" admin cert renew "$old_serial"
expect_exit "cert renew --days out of range" 1 "--days must be 1 to 3650" admin cert renew --user bob --days 0
crl_reloads=$(log_count 'CRL .* changed: reloaded')
check "cert renew --user bob --days 30 --out FILE" admin cert renew --user bob --days 30 --out "$work/bob-new.crt"
bob_new=$(serial_of "$work/bob-new.crt")
check "operator renewal: new serial" test "$bob_new" != "$bob_serial"
check "operator renewal: same public key" bash -c "[[ \"\$(openssl x509 -noout -pubkey -in $bob_old)\" == \"\$(openssl x509 -noout -pubkey -in $work/bob-new.crt)\" ]]"
check "operator renewal: fresh validity of 30 days" bash -c "openssl x509 -noout -checkend $((29 * 86400)) -in $work/bob-new.crt && ! openssl x509 -noout -checkend $((31 * 86400)) -in $work/bob-new.crt >/dev/null"
check "operator renewal verifies against the CRL (openssl)" openssl verify -purpose sslclient -crl_check \
  -CRLfile "$state/crl.pem" -CAfile "$state/ca.crt" "$work/bob-new.crt"
expect_exit "operator renewal revoked the old serial (openssl verify)" 2 "certificate revoked" openssl verify -crl_check \
  -CRLfile "$state/crl.pem" -CAfile "$state/ca.crt" "$bob_old"
check "the operator's renewal is audited" grep -q "\"event\":\"certificate_renew\".*\"serial\":\"$bob_serial\",\"new_serial\":\"$bob_new\"" "$state/audit.jsonl"
# sftsd watches crl.pem (every 2 s): the old certificate is refused without a restart.
check "the running server reloaded the CRL" wait_for 120 log_grew 'CRL .* changed: reloaded' "$crl_reloads"
# TLS 1.3: the client sees the alert (auth_failed) or only the closed connection (io).
check "bob's old certificate is refused by the running server" bash -c "! SOFTHSM2_CONF=$work/bob/softhsm2.conf $sfts_bin --config $work/bob/sfts.conf --quiet ls"
check "the server refused bob's as revoked" bash -c "grep 'certificate verify failed (certificate revoked)' $work/server/log | wc -l | grep -qx 2"
expect_exit "installing someone else's certificate is refused" 7 "not for the key in the token" as bob cert install "$work/alice/state/client.crt"
check "bob's certificate is unchanged after the refusal" cmp "$bob_old" "$work/bob/state/client.crt"
check "sfts cert install" as bob cert install "$work/bob-new.crt"
check "bob works again with the re-signed certificate" as bob ls
check "cert renew SERIAL writes the PEM to stdout" bash -c "SOFTHSM2_CONF=$work/server/softhsm2.conf $admin_bin --config $work/server/sftsd.conf cert renew $bob_new > $work/bob-3.crt 2>$work/bob-3.err && openssl x509 -noout -in $work/bob-3.crt && grep -q 'sfts cert install' $work/bob-3.err"
bob3=$(serial_of "$work/bob-3.crt")
expect_exit "cert renew --cert must be that certificate" 2 "is not certificate $bob3" admin cert renew "$bob3" --cert "$work/alice/state/client.crt"
check "cert renew --cert FILE re-signs the key in FILE" bash -c "SOFTHSM2_CONF=$work/server/softhsm2.conf $admin_bin --config $work/server/sftsd.conf cert renew $bob3 --cert $work/bob-3.crt --out $work/bob-4.crt && [[ \"\$(openssl x509 -noout -pubkey -in $work/bob-4.crt)\" == \"\$(openssl x509 -noout -pubkey -in $bob_old)\" ]]"
check "cert list --within 5: a 10-day certificate is not expiring soon" bash -c "SOFTHSM2_CONF=$work/server/softhsm2.conf $admin_bin --config $work/server/sftsd.conf cert list --within 5 | grep '^$(serial_of "$work/bob-4.crt") ' | grep -q ' valid$'"
expect_exit "cert list --within must be a number" 1 "--within must be 0 to 3650" admin cert list --within soon
check "the audit trail still verifies" admin audit verify

finish
