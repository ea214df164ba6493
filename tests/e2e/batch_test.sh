#!/usr/bin/env bash
# Batch uploads end to end (docs/protocol.md 4.4.1): `sfts put` of many small files goes as
# batches; every file round-trips; every file is verifiable on its own with independent tools
# (sqlite3 for the stored manifest and signature, openssl for RSA-PSS, sha256sum for the data);
# hostile batches (batch_attack) are refused and leave nothing behind; RBAC applies.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
SFTS_E2E_EXTRA_CONF=$'[abuse]\nsafe_list = 127.0.0.1\n[limits]\nquota_mib = 8\nquota_files = 3000'
e2e_init
start_server || exit 1
db=$work/server/state/sfts.db
files=$work/server/state/files

ready_client alice

# --- RBAC: registered may not upload, so a batch is refused like single uploads
mkdir -p "$work/src"
for i in $(seq -w 0 199); do head -c 4096 /dev/urandom > "$work/src/f$i"; done
expect_exit "registered may not put a batch" 5 "may not upload" as alice put "$work/src/f000" "$work/src/f001"
check "nothing stored for a refused role" bash -c "[[ -z \$(ls -A '$files') ]]"
check "admin grants role user" admin user role alice user

# --- a batch round-trips
as alice put "$work/src"/f* > "$work/put.out" 2>&1; put_rc=$?
check "put 200 files" test "$put_rc" -eq 0
check "one receipt line per file" bash -c "grep -c '^uploaded f[0-9]* (4096 bytes, sha256 [0-9a-f]*, receipt verified)' '$work/put.out' | grep -qx 200"
check "the server log shows one batch" grep -q "batch by user 'alice'.*: 200 files, 819200 bytes, stored" "$work/server/log"
mkdir -p "$work/back"
check "get them back" as alice get -o "$work/back" $(cd "$work/src" && ls)
check "identical sha256 for every file" bash -c "cd '$work/src' && sha256sum f* > '$work/sums' && cd '$work/back' && sha256sum -c --quiet '$work/sums'"
check "one batches row" bash -c "[[ \$(sqlite3 '$db' 'SELECT COUNT(*) FROM batches') == 1 ]]"
check "every file points at it" bash -c "[[ \$(sqlite3 '$db' 'SELECT COUNT(*) FROM files WHERE batch_id = 1') == 200 ]]"
check "one audit record per file" bash -c "[[ \$(grep -c '\"event\":\"batch_file\"' '$work/server/state/audit.jsonl') == 200 ]]"

# --- every file verifiable on its own, by tools that share no code with sfts
openssl x509 -in "$work/alice/state/client.crt" -pubkey -noout > "$work/alice.pub"
verify_file() {  # verify_file NAME: the stored manifest's signature and the file's entry in it
  local name=$1 id
  id=$(sqlite3 "$db" "SELECT batch_id FROM files WHERE name = '$name'") || return 1
  sqlite3 "$db" "SELECT hex(record) FROM batches WHERE id = $id" | xxd -r -p > "$work/record" || return 1
  sqlite3 "$db" "SELECT hex(signature) FROM batches WHERE id = $id" | xxd -r -p > "$work/sig" || return 1
  openssl dgst -sha256 -verify "$work/alice.pub" -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 \
    -signature "$work/sig" "$work/record" >/dev/null || { echo "signature of batch $id does not verify"; return 1; }
  # lp(name) || u64 size || lp(sha256), spelled from the file itself
  local size sha want
  size=$(stat -c %s "$files/$name"); sha=$(sha256sum "$files/$name" | cut -c1-64)
  want=$(printf '%08x' ${#name})$(printf '%s' "$name" | xxd -p | tr -d '\n')$(printf '%016x' "$size")00000020$sha
  xxd -p "$work/record" | tr -d '\n' | grep -q "$want" || { echo "$name: its size and sha256 are not in the manifest"; return 1; }
  # and the domain and user the manifest starts with
  [[ $(head -c 17 "$work/record" | tail -c 13) == sfts-batch-v1 ]] || { echo "not an sfts-batch-v1 record"; return 1; }
}
all_verify() { for n in $(cd "$work/src" && ls); do verify_file "$n" || return 1; done; }
check "every batch-uploaded file verifies on its own (sqlite3 + openssl + sha256sum)" all_verify
tamper() {  # the oracle itself can fail: a changed byte in the stored file is caught
  flip_byte "$files/f000" 10 && ! verify_file f000
}
check "the oracle catches a tampered file" tamper

# --- overwrite needs the overwrite permission, in a batch too
expect_exit "role user may not overwrite in a batch" 5 "may not overwrite" as alice put --overwrite "$work/src/f000" "$work/src/f001"
# existing names without --overwrite: the batch is refused, then each file is tried alone
# and gets its own line and exit status, as before batches
head -c 100 /dev/urandom > "$work/new1"; head -c 100 /dev/urandom > "$work/new2"
expect_exit "existing name in a batch: per-file outcome" 4 "f001: already_exists" as alice put "$work/src/f001" "$work/new1" "$work/new2"
check "the new files of that call are stored" bash -c "[[ -f '$files/new1' && -f '$files/new2' ]]"

# --- hostile batches through the raw client
rows_before=$(sqlite3 "$db" 'SELECT COUNT(*) FROM files')
batches_before=$(sqlite3 "$db" 'SELECT COUNT(*) FROM batches')
check "hostile batches are refused" env SOFTHSM2_CONF="$work/alice/softhsm2.conf" "$bin/tests/e2e/batch_attack" \
  "$work/alice/sfts.conf" f005 $((8 << 20))
cat "$work/out" | grep -E "^(ok|FAIL)" | sed 's/^/    /'
# the dropped connection's session ends on the server, which then removes its staging directory
check "no temporary left" wait_for 120 bash -c "! ls -A '$files' | grep -q '^\.sfts-'"
check "no hostile file stored" bash -c "! ls -A '$files' | grep -q '^evil-'"
check "no hostile row" bash -c "[[ \$(sqlite3 '$db' \"SELECT COUNT(*) FROM files WHERE name LIKE 'evil-%'\") == 0 ]]"
check "no new file rows" bash -c "[[ \$(sqlite3 '$db' 'SELECT COUNT(*) FROM files') == $rows_before ]]"
check "no new batch rows" bash -c "[[ \$(sqlite3 '$db' 'SELECT COUNT(*) FROM batches') == $batches_before ]]"
check "the clashing batch left f005 as it was" cmp "$work/src/f005" "$files/f005"
check "the server still serves" as alice ls

# --- a crash before commit leaves nothing after restart
mkdir -p "$files/.sfts-tmp-batch-0123456789abcdef0123456789abcdef"
printf 'x' > "$files/.sfts-tmp-batch-0123456789abcdef0123456789abcdef/f0"
stop_server
start_server || exit 1
sed -i "s/^file_port = .*/file_port = $file_port/; s/^enroll_port = .*/enroll_port = $enroll_port/" "$work"/*/sfts.conf
check "a dead batch's staging directory is removed at start" bash -c "! ls -A '$files' | grep -q '^\.sfts-'"
check "the server serves after the restart" as alice ls

finish
