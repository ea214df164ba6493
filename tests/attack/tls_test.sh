#!/usr/bin/env bash
# The TLS policy of both ports of a real sftsd, judged by a client we did not write: the openssl
# CLI (versions, cipher classes, compression, renegotiation, resumption, client certificates
# made by `openssl ca` with the real CA key, read from the server's token through the pkcs11
# engine). testssl.sh has its own test (testssl_test.sh).
set -uo pipefail
source "$(dirname "$0")/../e2e/lib.sh"
# Refused certificates are authentication failures: loopback is safe-listed so that this test
# is not blocked by its own cases (blocking is abuse_test's).
SFTS_E2E_EXTRA_CONF=$'[abuse]\nsafe_list = 127.0.0.1'
e2e_init
start_server || exit 1
ca=$work/server/state/ca.crt
skipped=0

# s_client PORT ARGS...: one connection, ended by the server's verdict and not by a clock.
# stdin carries a frame header of a message type that does not exist, and -ign_eof keeps
# s_client reading after stdin ends, until the server closes. A server that accepted the
# handshake reads that frame and answers "unknown message type 255" before it closes; one that
# refused the client (in TLS 1.3 after the client's handshake has completed) sends its alert
# and closes without reading it. A server that does neither fails the check at the timeout.
junk_frame='\0\0\0\0\377'
s_client() { printf "$junk_frame" | timeout 120 openssl s_client -ign_eof -connect "127.0.0.1:$1" -CAfile "$ca" "${@:2}" 2>&1; }

# accepted NAME PORT ARGS...: a full handshake, server verified, and the server read our frame.
accepted() {
  local name=$1 port=$2; shift 2
  s_client "$port" "$@" > "$work/out"
  if grep -aqE '^New, TLSv1\.[23], Cipher is (TLS_AES_|ECDHE-[A-Z]+-AES[0-9]+-GCM)' "$work/out" &&
     grep -aq 'Verify return code: 0 (ok)' "$work/out" && grep -aq 'unknown message type 255' "$work/out" &&
     ! grep -aqE 'alert|errno' "$work/out"; then
    pass=$((pass + 1))
  else fail=$((fail + 1)); echo "FAIL: $name"; tr -c '[:print:]\n' '.' < "$work/out" | sed 's/^/    /' | tail -12; fi
}

# refused NAME PORT ARGS...: no session: no cipher agreed, or an alert (or a reset) ends it,
# and the server never read our frame.
refused() {
  local name=$1 port=$2; shift 2
  s_client "$port" "$@" > "$work/out"
  if grep -aqE 'alert|Cipher is \(NONE\)|no protocols available|no ciphers available|unexpected eof|errno=104' "$work/out" &&
     ! grep -aq 'unknown message type' "$work/out" && ! grep -aq '^read R BLOCK' "$work/out"; then
    pass=$((pass + 1))
  else fail=$((fail + 1)); echo "FAIL: $name"; tr -c '[:print:]\n' '.' < "$work/out" | sed 's/^/    /' | tail -12; fi
}

# A client certificate from our CA for a software key (as e2e_test's dave): the control.
openssl req -new -newkey rsa:3072 -nodes -keyout "$work/dave.key" -subj /CN=dave -out "$work/dave.csr" 2>/dev/null
check "issue dave a certificate (sfts-admin; dave is no user: --force)" admin cert issue --csr "$work/dave.csr" --out "$work/dave.crt" --force
dave=(-cert "$work/dave.crt" -key "$work/dave.key")
ports=("$file_port" "$enroll_port")
who() { [[ $1 == "$file_port" ]] && echo "file service" || echo "enrollment"; }
mtls() { [[ $1 == "$file_port" ]] && echo "${dave[@]}"; }

# --- versions and cipher classes, both ports
for p in "${ports[@]}"; do
  # shellcheck disable=SC2046
  accepted "$(who "$p"): TLS 1.3 accepted" "$p" -tls1_3 $(mtls "$p")
  accepted "$(who "$p"): TLS 1.2 ECDHE-RSA-AES256-GCM accepted" "$p" -tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384 $(mtls "$p")
  accepted "$(who "$p"): TLS 1.2 ECDHE-RSA-AES128-GCM accepted" "$p" -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 $(mtls "$p")
  accepted "$(who "$p"): TLS 1.3 AES-128-GCM accepted" "$p" -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256 $(mtls "$p")
  accepted "$(who "$p"): TLS 1.3 AES-256-GCM accepted" "$p" -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384 $(mtls "$p")
  refused "$(who "$p"): TLS 1.0 refused" "$p" -tls1 -cipher 'DEFAULT:@SECLEVEL=0' $(mtls "$p")
  refused "$(who "$p"): TLS 1.1 refused" "$p" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' $(mtls "$p")
  # Every TLS 1.2 cipher class but ECDHE + AES-GCM, each offered alone.
  for c in ECDHE-RSA-AES128-SHA256 ECDHE-RSA-AES256-SHA384 ECDHE-RSA-AES128-SHA ECDHE-RSA-AES256-SHA \
           ECDHE-RSA-CHACHA20-POLY1305 ECDHE-ARIA128-GCM-SHA256 ECDHE-ARIA256-GCM-SHA384 ECDHE-RSA-CAMELLIA128-SHA256 \
           AES128-GCM-SHA256 AES256-GCM-SHA384 AES128-SHA256 AES128-SHA AES128-CCM \
           DHE-RSA-AES128-GCM-SHA256 DHE-RSA-AES256-GCM-SHA384 DHE-RSA-CHACHA20-POLY1305 DHE-RSA-AES128-SHA \
           DES-CBC3-SHA ECDHE-RSA-DES-CBC3-SHA RC4-SHA ECDHE-RSA-RC4-SHA NULL-SHA256 NULL-SHA ECDHE-RSA-NULL-SHA \
           ADH-AES128-GCM-SHA256 AECDH-AES128-SHA ADH-AES256-SHA256 PSK-AES128-GCM-SHA256 ECDHE-PSK-AES128-CBC-SHA256 \
           SRP-AES-128-CBC-SHA EXP-RC4-MD5; do
    if ! openssl ciphers "$c:@SECLEVEL=0" >/dev/null 2>&1; then
      skipped=$((skipped + 1)); echo "note: this openssl cannot offer $c at all"; continue
    fi
    refused "$(who "$p"): TLS 1.2 $c refused" "$p" -tls1_2 -cipher "$c:@SECLEVEL=0" $(mtls "$p")
  done
  for s in TLS_CHACHA20_POLY1305_SHA256 TLS_AES_128_CCM_SHA256 TLS_AES_128_CCM_8_SHA256; do
    refused "$(who "$p"): TLS 1.3 $s refused" "$p" -tls1_3 -ciphersuites "$s" $(mtls "$p")
  done
  # --- compression (CRIME), renegotiation (CVE-2009-3555, CVE-2011-1473), resumption
  s_client "$p" -tls1_2 -comp $(mtls "$p") > "$work/tls12"
  check "$(who "$p"): compression offered, none agreed" grep -q 'Compression: NONE' "$work/tls12"
  check "$(who "$p"): secure renegotiation (RFC 5746) signalled" grep -q 'Secure Renegotiation IS supported' "$work/tls12"
  # R asks s_client to renegotiate once its handshake is done; the server answers with a
  # no_renegotiation alert or ends the connection, and no second handshake completes. Our frame
  # follows once s_client has started renegotiating, so that the server ends the connection
  # even if it let the renegotiation through; s_client's stdin stays open until it is done.
  reneg_input() {
    wait_for 120 grep -aq 'Verify return code' "$work/reneg" || return
    printf 'R\n'
    wait_for 120 grep -aqE 'RENEGOTIATING|errno|alert' "$work/reneg" || return
    printf "$junk_frame"
    wait_for 120 test -e "$work/reneg.done"
  }
  rm -f "$work/reneg.done"; : > "$work/reneg"
  # shellcheck disable=SC2046
  timeout 120 openssl s_client -connect "127.0.0.1:$p" -CAfile "$ca" -tls1_2 -msg $(mtls "$p") > "$work/reneg" 2>&1 < <(reneg_input)
  touch "$work/reneg.done"
  check "$(who "$p"): client-initiated renegotiation refused" \
    bash -c "grep -q RENEGOTIATING '$work/reneg' && grep -q '<<< TLS 1.2, Alert .*warning no_renegotiation' '$work/reneg' && [[ \$(grep -c '<<< TLS 1.2, Handshake \[length [0-9a-f]*\], Finished' '$work/reneg') -eq 1 ]]"
  for v in -tls1_2 -tls1_3; do
    s_client "$p" "$v" -sess_out "$work/sess" $(mtls "$p") > "$work/first"
    check "$(who "$p") $v: no session ticket sent" bash -c "! grep -qE 'Post-Handshake New Session Ticket|TLS session ticket lifetime hint' '$work/first'"
    # s_client saves a session only if there is something to resume it with (an ID or a ticket).
    check "$(who "$p") $v: no session to resume (no session ID, no ticket, nothing saved)" \
      bash -c "[[ ! -s '$work/sess' ]] && { [[ $v == -tls1_3 ]] || grep -qE '^ +Session-ID: *$' '$work/first'; }"
    rm -f "$work/sess"
  done
done

# --- client certificates on the file service: made by `openssl ca`, an independent signer,
# with the real CA key, read from the server's token through the pkcs11 engine.
export SOFTHSM2_CONF=$work/server/softhsm2.conf
cakey="pkcs11:token=server;object=sfts-ca;type=private?pin-source=file:$work/server/pin"
mkdir -p "$work/ca/new"; : > "$work/ca/index.txt"; echo 7000 > "$work/ca/serial"
cat > "$work/ca/ca.cnf" <<CNF
[ca]
default_ca = odd
[odd]
database = $work/ca/index.txt
new_certs_dir = $work/ca/new
serial = $work/ca/serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
[good]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
[ku_encipher]
basicConstraints = critical,CA:FALSE
keyUsage = critical,keyEncipherment
extendedKeyUsage = clientAuth
[eku_server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
[eku_codesign]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
[ca_leaf]
basicConstraints = critical,CA:TRUE
keyUsage = critical,digitalSignature,keyCertSign,cRLSign
extendedKeyUsage = clientAuth
[kcs_noca]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyCertSign
extendedKeyUsage = clientAuth
[ca_leaf_nokcs]
basicConstraints = critical,CA:TRUE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
CNF
# odd NAME EXTENSIONS [openssl ca options...]: a certificate for CN=NAME from our CA
odd() {
  local n=$1 ext=$2; shift 2
  [[ -f $work/$n.key ]] || openssl req -new -newkey "${KEYSPEC:-rsa:3072}" -nodes -keyout "$work/$n.key" -subj "/CN=$n" -out "$work/$n.csr" 2>/dev/null
  openssl ca -batch -notext -config "$work/ca/ca.cnf" -engine pkcs11 -keyform engine -keyfile "$cakey" -cert "$ca" \
    -extensions "$ext" -in "$work/$n.csr" -out "$work/$n.crt" "$@" > "$work/ca.log" 2>&1
}
cert() { echo -cert "$work/$1.crt" -key "$work/$1.key"; }

check "control: openssl ca signs with the token's CA key" odd erin good -days 2
check "control: the CA's certificate verifies it (openssl verify)" openssl verify -purpose sslclient -CAfile "$ca" "$work/erin.crt"
# shellcheck disable=SC2046
for v in -tls1_3 -tls1_2; do accepted "control $v: a proper certificate made by openssl ca is accepted" "$file_port" "$v" $(cert erin); done
check "expired" odd frank good -startdate 20200101000000Z -enddate 20200201000000Z
check "not yet valid" odd gina good -startdate 20990101000000Z -enddate 20991231000000Z
check "keyEncipherment only" odd hank ku_encipher -days 2
check "EKU serverAuth" odd ivan eku_server -days 2
check "EKU codeSigning" odd jane eku_codesign -days 2
check "CA:TRUE leaf (keyCertSign)" odd karl ca_leaf -days 2
check "CA:TRUE leaf (no keyCertSign)" odd lena ca_leaf_nokcs -days 2
check "keyCertSign on a CA:FALSE leaf" odd lars kcs_noca -days 2
check "SHA-1 signature" odd mona good -days 2 -md sha1
KEYSPEC=rsa:1024 check "RSA-1024 key" odd nick good -days 2
# Not ours: a self-signed certificate naming an existing user, and one from another CA, with
# and without the foreign chain.
openssl req -x509 -newkey rsa:3072 -nodes -keyout "$work/oscar.key" -out "$work/oscar.crt" -subj /CN=dave -days 2 \
  -addext extendedKeyUsage=clientAuth -addext keyUsage=digitalSignature 2>/dev/null
openssl req -x509 -newkey rsa:3072 -nodes -keyout "$work/evilca.key" -out "$work/evilca.crt" -subj "/CN=sfts CA" -days 2 2>/dev/null
openssl req -new -newkey rsa:3072 -nodes -keyout "$work/pete.key" -subj /CN=dave -out "$work/pete.csr" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n' > "$work/pete.ext"
openssl x509 -req -in "$work/pete.csr" -CA "$work/evilca.crt" -CAkey "$work/evilca.key" -CAcreateserial -days 2 \
  -extfile "$work/pete.ext" -out "$work/pete.crt" 2>/dev/null
# revoked: issued by sfts-admin, revoked, CRL reloaded on SIGHUP
openssl req -new -newkey rsa:3072 -nodes -keyout "$work/rita.key" -subj /CN=rita -out "$work/rita.csr" 2>/dev/null
check "issue rita a certificate (no user: --force)" admin cert issue --csr "$work/rita.csr" --out "$work/rita.crt" --force
accepted "control: rita is accepted before revocation" "$file_port" -tls1_3 $(cert rita)
check "revoke rita" admin cert revoke "$(openssl x509 -noout -serial -in "$work/rita.crt" | cut -d= -f2)"
kill -HUP "$server_pid"
check "the server reloaded the CRL on SIGHUP" wait_for 120 grep -q 'reloaded on SIGHUP' "$work/server/log"

for v in -tls1_3 -tls1_2; do
  refused "$v: no client certificate" "$file_port" "$v"
  refused "$v: expired" "$file_port" "$v" $(cert frank)
  refused "$v: not yet valid" "$file_port" "$v" $(cert gina)
  refused "$v: revoked" "$file_port" "$v" $(cert rita)
  refused "$v: keyUsage keyEncipherment only (no digitalSignature)" "$file_port" "$v" $(cert hank)
  refused "$v: EKU serverAuth" "$file_port" "$v" $(cert ivan)
  refused "$v: EKU codeSigning" "$file_port" "$v" $(cert jane)
  refused "$v: CA:TRUE leaf with keyCertSign" "$file_port" "$v" $(cert karl)
  refused "$v: CA:TRUE leaf without keyCertSign" "$file_port" "$v" $(cert lena)
  refused "$v: keyCertSign on a CA:FALSE leaf" "$file_port" "$v" $(cert lars)
  # SECLEVEL=0 so that s_client itself agrees to present them
  refused "$v: signed with SHA-1" "$file_port" "$v" $(cert mona) -cipher 'DEFAULT:@SECLEVEL=0'
  refused "$v: RSA-1024 key" "$file_port" "$v" $(cert nick) -cipher 'DEFAULT:@SECLEVEL=0' 
  refused "$v: self-signed" "$file_port" "$v" $(cert oscar)
  refused "$v: from another CA (named like ours)" "$file_port" "$v" $(cert pete)
  refused "$v: from another CA, chain sent" "$file_port" "$v" $(cert pete) -cert_chain "$work/evilca.crt"
done
# --- the verdict is waited for, not timed: through a proxy that holds every byte from the server
# for 2 s (a busy server's alert arriving late), TLS 1.3 refusals are still seen. A probe that
# gave the server 0.5 s failed here ("refused -tls1_3: EKU serverAuth" on a machine at load 8).
python3 "$(dirname "$0")/delay_proxy.py" "$file_port" 2 > "$work/proxy.port" 2> "$work/proxy.err" &
proxy_pid=$!
check "a delaying proxy listens" wait_for 60 test -s "$work/proxy.port"
slow=$(cat "$work/proxy.port")
refused "server 2 s late, -tls1_3: no client certificate" "$slow" -tls1_3
# shellcheck disable=SC2046
refused "server 2 s late, -tls1_3: EKU serverAuth" "$slow" -tls1_3 $(cert ivan)
# shellcheck disable=SC2046
accepted "server 2 s late, -tls1_3: a proper certificate is accepted (control)" "$slow" -tls1_3 $(cert erin)
kill "$proxy_pid"

echo "the server's reasons:"; grep -oE 'certificate verify failed \([^)]*\)|peer did not return a certificate|unsuitable certificate purpose|ee key too small|ca md too weak' "$work/server/log" | sort | uniq -c | sed 's/^/    /'
accepted "control after all refusals: dave is still accepted" "$file_port" -tls1_3 "${dave[@]}"
unset SOFTHSM2_CONF

# --- the policy is the server's own, not the system's: with an empty openssl.cnf (OpenSSL's
# built-in security level 1 instead of Debian's 2) weak certificates are still refused.
printf '# empty\n' > "$work/empty.cnf"
stop_server
OPENSSL_CONF=$work/empty.cnf start_server || exit 1
accepted "empty openssl.cnf: dave is accepted (control)" "$file_port" -tls1_3 "${dave[@]}"
for v in -tls1_3 -tls1_2; do
  refused "empty openssl.cnf $v: RSA-1024 key" "$file_port" "$v" $(cert nick) -cipher 'DEFAULT:@SECLEVEL=0'
  refused "empty openssl.cnf $v: signed with SHA-1" "$file_port" "$v" $(cert mona) -cipher 'DEFAULT:@SECLEVEL=0'
  refused "empty openssl.cnf $v: TLS 1.1" "$file_port" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' "${dave[@]}"
done

check "the server is still up after all that" kill -0 "$server_pid"
echo "note: $skipped cipher offers not possible with this openssl build (and SSLv3 is not built in at all: testssl_test.sh tries it with its own sockets)"
finish
