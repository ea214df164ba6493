#!/usr/bin/env bash
# Enrollment security end to end (issue 13, items 3, 4 and 6), real sftsd and sfts processes:
# - one-time token secrets are stored only sealed: the sqlite3 CLI, as an independent reader of
#   the database, finds no secret, and what it does find does not enroll; the secret does;
# - a key whose certificate was revoked (keyCompromise) is never certified again, on any path
#   (re-enrollment with --reuse-key, a CSR with that key for another name with the site secret,
#   sfts-admin cert issue), while sfts enroll makes a new key by default and is certified;
# - enrollment is two-phase: a client that stops after the server's answer (as the real client
#   does when it detects a relay), a relay that holds the connection, and a relay that confirms
#   without the secret leave nothing final: the certificate cannot log in, is revoked, and the
#   honest retry with the same one-time token or site secret succeeds; the audit trail says so.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
SFTS_E2E_EXTRA_CONF=$'[abuse]\nsafe_list = 127.0.0.1\n[limits]\nenroll_confirm_timeout_s = 15'
e2e_init
start_server || exit 1
state=$work/server/state
db=$state/sfts.db
attack=$bin/tests/e2e/enroll_attack

serial_of() { openssl x509 -noout -serial -in "$1" | cut -d= -f2; }
pubkey_of() { openssl x509 -noout -pubkey -in "$1"; }
# token_labels NAME: the labels of the private keys in NAME's token, one a line
token_labels() {
  SOFTHSM2_CONF=$work/$1/softhsm2.conf pkcs11-tool --module /usr/lib/softhsm/libsofthsm2.so --token-label "$1-token" \
    --login --pin "$(cat "$work/$1/pin")" --list-objects --type privkey 2>/dev/null | sed -n 's/^ *label: *//p' | sort
}
one_key_labelled() { [[ "$(token_labels "$1")" == sfts-client ]]; }
# refused_pending SERIAL: the server refused a login with this certificate because its enrollment
# was not confirmed (while it waited), not only later through the CRL
refused_pending() { grep -q "login refused: certificate of an unconfirmed enrollment, user '.*' (certificate $1)" "$work/server/log"; }
new_token() {  # new_token USER FILE-PREFIX: a one-time token; its id in PREFIX-id, its secret in PREFIX-secret
  admin enrollment create "$1" > "$2-out" 2>&1 || { echo "enrollment create $1 failed:"; cat "$2-out"; return 1; }
  awk '/^token-id/ {printf "%s", $2}' "$2-out" > "$2-id"
  awk '/^secret/ {printf "%s", $2}' "$2-out" > "$2-secret"; chmod 600 "$2-secret"
}

# --- item 4: the one-time secret is stored only sealed
check "admin adds alice" admin user add alice --role user
new_token alice "$work/alice-tok" || exit 1
secret=$(cat "$work/alice-tok-secret")
check "the secret is printed once (43 base64url characters)" bash -c "[[ '$secret' =~ ^[A-Za-z0-9_-]{43}\$ ]]"
check "sqlite3 finds no clear secret column" bash -c "[[ \$(sqlite3 '$db' \"SELECT COUNT(*) FROM pragma_table_info('enrollment_tokens') WHERE name = 'secret'\") == 0 ]]"
check "sqlite3 dump of the database does not contain the secret" bash -c "! sqlite3 '$db' .dump | grep -qF '$secret'"
check "no database file contains the secret" bash -c "! cat '$db' '$db-wal' 2>/dev/null | grep -qaF '$secret'"
sealed=$(sqlite3 "$db" "SELECT hex(sealed) FROM enrollment_tokens WHERE id = '$(cat "$work/alice-tok-id")'")
check "the token row holds 32 sealed bytes" test "${#sealed}" -eq 64
# A reader of the database has the id, the user and the sealed bytes: none of it enrolls.
make_client alice
make_client mallory
printf '%s' "$sealed" > "$work/guess-hex"
printf '%s' "$sealed" | tr 'A-F' 'a-f' > "$work/guess-lowhex"
printf '%s' "$sealed" | xxd -r -p | base64 -w0 | tr '+/' '-_' | tr -d '=' > "$work/guess-b64"
chmod 600 "$work"/guess-*
for g in hex lowhex b64; do
  expect_exit "a database reader cannot enroll as alice (sealed value as $g)" 6 "enrollment refused" \
    as mallory enroll --user alice --token-id "$(cat "$work/alice-tok-id")" --secret "file:$work/guess-$g"
done
check "the database reader got no certificate" test ! -e "$work/mallory/state/client.crt"
check "the right secret still enrolls alice" as alice enroll --token-id "$(cat "$work/alice-tok-id")" --secret "file:$work/alice-tok-secret"
check "alice sets her password" as alice ls --new-password "file:$work/alice/password"
check "the used token shows as used" bash -c "SOFTHSM2_CONF=$work/server/softhsm2.conf $admin_bin --config $work/server/sftsd.conf enrollment list | grep '$(cat "$work/alice-tok-id")' | grep -q used"
check "the secret is in no log" bash -c "! grep -qF '$secret' '$work/server/log' '$state/audit.jsonl' '$work/alice/state/sfts.log'"

# --- item 3: a revoked key is never certified again
old_crt=$work/alice-old.crt
cp "$work/alice/state/client.crt" "$old_crt"
check "alice's enrollment made one key, under the configured label" one_key_labelled alice
check "admin revokes alice's certificate: keyCompromise" admin cert revoke "$(serial_of "$old_crt")" --reason 1
new_token alice "$work/alice-tok2" || exit 1
expect_exit "re-enrollment certifying the revoked key is refused (--reuse-key)" 5 "was revoked (keyCompromise)" \
  as alice enroll --reuse-key --token-id "$(cat "$work/alice-tok2-id")" --secret "file:$work/alice-tok2-secret"
expect_exit "a CSR with the revoked key for another name is refused (site secret)" 5 "a revoked key is never certified again" \
  as alice enroll --reuse-key --user eve --secret "file:$work/server/site-secret"
check "no account and no certificate for eve" bash -c "! SOFTHSM2_CONF=$work/server/softhsm2.conf $admin_bin --config $work/server/sftsd.conf user list | grep -q eve && ! SOFTHSM2_CONF=$work/server/softhsm2.conf $admin_bin --config $work/server/sftsd.conf cert list | grep -q ' eve '"
check "the refused attempts left alice's files as they were" cmp "$old_crt" "$work/alice/state/client.crt"
check "re-enrollment makes a new key by default and is certified" as alice enroll --token-id "$(cat "$work/alice-tok2-id")" --secret "file:$work/alice-tok2-secret"
cp "$work/out" "$work/reenroll.out"
check "it says it made a new key" grep -q "(new RSA-3072 key 'sfts-client'" "$work/reenroll.out"
check "the new certificate has another key" bash -c "[[ \"\$(openssl x509 -noout -pubkey -in $old_crt)\" != \"\$(openssl x509 -noout -pubkey -in $work/alice/state/client.crt)\" ]]"
check "one key in the token, under the configured label (old one gone, no staging key left)" one_key_labelled alice
check "alice logs in with the new key" as alice ls
# The operator's offline path refuses the revoked key too.
openssl req -new -newkey rsa:3072 -nodes -keyout "$work/dave.key" -subj /CN=dave -out "$work/dave.csr" 2>/dev/null
check "admin issues dave a certificate" admin cert issue --force --csr "$work/dave.csr" --out "$work/dave.crt"
check "admin revokes it: keyCompromise" admin cert revoke "$(serial_of "$work/dave.crt")" --reason 1
expect_exit "sfts-admin cert issue refuses the revoked key" 5 "was revoked (keyCompromise)" admin cert issue --force --csr "$work/dave.csr" --out "$work/dave2.crt"
openssl req -new -key "$work/dave.key" -subj /CN=dave2 -out "$work/dave2.csr" 2>/dev/null
expect_exit "... also for another name" 5 "a revoked key is never certified again" admin cert issue --force --csr "$work/dave2.csr" --out "$work/dave2.crt"
check "nothing was written" test ! -e "$work/dave2.crt"

# --- item 6: nothing is final until the client confirms
crl=$state/crl.pem
make_client carol
check "a client that stops after the server's answer (closes): its certificate never logs in and is revoked" \
  "$attack" close "$work/carol/sfts.conf" "$work/server/site-secret" - "$crl" "$work/carol-unconfirmed.crt"
check "the server refused carol's pending certificate as unconfirmed" refused_pending "$(serial_of "$work/carol-unconfirmed.crt")"
check "no account was made for carol" bash -c "! SOFTHSM2_CONF=$work/server/softhsm2.conf $admin_bin --config $work/server/sftsd.conf user list | grep -q carol"
expect_exit "the unconfirmed certificate is revoked (openssl verify -crl_check)" 2 "certificate revoked" \
  openssl verify -crl_check -CRLfile "$crl" -CAfile "$state/ca.crt" "$work/carol-unconfirmed.crt"
check "the honest retry with the site secret succeeds" as carol enroll --secret "file:$work/server/site-secret"
check "carol logs in" as carol ls --new-password "file:$work/carol/password"

check "admin adds erin" admin user add erin --role user
new_token erin "$work/erin-tok" || exit 1
make_client erin
check "a relay that holds the connection: refused while pending, undone at the deadline" \
  "$attack" hold "$work/erin/sfts.conf" "$work/erin-tok-secret" "$(cat "$work/erin-tok-id")" "$crl" "$work/erin-unconfirmed.crt"
check "the server refused erin's pending certificate as unconfirmed" refused_pending "$(serial_of "$work/erin-unconfirmed.crt")"
check "the deadline is in the server log" grep -q "not confirmed (no confirmation within 15 s)" "$work/server/log"
check "the one-time token is still open" bash -c "SOFTHSM2_CONF=$work/server/softhsm2.conf $admin_bin --config $work/server/sftsd.conf enrollment list | grep '$(cat "$work/erin-tok-id")' | grep -q open"
check "the honest retry with the same one-time token succeeds" as erin enroll --token-id "$(cat "$work/erin-tok-id")" --secret "file:$work/erin-tok-secret"
check "erin logs in" as erin ls --new-password "file:$work/erin/password"
expect_exit "now the token is used up" 6 "enrollment refused" \
  as erin enroll --token-id "$(cat "$work/erin-tok-id")" --secret "file:$work/erin-tok-secret"

check "admin adds frank" admin user add frank --role user
new_token frank "$work/frank-tok" || exit 1
make_client frank
check "a relay that confirms without the secret is refused, and the certificate undone" \
  "$attack" badconfirm "$work/frank/sfts.conf" "$work/frank-tok-secret" "$(cat "$work/frank-tok-id")" "$crl" "$work/frank-unconfirmed.crt"
check "the server refused frank's pending certificate as unconfirmed" refused_pending "$(serial_of "$work/frank-unconfirmed.crt")"
check "the honest retry with the same one-time token succeeds" as frank enroll --token-id "$(cat "$work/frank-tok-id")" --secret "file:$work/frank-tok-secret"
check "frank logs in" as frank ls --new-password "file:$work/frank/password"

# --- the audit trail: begin, confirm, expiry
audit=$state/audit.jsonl
u_serial=$(serial_of "$work/erin-unconfirmed.crt")
check "audit: the begin of erin's unconfirmed enrollment (pending)" grep -q "\"event\":\"enroll_begin\".*\"user\":\"erin\",\"serial\":\"$u_serial\".*\"result\":\"pending\"" "$audit"
check "audit: its expiry (revoked, no confirmation in time)" grep -q "\"event\":\"enroll_expire\".*\"user\":\"erin\",\"serial\":\"$u_serial\".*\"result\":\"revoked\".*no confirmation within 15 s" "$audit"
check "audit: the confirmed retry" grep -q "\"event\":\"enroll_confirm\".*\"user\":\"erin\",\"serial\":\"$(serial_of "$work/erin/state/client.crt")\".*\"result\":\"ok\"" "$audit"
check "audit: the closed connection's enrollment expired" grep -q "\"event\":\"enroll_expire\".*\"user\":\"carol\",\"serial\":\"$(serial_of "$work/carol-unconfirmed.crt")\"" "$audit"
check "audit: the forged confirmation" grep -q "\"event\":\"enroll_expire\".*\"user\":\"frank\".*bad confirmation proof" "$audit"
check "audit: the refused key, with the user's name" grep -q "\"event\":\"enroll\",.*\"user\":\"eve\".*permission_denied" "$audit"
check "the audit trail verifies" admin audit verify

# --- a restart undoes an enrollment still pending (its connection is gone)
stop_server
check "a pending certificate left by a crash" bash -c "sqlite3 '$state/pki.db' \"UPDATE certificates SET pending_until = strftime('%s','now') + 3600, revoked_at = NULL, reason = 0 WHERE serial = '$u_serial'\""
start_server || exit 1
check "the restarted server revoked it" grep -q "\"event\":\"enroll_expire\".*\"serial\":\"$u_serial\".*pending at start" "$audit"

finish
