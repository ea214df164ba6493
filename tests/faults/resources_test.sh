#!/usr/bin/env bash
# Proof under failure (2/4): resources the server depends on fail under it. A file-size limit
# (RLIMIT_FSIZE) and a full filesystem (a 24 MiB tmpfs), a database locked by another process,
# an unwritable database, an unwritable storage directory. Each: a clear error to the client,
# nothing stored, nothing corrupted, other users served, and service back once the fault clears,
# without a restart (except where the fault itself needs one: a limit set at start, a mount).
# Exit codes: 11 limit_exceeded, 14 unavailable.
#
# Needs root (chattr +i, mount): it runs in a private mount namespace, so that nothing it
# mounts outlives it. In a chroot, whose / is no mount point, a private namespace cannot be
# made ("cannot change root filesystem propagation"); there the test mounts in place and its
# cleanup unmounts. Without root it fails; it never skips.
set -uo pipefail
if [[ -z ${SFTS_FAULTS_NS:-} ]]; then
  if unshare --mount --propagation private true 2>/dev/null; then
    SFTS_FAULTS_NS=1 exec unshare --mount --propagation private "$0" "$@"
  fi
  echo "note: no private mount namespace here (chroot?): mounting in place, unmounted at exit"
fi
here=$(dirname "$0")
source "$here/../e2e/lib.sh"
source "$here/faults_lib.sh"
SFTS_E2E_EXTRA_CONF=$'[limits]\nquota_mib = 1024'
faults_init

head -c 1000 /dev/urandom > "$work/small.bin"
head -c $((48 * 1024 * 1024)) /dev/urandom > "$work/48m.bin"
head -c $((16 * 1024 * 1024)) /dev/urandom > "$work/16m.bin"
head -c $((4 * 1024 * 1024)) /dev/urandom > "$work/4m.bin"
mkdir -p "$work/dl"
check "alice uploads a file to download later" as alice put "$work/small.bin" --as keep.bin

# served USER TAG: USER can upload a new small file and download it again, right now.
served() {
  as "$1" put "$work/small.bin" --as "$2" >/dev/null && as "$1" get "$2" -o "$work/dl" >/dev/null &&
    same_sha "$work/small.bin" "$work/dl/$2"
}

# --- 1. a file-size limit (RLIMIT_FSIZE): SIGXFSZ is ignored, so the write fails with EFBIG
sftsd_wrapper=(prlimit --fsize=$((32 * 1024 * 1024)) --)
check "restart under a 32 MiB file-size limit" restart_server
sftsd_wrapper=()
check "the limit is in force in sftsd" grep -qE "^Max file size +33554432 " "/proc/$server_pid/limits"
usage_before=$(usage alice)
expect_exit "an upload past the limit: clear error, exit 11" 11 "storage full" as alice put "$work/48m.bin"
check "the server survived the file-size limit" server_alive
check "no temporary file left (limit)" no_temps
check "nothing stored (limit)" test ! -e "$files/48m.bin"
check "not listed (limit)" not listed alice 48m.bin
check "usage unchanged (limit)" test "$(usage alice)" = "$usage_before"
check "another user is served under the limit" served bob b1.bin
check "a file under the limit is accepted" as alice put "$work/4m.bin"
check "database integrity (limit)" db_ok
check "restart without the limit" restart_server

# --- 2. the database is locked by another process (sqlite3 holding BEGIN EXCLUSIVE)
# hold_lock: sqlite3 takes the write lock (waiting up to 10 s for a write the server may have in
# flight), says so, and keeps it until release_lock: no clock decides how long.
hold_lock() {
  rm -f "$work/lock.fifo" "$work/lock.out"; mkfifo "$work/lock.fifo"
  (printf '.bail on\n.timeout 10000\nBEGIN EXCLUSIVE;\nSELECT '"'locked'"';\n'; read -r _ < "$work/lock.fifo"; printf 'COMMIT;\n') |
    sqlite3 "$db" > "$work/lock.out" 2>&1 &
  lock_pid=$!
  wait_until 120 grep -qx locked "$work/lock.out"
}
release_lock() { echo commit > "$work/lock.fifo"; wait "$lock_pid"; }
usage_before=$(usage alice)
check "sqlite3 holds the lock" hold_lock
# The upload renames its file into place, then waits for the lock to write its record: the
# lock is released once the file is there, well inside the busy timeout (5 s).
as alice put "$work/small.bin" --as during-lock.bin > "$work/put.out" 2>&1 &
put_pid=$!
check "the upload's file is in place, its record waits for the lock" \
  wait_until 120 bash -c "[[ -e '$files/during-lock.bin' ]] || ! kill -0 $put_pid 2>/dev/null"
check "the upload is still waiting for the lock" kill -0 "$put_pid"
release_lock
wait "$put_pid"; put_rc=$?
check "an upload waits out a short lock (busy timeout) and succeeds (exit $put_rc)" test "$put_rc" -eq 0
check "the upload is listed" listed alice during-lock.bin
usage_before=$(usage alice)
check "sqlite3 holds the lock (until released)" hold_lock
t0=$SECONDS
expect_exit "an upload during a long lock: clear error, exit 14" 14 "locked by another process" \
  as alice put "$work/small.bin" --as locked.bin
# The busy timeout is 5 s: the upload waited that long (the lower bound is strict), and its
# wait ended although the lock was never released (the upper bound only needs to be finite).
check "the wait is the busy timeout: >= 4 s, bounded" test $((SECONDS - t0)) -ge 4 -a $((SECONDS - t0)) -lt 90
check "listing works while the database is locked" listed alice keep.bin
check "downloads work while the database is locked" as alice get keep.bin -o "$work/dl"
release_lock
check "nothing stored during the lock" test ! -e "$files/locked.bin"
check "no temporary file left (lock)" no_temps
check "usage unchanged (lock)" test "$(usage alice)" = "$usage_before"
check "service resumes when the lock is released" served alice after-lock.bin
check "database integrity (lock)" db_ok

# --- 3. the database cannot be written (chattr +i: root is refused too)
usage_before=$(usage alice)
check "make the database immutable" chattr +i "$db" "$db-wal"
expect_exit "an upload with an unwritable database: clear error" 14 "database" \
  as alice put "$work/small.bin" --as ro-db.bin
check "login and listing still work (database read-only)" listed alice keep.bin
check "downloads still work (database read-only)" as alice get keep.bin -o "$work/dl" --overwrite
check "nothing stored (database read-only)" test ! -e "$files/ro-db.bin"
check "no temporary file left (database read-only)" no_temps
check "the server survived the read-only database" server_alive
check "make the database writable again" chattr -i "$db" "$db-wal"
check "service resumes without a restart (database)" served alice after-ro-db.bin
check "usage counts only the new upload" test "$(usage alice)" = "$(($(cut -d' ' -f1 <<<"$usage_before") + 1)) $(($(cut -d' ' -f2 <<<"$usage_before") + 1000))"
check "database integrity (database read-only)" db_ok

# --- 4. the storage directory cannot be written
usage_before=$(usage alice)
check "make the storage directory immutable" chattr +i "$files"
expect_exit "an upload into unwritable storage: clear error, exit 14" 14 "storage not writable" \
  as alice put "$work/small.bin" --as ro-store.bin
check "downloads still work (storage read-only)" as alice get keep.bin -o "$work/dl" --overwrite
check "listing still works (storage read-only)" listed bob keep.bin
check "the server survived the read-only storage" server_alive
check "make the storage directory writable again" chattr -i "$files"
check "nothing stored (storage read-only)" not listed alice ro-store.bin
check "usage unchanged (storage read-only)" test "$(usage alice)" = "$usage_before"
check "service resumes without a restart (storage)" served alice after-ro-store.bin

# --- 5. a full filesystem: the storage directory on a 24 MiB tmpfs (holding 4 MiB already)
stop_server
mkdir -p "$work/stash" && cp -a "$files/." "$work/stash/"
find "$files" -mindepth 1 -delete
check "mount a 24 MiB tmpfs as the storage directory" mount -t tmpfs -o size=24m,mode=0700 sfts-faults "$files"
cp -a "$work/stash/." "$files/"
check "start on the small filesystem" restart_server
check "16 MiB fit" as alice put "$work/16m.bin" --as first16.bin
usage_before=$(usage alice)
expect_exit "16 MiB more do not: clear error, exit 11" 11 "space" as alice put "$work/16m.bin" --as second16.bin
check "no temporary file left (full)" no_temps
check "nothing stored (full)" not listed alice second16.bin
check "usage unchanged (full)" test "$(usage alice)" = "$usage_before"
check "another user is served on the full disk" served bob b2.bin
check "the first file downloads intact" as alice get first16.bin -o "$work/dl"
check "identical sha256 (full)" same_sha "$work/16m.bin" "$work/dl/first16.bin"
check "the server survived the full disk" server_alive
check "database integrity at the end" db_ok
check "audit chain verifies at the end" audit_ok
stop_server
umount "$files"

finish
