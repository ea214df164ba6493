# Shared by the fault tests: on top of tests/e2e/lib.sh (source that first), helpers to look at
# the server's state from outside while faults are injected.

db=  # the server's SQLite database, set by faults_init
files=  # the storage directory

# faults_cleanup: e2e_cleanup, after lifting chattr +i (or the directory could not be removed)
# and keeping the whole server log in $SFTS_FAULTS_LOG if that is set.
faults_cleanup() {
  chattr -i "$files" "$db" "$db-wal" 2>/dev/null
  # without a private mount namespace (a chroot), a tmpfs the test mounted must not outlive it
  mountpoint -q "$files" 2>/dev/null && umount -l "$files"
  [[ -n ${SFTS_FAULTS_LOG:-} && -f $work/server/log ]] && cp "$work/server/log" "$SFTS_FAULTS_LOG"
  e2e_cleanup
}

# faults_init: e2e_init, a server, and two enrolled users with role user: alice and bob.
faults_init() {
  e2e_init
  trap faults_cleanup EXIT
  db=$work/server/state/sfts.db
  files=$work/server/state/files
  start_server || exit 1
  local before=$fail
  ready_client alice user
  ready_client bob user
  ((fail == before)) || { echo "faults_init: the users could not be set up"; exit 1; }
}

# restart_server: start again (new kernel-chosen ports) and point every client at them.
restart_server() {
  stop_server
  start_server || return 1
  sed -i "s/^file_port = .*/file_port = $file_port/; s/^enroll_port = .*/enroll_port = $enroll_port/" "$work"/*/sfts.conf
}

# kill9_server: SIGKILL, no chance to clean up.
kill9_server() {
  kill -KILL "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; server_pid=
}

server_alive() { [[ -n ${server_pid:-} ]] && kill -0 "$server_pid" 2>/dev/null; }

# usage USER: "files bytes" of USER according to the database (what quotas are computed from).
usage() { sqlite3 "$db" "SELECT count(*) || ' ' || coalesce(sum(size), 0) FROM files WHERE uploader = '$1'"; }

db_ok() { [[ $(sqlite3 "$db" 'PRAGMA integrity_check') == ok ]]; }
audit_ok() { admin audit verify >/dev/null; }

# temps: our temporary files in the storage directory, one a line.
temps() { find "$files" -maxdepth 1 -name '.sfts-tmp-*' -printf '%f %s\n'; }
no_temps() { [[ -z $(temps) ]]; }

# written PID: bytes PID has written with write(2) and friends so far (/proc/PID/io wchar).
written() { awk '/^wchar:/ {print $2}' "/proc/$1/io" 2>/dev/null || echo 0; }

# wait_until SECONDS COMMAND...: polls COMMAND every 20 ms; fails after SECONDS.
wait_until() {
  local end=$((SECONDS + $1)); shift
  until "$@"; do
    ((SECONDS < end)) || return 1
    sleep 0.02
  done
}

# listed USER NAME: the server's listing (through the protocol) shows NAME.
listed() { as "$1" ls 2>/dev/null | awk '{print $NF}' | grep -qxF -- "$2"; }

# as_exec NAME sfts-args...: like as, but the client replaces the shell, so that
# "(as_exec ...) &" leaves the client's own PID in $! for kill -KILL.
as_exec() { local n=$1; shift; SOFTHSM2_CONF=$work/$n/softhsm2.conf exec "$sfts_bin" --config "$work/$n/sfts.conf" --quiet "$@"; }

not() { ! "$@"; }

same_sha() { [[ $(sha256sum < "$1") == $(sha256sum < "$2") ]]; }
