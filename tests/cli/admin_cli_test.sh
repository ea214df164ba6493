#!/usr/bin/env bash
# End to end through the real programs: the quickstart, then every sfts-admin verb of the
# foundation, with the openssl CLI as the independent judge.
set -uo pipefail
src=${SFTS_SOURCE_DIR:?}
bin=${SFTS_BINARY_DIR:?}
admin=$bin/server/sfts-admin
work=$(mktemp -d /tmp/sfts-cli-XXXXXX)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
check() {  # check NAME COMMAND... : the command must succeed
  local name=$1; shift
  if "$@" >"$work/out" 2>&1; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $name"; sed 's/^/    /' "$work/out"; fi
}
expect_exit() {  # expect_exit NAME CODE PATTERN COMMAND... : exit code and message must match
  local name=$1 code=$2 pattern=$3; shift 3
  "$@" >"$work/out" 2>&1
  local rc=$?
  if [[ $rc -eq $code ]] && grep -q -- "$pattern" "$work/out"; then pass=$((pass + 1))
  else fail=$((fail + 1)); echo "FAIL: $name (exit $rc, wanted $code and /$pattern/)"; sed 's/^/    /' "$work/out"; fi
}

demo=$work/demo
export SFTS_FILE_PORT=0 SFTS_ENROLL_PORT=0  # the kernel picks free ports
check "quickstart runs" "$src/scripts/quickstart.sh" --no-setup --build-dir "$bin" --demo-dir "$demo"
check "quickstart made a CA" test -s "$demo/state/ca.crt"
check "quickstart is idempotent" bash -c "'$src/scripts/quickstart.sh' --no-setup --build-dir '$bin' --demo-dir '$demo' > '$work/second'"
check "second run keeps the CA" grep -q "already initialised" "$work/second"
check "PIN files are private" bash -c "[[ \$(stat -c %a '$demo/secrets/pin') == 600 ]]"
check "no PIN in the config" bash -c "! grep -q \"\$(cat '$demo/secrets/pin')\" '$demo/sftsd.conf'"

export SOFTHSM2_CONF=$demo/softhsm2.conf
cfg=$demo/sftsd.conf
before=$(sha256sum "$demo/state/ca.crt")
expect_exit "init refuses to overwrite" 4 "already exists" "$admin" --config "$cfg" init
check "CA unchanged after refusal" bash -c "[[ \"\$(sha256sum '$demo/state/ca.crt')\" == '$before' ]]"

# A client CSR made by the openssl CLI, issued, verified, revoked.
openssl req -new -newkey rsa:3072 -nodes -keyout "$work/alice.key" -subj /CN=alice -out "$work/alice.csr" 2>/dev/null
audit=$demo/state/audit.jsonl
# Issue 13 item 7: a certificate for a name that is no user is refused unless forced; issuing
# is audited. $USER is unset here: the record names the uid's account (item 13), not "?".
openssl req -new -newkey rsa:3072 -nodes -keyout "$work/frank.key" -subj /CN=frank -out "$work/frank.csr" 2>/dev/null
expect_exit "cert issue refuses a name that is no user" 3 "no user 'frank': add it first" \
  "$admin" --config "$cfg" cert issue --csr "$work/frank.csr" --out "$work/frank.crt"
check "nothing written for a name that is no user" test ! -e "$work/frank.crt"
check "nothing audited for the refusal" bash -c "! grep -q '\"event\":\"certificate_issue\"' '$audit'"
check "user add frank" "$admin" --config "$cfg" user add frank
check "cert issue for a new user" "$admin" --config "$cfg" cert issue --csr "$work/frank.csr" --out "$work/frank.crt"
check "cert issue (alice, a user of the quickstart)" env -u USER -u SUDO_USER "$admin" --config "$cfg" cert issue --csr "$work/alice.csr" --out "$work/alice.crt"
serial=$(openssl x509 -noout -serial -in "$work/alice.crt" | cut -d= -f2)
check "cert issue is audited, by the uid's account name with \$USER unset" \
  grep -q "\"event\":\"certificate_issue\",\"by\":\"sfts-admin ($(id -un))\",\"user\":\"alice\",\"serial\":\"$serial\"" "$audit"
check "no audit record says 'sfts-admin (?)'" bash -c "! grep -qF 'sfts-admin (?)' '$audit'"
openssl req -new -newkey rsa:3072 -nodes -keyout "$work/ghost.key" -subj /CN=ghost -out "$work/ghost.csr" 2>/dev/null
check "cert issue --force issues for a name that is no user" \
  "$admin" --config "$cfg" cert issue --csr "$work/ghost.csr" --out "$work/ghost.crt" --force
ghost=$(openssl x509 -noout -serial -in "$work/ghost.crt" | cut -d= -f2)
check "the forced issue is audited as forced" \
  grep -q "\"event\":\"certificate_issue\",.*\"user\":\"ghost\",\"serial\":\"$ghost\",\"forced\":\"no such user\"" "$audit"
check "the audit trail verifies" "$admin" --config "$cfg" audit verify
check "issued cert verifies (openssl)" openssl verify -purpose sslclient -crl_check -CRLfile "$demo/state/crl.pem" \
  -CAfile "$demo/state/ca.crt" "$work/alice.crt"
expect_exit "cert issue refuses to overwrite output" 4 "refusing to overwrite" \
  "$admin" --config "$cfg" cert issue --csr "$work/alice.csr" --out "$work/alice.crt"
check "cert list shows alice" bash -c "'$admin' --config '$cfg' cert list | grep -q '$serial.*alice.*valid'"
check "cert revoke" "$admin" --config "$cfg" cert revoke "$serial" --reason 1
check "cert list shows revoked" bash -c "'$admin' --config '$cfg' cert list | grep -q '$serial.*revoked'"
expect_exit "revoked cert fails openssl verify" 2 "certificate revoked" openssl verify -crl_check \
  -CRLfile "$demo/state/crl.pem" -CAfile "$demo/state/ca.crt" "$work/alice.crt"
expect_exit "revoke twice" 4 "already revoked" "$admin" --config "$cfg" cert revoke "$serial"
expect_exit "revoke unknown" 3 "no certificate with serial" "$admin" --config "$cfg" cert revoke ABCDEF
check "crl publish" "$admin" --config "$cfg" crl publish

# Bad input: clear errors, nothing changed.
openssl req -new -newkey rsa:2048 -nodes -keyout "$work/weak.key" -subj /CN=weak -out "$work/weak.csr" 2>/dev/null
expect_exit "2048-bit CSR refused" 2 "at least 3072" "$admin" --config "$cfg" cert issue --csr "$work/weak.csr" --out "$work/weak.crt"
check "nothing written for refused CSR" test ! -e "$work/weak.crt"
echo "garbage" > "$work/bad.csr"
expect_exit "malformed CSR refused" 2 "not a PEM certificate request" "$admin" --config "$cfg" cert issue --csr "$work/bad.csr" --out "$work/bad.crt"
printf 'wrong-pin-31337' > "$work/wrong"; chmod 600 "$work/wrong"
sed "s#^pin = .*#pin = file:$work/wrong#" "$cfg" > "$work/wrong.conf"
expect_exit "wrong PIN" 6 "CKR_PIN_INCORRECT" "$admin" --config "$work/wrong.conf" crl publish
check "wrong PIN never printed" bash -c "! grep -q 31337 '$work/out'"
chmod 644 "$work/wrong"
expect_exit "world-readable PIN file refused" 5 "chmod 600" "$admin" --config "$work/wrong.conf" crl publish
sed "s#^token = .*#token = pkcs11:token=nope#" "$cfg" > "$work/notoken.conf"
expect_exit "missing token" 3 "no token matches pkcs11:token=nope" "$admin" --config "$work/notoken.conf" crl publish
sed "s#^module = .*#module = /nonexistent/pkcs11.so#" "$cfg" > "$work/nomodule.conf"
expect_exit "missing module" 14 "cannot load PKCS#11 module /nonexistent/pkcs11.so" "$admin" --config "$work/nomodule.conf" crl publish
printf '[pki]\nca_days = forever\n' > "$work/bad.conf"
expect_exit "bad config names the option" 2 "pki.ca_days" "$admin" --config "$work/bad.conf" cert list
expect_exit "usage error" 1 "usage:" "$admin" frobnicate
expect_exit "PIN on the command line is not an option" 1 "unknown option --pin-value" "$admin" --config "$cfg" init --pin-value 1234

echo "$pass passed, $fail failed"
((fail == 0))
