#!/usr/bin/env bash
# "Any PKCS#11 token" end to end, on another implementation than SoftHSM2:
#   token_test.sh tpm     the server's token and alice's token in a software TPM 2.0
#                         (swtpm + tpm2-abrmd + tpm2-pkcs11), bob's in SoftHSM2
#   token_test.sh p11kit  the server's token behind `p11-kit server` (p11-kit-client.so: a
#                         stand-in for a network HSM), the clients' in SoftHSM2
#   token_test.sh opencryptoki  the server's token in opencryptoki's software token (pkcsslotd
#                         started here; root), the clients' in SoftHSM2
# Each runs init, enroll, first login, put/get, renew and revoke, and asks the module itself
# (pkcs11-tool) whether every private key is sensitive and never extractable.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
kind=${1:?usage: token_test.sh tpm|p11kit|opencryptoki}
SFTS_E2E_EXTRA_CONF=$'[abuse]\nsafe_list = 127.0.0.1'
e2e_server_token=$kind
e2e_init
server_module=$token_module
start_server || exit 1

# private_keys_protected DIR MODULE TOKEN: the module lists at least one private key in TOKEN
# (PIN in DIR/pin, SoftHSM2's store configured in DIR), and reports every one sensitive, always
# sensitive and never extractable
private_keys_protected() {
  local out
  out=$(SOFTHSM2_CONF=$1/softhsm2.conf pkcs11-tool --module "$2" --token-label "$3" --login --pin "$(cat "$1/pin")" \
    --list-objects --type privkey 2>&1) || {
    echo "$out"; return 1; }
  echo "$out"
  local keys access
  keys=$(grep -c '^Private Key Object' <<<"$out")
  access=$(grep -c 'Access: *sensitive, always sensitive, never extractable' <<<"$out")
  ((keys > 0 && keys == access))
}

check "sfts-admin init made the CA and server keys in the $kind token" bash -c \
  "$(declare -f private_keys_protected); private_keys_protected $work/server $server_module server | grep -c '^Private Key Object' | grep -qx 2"
check "the server's keys are sensitive and never extractable ($kind)" private_keys_protected "$work/server" "$server_module" server

# Clients: alice's token on the same kind of token where it can hold clients, bob's in SoftHSM2.
e2e_client_token=$kind
[[ $kind == tpm ]] || e2e_client_token=softhsm  # p11kit and opencryptoki: one token, the server's
ready_client alice user
alice_module=$token_module alice_kind=$e2e_client_token
e2e_client_token=softhsm
ready_client bob user
check "alice's key is sensitive and never extractable ($alice_kind)" private_keys_protected "$work/alice" "$alice_module" alice-token

head -c 300000 /dev/urandom > "$work/file.bin"
mkdir -p "$work/dl-alice" "$work/dl-bob"
check "alice uploads" as alice put "$work/file.bin"
check "bob downloads alice's file" as bob get file.bin -o "$work/dl-bob"
check "bob's copy is identical" cmp "$work/file.bin" "$work/dl-bob/file.bin"
check "bob uploads" as bob put --as from-bob.bin "$work/file.bin"
check "alice downloads bob's file" as alice get from-bob.bin -o "$work/dl-alice"
check "alice's copy is identical" cmp "$work/file.bin" "$work/dl-alice/from-bob.bin"

# renew: a new key made in alice's token, the old certificate revoked
old_serial=$(openssl x509 -noout -serial -in "$work/alice/state/client.crt" | cut -d= -f2)
old_pub=$(openssl x509 -noout -pubkey -in "$work/alice/state/client.crt")
check "alice renews her certificate" as alice renew
cp "$work/out" "$work/renew.out"
if [[ $alice_kind == tpm ]]; then
  # tpm2-pkcs11 refuses "no decryption" for an RSA key (CKR_GENERAL_ERROR): sfts falls back and says so
  check "the TPM took the reduced key template, and sfts said so" \
    grep -q "the token refused the full template (CKR_GENERAL_ERROR); key generated with the reduced template" "$work/renew.out"
fi
check "the renewed certificate has a new key" test "$old_pub" != "$(openssl x509 -noout -pubkey -in "$work/alice/state/client.crt")"
check "the old serial is revoked" bash -c "$(declare -f admin); work=$work admin_bin=$admin_bin; admin cert list | grep '$old_serial' | grep -q revoked"
check "alice's keys are still all protected after renewal" private_keys_protected "$work/alice" "$alice_module" alice-token
check "alice works with the renewed key" as alice ls

# revoke: the operator revokes alice; the server (its CA key in the token) signs the CRL
serial=$(openssl x509 -noout -serial -in "$work/alice/state/client.crt" | cut -d= -f2)
check "revoke alice" admin cert revoke "$serial"
check "the CRL, signed in the $kind token, verifies and lists alice" bash -c \
  "openssl crl -in $work/server/state/crl.pem -CAfile $work/server/state/ca.crt -noout 2>&1 | grep -q 'verify OK' &&
   openssl crl -in $work/server/state/crl.pem -noout -text | grep -qi 'Serial Number: *$serial'"
stop_server; start_server || exit 1
sed -i "s/^file_port = .*/file_port = $file_port/; s/^enroll_port = .*/enroll_port = $enroll_port/" "$work"/*/sfts.conf
check "alice's revoked certificate is refused" bash -c "$(declare -f as); work=$work sfts_bin=$sfts_bin; ! as alice ls"
check "the server refused it as revoked" grep -q "certificate verify failed (certificate revoked)" "$work/server/log"
check "bob is still served" as bob ls

if [[ $kind == p11kit ]]; then
  # The remote token goes away (p11-kit server and the process serving sftsd's connection):
  # the next handshake fails, sftsd names the token and stops cleanly (no crash) for its
  # supervisor to restart it once the token is back (libp11 0.4.12 cannot re-open a module).
  kids=$(ps -o pid= --ppid "$p11kit_pid")
  kill "$p11kit_pid" $kids 2>/dev/null
  wait "$p11kit_pid" 2>/dev/null
  check "a login fails while the remote token is gone" bash -c "$(declare -f as); work=$work sfts_bin=$sfts_bin; ! as bob ls"
  tokens_wait_for 120 "sftsd to stop" bash -c "! kill -0 $server_pid 2>/dev/null"
  wait "$server_pid"; rc=$?; server_pid=
  check "sftsd stopped with an error, not a signal (exit $rc)" test "$rc" -gt 0 -a "$rc" -lt 128
  check "sftsd's log names the token that went away" grep -q "Fatal .*server token pkcs11:token=server no longer usable" "$work/server/log"
  rm -f "$work/server/p11kit/p11kit.sock"
  p11kit_start "$work/server/p11kit" "$work/server/softhsm2.conf" server || exit 1
  start_server || exit 1
  sed -i "s/^file_port = .*/file_port = $file_port/; s/^enroll_port = .*/enroll_port = $enroll_port/" "$work"/*/sfts.conf
  check "once the token is back, a restarted sftsd serves again" as bob ls
fi

if [[ $kind == opencryptoki ]]; then
  # The token's PIN state in words: opencryptoki counts wrong user PINs and locks after three.
  printf 00000000 > "$work/server/wrong-pin"; chmod 600 "$work/server/wrong-pin"
  sed "s#^pin = .*#pin = file:$work/server/wrong-pin#" "$work/server/sftsd.conf" > "$work/server/wrong.conf"
  wrong_admin() { "$admin_bin" --config "$work/server/wrong.conf" "$@"; }
  for try in 1 2 3 4; do wrong_admin crl publish > "$work/pin-try-$try" 2>&1; done
  check "1st wrong PIN: refused" grep -q "C_Login failed: CKR_PIN_INCORRECT" "$work/pin-try-1"
  check "2nd wrong PIN: the last try is announced" grep -q "one more wrong PIN locks the token.*CKR_PIN_INCORRECT" "$work/pin-try-2"
  check "then: locked, in words" grep -q "the user PIN is locked: the token's security officer must unlock or reset it" "$work/pin-try-4"
fi

finish
