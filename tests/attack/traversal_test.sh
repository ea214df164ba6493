#!/usr/bin/env bash
# Hostile names against a real sftsd: the corpus of tests/attack/traversal_corpus.txt through
# the protocol, then symlinks, a hardlink, a FIFO and a directory planted in the storage
# directory. Canaries outside the storage directory must never be read (their content never
# reaches the client), written (sha256 and mtime), deleted, and nothing may be created outside.
set -uo pipefail
source "$(dirname "$0")/../e2e/lib.sh"
# Hundreds of logins from one address: loopback is safe-listed (abuse is attack_slow's part).
SFTS_E2E_EXTRA_CONF=$'[abuse]\nsafe_list = 127.0.0.1'
e2e_init
start_server || exit 1
client=$bin/tests/attack/traversal_client
storage=$work/server/state/files

ready_client alice admin  # upload, overwrite, delete

# --- canaries outside the storage directory, with a recognizable content and an old mtime
outside=$work/outside
marker="SFTS-CANARY-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
mkdir -p "$outside/dir"
printf '%s: a file no client may ever read\n' "$marker" > "$outside/canary.txt"
printf '%s: hardlinked into the storage directory, of another size than its decoy\n' "$marker" > "$outside/canary-hard.txt"
printf '%s: inside a directory outside\n' "$marker" > "$outside/dir/secret.txt"
mkfifo "$outside/canary.fifo"
touch -h -d '2020-01-02 03:04:05' "$outside"/canary.txt "$outside"/canary-hard.txt "$outside"/dir/secret.txt "$outside/canary.fifo"
touch -d '2020-01-02 03:04:05' "$outside/dir"
check "the two canaries differ in size" test "$(stat -c %s "$outside/canary.txt")" -ne "$(stat -c %s "$outside/canary-hard.txt")"

# What must not change: every entry outside the storage directory under $work (type, size,
# mtime, inode, content hash), and a few system files a traversal would aim at. (Not the
# SoftHSM2 token directories: SoftHSM2 rewrites its lock and generation files at each login.)
snapshot() {
  find "$work" -path "$storage" -prune -o -path "$work/server/log" -prune -o -path "$work/out" -prune \
    -o -path "$work/server/state" -prune -o -path "$work/alice/state/sfts.log" -prune -o -path "$work/snap" -prune \
    -o -path "$work/server/tokens" -prune -o -path "$work/alice/tokens" -prune -o -printf '%p %y %s %T@ %i\n' | sort
  find "$outside" -type f -exec sha256sum {} + | sort
  find "$work/server/state" -maxdepth 1 -printf '%f\n' | sort
  stat -c '%n %s %Y %i' /etc/passwd /etc/hosts; sha256sum /etc/passwd /etc/hosts
}
: > "$work/out"; mkdir "$work/snap"
snapshot > "$work/snap/before"

start=$(date +%s)
check "corpus: every hostile name refused or stored literally inside" \
  env SOFTHSM2_CONF=$work/alice/softhsm2.conf "$client" corpus "$work/alice/sfts.conf" "$src/tests/attack/traversal_corpus.txt" "$storage" "$marker"
sed -n '/^corpus:/p' "$work/out"
check "planted symlinks, hardlink, FIFO and directory never followed" \
  env SOFTHSM2_CONF=$work/alice/softhsm2.conf "$client" planted "$work/alice/sfts.conf" "$storage" "$outside" "$marker"
sed -n '/^planted:/p' "$work/out"
echo "both drivers: $(($(date +%s) - start)) s"

snapshot > "$work/snap/after"
check "canaries unread, unwritten, undeleted; nothing new outside the storage directory" diff "$work/snap/before" "$work/snap/after"
check "the canary content is still there" grep -q "$marker" "$outside/canary.txt"
# Where an escape would land: above the storage directory up to /, and the absolute targets.
check "no file named like a probe outside the storage directory" \
  bash -c "[[ -z \$( (find / /etc /var/tmp /root -maxdepth 1; find /tmp -maxdepth 2; find '$work' -path '$storage' -prune -o -print) 2>/dev/null | grep sfts-escape-probe) ]]"
check "the server is still up" kill -0 "$server_pid"
check "no internal error in the server log" bash -c "! grep -q 'internal error' '$work/server/log'"
check "no canary content in the server log" bash -c "! grep -q '$marker' '$work/server/log'"
check "the audit trail still verifies" admin audit verify
check "the real client still works" as alice ls

# --- a symlinked storage directory is refused at start (FileStore opens it O_NOFOLLOW)
stop_server
ln -s "$outside/dir" "$work/storage-link"
sed "s#^state_dir = .*#&\nstorage_dir = $work/storage-link#; s#^ports_file = .*#ports_file = $work/ports2#" \
  "$work/server/sftsd.conf" > "$work/server/symlinked.conf"
SOFTHSM2_CONF=$work/server/softhsm2.conf timeout 120 "$sftsd_bin" --config="$work/server/symlinked.conf" > "$work/symlinked.log" 2>&1
rc=$?
check "sftsd refuses a symlinked storage directory (exit $rc)" bash -c "[[ $rc -ne 0 && $rc -ne 124 ]] && grep -q 'symbolic link' '$work/symlinked.log' || { cat '$work/symlinked.log'; false; }"
check "it never listened" test ! -e "$work/ports2"
check "and wrote nothing through the link" bash -c "[[ \$(ls -A '$outside/dir') == secret.txt ]]"

finish
