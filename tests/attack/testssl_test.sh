#!/usr/bin/env bash
# testssl.sh (Debian's 3.0.8) against both ports of a real sftsd, judged from its JSON:
# protocols (including SSLv2/SSLv3, which it tries with its own sockets), every cipher per
# protocol, session resumption, and the vulnerability checks (-U). Both ports run in parallel.
# 8443 asks for a client certificate that testssl cannot present: it still sees the server's
# half of every handshake (versions, ciphers, certificate), and says which checks that prevents.
set -uo pipefail
source "$(dirname "$0")/../e2e/lib.sh"
# testssl's hundreds of handshakes without a certificate are certificate failures; safe-list
# loopback so that they do not end in a block.
SFTS_E2E_EXTRA_CONF=$'[abuse]\nsafe_list = 127.0.0.1'
e2e_init
start_server || exit 1
who() { [[ $1 == "$file_port" ]] && echo "file service" || echo "enrollment"; }

# testssl's own timeouts bound each TCP connect and each openssl call: generous (60 s), since on
# a busy machine a starved openssl that is cut off early reads as a server that did not answer,
# and its fallbacks and retries then cost more than the wait. The scan is what the checks below
# judge (-p protocols, -E ciphers per protocol, -S for tickets and resumption, -U the
# vulnerabilities); it is CPU-bound bash (about 25 s of CPU for both ports on an idle machine,
# many minutes of wall time at load 8+), so its bound (and the CTest TIMEOUT) is generous too,
# and an interrupted scan fails with that said.
testssl_run() {  # testssl_run PORT JSON
  local started=$SECONDS
  timeout 1500 testssl --quiet --color 0 --warnings off --openssl /usr/bin/openssl --openssl-timeout 60 \
    --connect-timeout 60 --ip one -p -E -U -S --jsonfile "$2" "127.0.0.1:$1" > "$2.txt" 2>&1
  echo "testssl on $(who "$1"): exit $?, $((SECONDS - started)) s, load $(cut -d' ' -f1-3 /proc/loadavg)"
}
# Vulnerability checks of -U (testssl 3.0.8 ids): none may be MEDIUM, HIGH or CRITICAL.
vulns='["heartbleed","CCS","ticketbleed","ROBOT","secure_renego","secure_client_renego","CRIME_TLS","BREACH",
  "POODLE_SSL","fallback_SCSV","SWEET32","FREAK","DROWN","DROWN_hint","LOGJAM","LOGJAM-common_primes","BEAST",
  "BEAST_CBC_TLS1","BEAST_CBC_TLS1_1","LUCKY13","RC4","winshock"]'
testssl_verdict() {  # testssl_verdict PORT JSON
  local w; w=$(who "$1")
  check "testssl $w: SSLv2, SSLv3, TLS 1.0, TLS 1.1 not offered" \
    jq -e '[.[] | select(.id == ("SSLv2","SSLv3","TLS1","TLS1_1"))] | length == 4 and all(.finding | test("^not offered"))' "$2"
  check "testssl $w: TLS 1.2 and TLS 1.3 offered" \
    jq -e '[.[] | select(.id == ("TLS1_2","TLS1_3"))] | length == 2 and all(.finding | test("^offered"))' "$2"
  check "testssl $w: it found ciphers for both versions" \
    jq -e '([.[] | select(.id | test("^cipher-tls1_2_"))] | length >= 2) and ([.[] | select(.id | test("^cipher-tls1_3_"))] | length >= 1)' "$2"
  check "testssl $w: every cipher found is ECDHE with AES-GCM" \
    jq -e '[.[] | select(.id | test("^cipher-(tls|ssl)"))] | all(.finding | test("ECDH[E]? [0-9]+ +AESGCM"))' "$2"
  check "testssl $w: no session tickets, no resumption" \
    jq -e '[.[] | select(.id == "TLS_session_ticket" and (.finding | test("^no"))), select(.id == "sessionresumption_ticket" and (.finding | test("not supported"))), select(.id == "sessionresumption_ID" and (.finding | test("no resumption")))] | length == 3' "$2"
  check "testssl $w: no vulnerability finding MEDIUM, HIGH or CRITICAL" \
    jq -e --argjson v "$vulns" '[.[] | select(.id as $i | $v | index($i)) | select(.severity == ("MEDIUM","HIGH","CRITICAL"))] | length == 0' "$2"
  check "testssl $w: the vulnerability checks ran" \
    jq -e --argjson v "$vulns" '[.[] | select(.id as $i | $v | index($i))] | length >= 12' "$2"
  echo "testssl $w: findings above INFO/OK (any section):"
  jq -r '.[] | select(.severity == ("LOW","MEDIUM","HIGH","CRITICAL","WARN")) | "    \(.severity) \(.id): \(.finding)"' "$2"
  echo "testssl $w: ciphers: $(jq -r '[.[] | select(.id | test("^cipher-tls")) | .finding | split(" ") | map(select(length > 0)) | .[2]] | join(" ")' "$2")"
}

testssl_run "$file_port" "$work/testssl-file.json" &
one=$!
testssl_run "$enroll_port" "$work/testssl-enroll.json" &
wait "$one" $!  # not a bare wait: the server is a background job too
for p in "$file_port" "$enroll_port"; do
  json=$work/testssl-$( [[ $p == "$file_port" ]] && echo file || echo enroll ).json
  check "testssl $(who "$p"): JSON written" test -s "$json"
  check "testssl $(who "$p"): the scan completed (not interrupted)" bash -c "! grep -q 'Scan interrupted' '$json.txt' && jq -e '[.[] | select(.id == \"scanTime\")] | length == 1' '$json'"
  testssl_verdict "$p" "$json"
done
check "the server is still up" kill -0 "$server_pid"
check "no internal error in the server log" bash -c "! grep -q 'internal error' '$work/server/log'"
finish
