#!/usr/bin/env bash
# sftsd started the way systemd starts it: NOTIFY_SOCKET (a test listener), CREDENTIALS_DIRECTORY
# with the token PIN and the site secret, WATCHDOG_USEC. READY=1 only once both ports accept;
# SIGHUP and a rewritten CRL take effect without dropping sessions; SIGTERM says STOPPING=1,
# lets (or, past the grace period, stops) running uploads end whole or not at all, and exits 0.
set -uo pipefail
source "$SFTS_SOURCE_DIR/tests/e2e/lib.sh"
SFTS_E2E_EXTRA_CONF=$'[abuse]\nsafe_list = 127.0.0.1'
e2e_init
conf=$work/server/sftsd.conf
mkdir -m 700 "$work/creds"
cp "$work/server/pin" "$work/creds/token-pin"
cp "$work/server/site-secret" "$work/creds/site-secret"
chmod 400 "$work/creds/"*
sed -i "s#^pin = file:.*#pin = credential:token-pin#; s#^site_secret = file:.*#site_secret = credential:site-secret#" "$conf"

# sfts-admin reads the same configuration, so it gets the credentials too (under systemd:
# systemd-run --pipe -p User=sftsd -p LoadCredential=token-pin:/etc/sftsd/token-pin sfts-admin ...).
admin() { CREDENTIALS_DIRECTORY=$work/creds SOFTHSM2_CONF=$work/server/softhsm2.conf "$admin_bin" --config "$conf" "$@"; }

"$bin/tests/ops/notify_listen" "$work/notify" > "$work/notify.log" &
notify_pid=$!
trap 'kill "$notify_pid" 2>/dev/null; e2e_cleanup' EXIT

start_daemon() {
  : > "$work/notify.log"
  rm -f "$work/server/ports"
  NOTIFY_SOCKET=$work/notify CREDENTIALS_DIRECTORY=$work/creds WATCHDOG_USEC=1000000 \
    SOFTHSM2_CONF=$work/server/softhsm2.conf "$sftsd_bin" --config="$conf" >>"$work/server/log" 2>&1 &
  server_pid=$!
  local end=$((SECONDS + 120))
  until grep -q 'READY=1' "$work/notify.log"; do
    kill -0 "$server_pid" 2>/dev/null || { echo "sftsd died:"; tail -20 "$work/server/log"; return 1; }
    ((SECONDS < end)) || { echo "no READY=1 in 120 s"; tail -20 "$work/server/log"; return 1; }
    sleep 0.1
  done
  # Right after READY=1 both ports must accept.
  read -r f e < "$work/server/ports"
  file_port=${f#file=}; enroll_port=${e#enroll=}
  check "READY=1 sent" grep -q 'READY=1' "$work/notify.log"
  check "file port accepts at READY" bash -c "exec 3<>/dev/tcp/127.0.0.1/$file_port"
  check "enrollment port accepts at READY" bash -c "exec 3<>/dev/tcp/127.0.0.1/$enroll_port"
  sed -i "s/^file_port = .*/file_port = $file_port/; s/^enroll_port = .*/enroll_port = $enroll_port/" "$work"/*/sfts.conf 2>/dev/null || true
}

# stop_daemon: SIGTERM, exit status 0, STOPPING=1 seen
stop_daemon() {
  kill -TERM "$server_pid"
  wait "$server_pid"
  local rc=$?
  server_pid=
  check "sftsd exits 0 on SIGTERM" test "$rc" -eq 0
  check "STOPPING=1 sent" grep -q 'STOPPING=1' "$work/notify.log"
}

# no_partial NAME FILE: in the storage directory no temporary is left, and FILE is whole or absent
no_partial() {
  check "$1: no temporary file left" bash -c "! find '$work/server/state/files' -name '.sfts-tmp-*' | grep -q ."
  local stored
  stored=$(find "$work/server/state/files" -name "$(basename "$2")" -type f | head -1)
  if [[ -n $stored ]]; then
    check "$1: stored file is whole" test "$(sha256sum < "$stored")" = "$(sha256sum < "$2")"
  else
    pass=$((pass + 1)); echo "$1: upload was stopped, nothing stored"
  fi
}

# upload_started PID: the server has a temporary file with data of an upload (or the client PID
# is already done, which the checks after it judge).
upload_started() {
  [[ -n $(find "$work/server/state/files" -name '.sfts-tmp-*' -size +0 2>/dev/null) ]] || ! kill -0 "$1" 2>/dev/null
}

# others_block_stop_signals: every thread but the main one blocks SIGTERM, SIGINT and SIGQUIT
# (SigBlk bits 14, 1, 2). The main thread takes them with sigwait (which unblocks them while it
# waits); a worker that did not block SIGTERM could take the graceful stop's signal with its
# default action, and sftsd died with status 143 instead of stopping (seen in quickstart runs).
others_block_stop_signals() {
  local t m n=0 bad=0
  for t in /proc/"$server_pid"/task/*; do
    [[ ${t##*/} == "$server_pid" ]] && continue
    m=$(awk '/^SigBlk:/ {print $2}' "$t/status")
    n=$((n + 1))
    (( (0x$m & 0x4006) == 0x4006 )) || { bad=$((bad + 1)); echo "thread ${t##*/}: SigBlk $m lets SIGTERM/SIGINT/SIGQUIT in"; }
  done
  echo "$n worker threads, $bad of them let a stop signal in"; ((n > 0 && bad == 0))
}

start_daemon || exit 1
check "every worker thread blocks SIGTERM, SIGINT, SIGQUIT (only the main thread takes them)" others_block_stop_signals
check "PIN and site secret came from the credentials" grep -q 'listening' "$work/server/log"
check "watchdog pings (WATCHDOG_USEC set)" wait_for 120 grep -q 'WATCHDOG=1' "$work/notify.log"

make_client alice
make_client bob
check "enroll alice (site secret from the credential)" as alice enroll --secret "file:$work/server/site-secret"
check "enroll bob" as bob enroll --secret "file:$work/server/site-secret"
check "alice sets her password" as alice ls --new-password "file:$work/alice/password"
check "bob sets his password" as bob ls --new-password "file:$work/bob/password"
check "bob may upload" admin user role bob user

# --- revocation reaches the running server: sfts-admin rewrites crl.pem, sftsd watches it
serial=$(openssl x509 -noout -serial -in "$work/alice/state/client.crt" | cut -d= -f2)
check "revoke alice" admin cert revoke "$serial"
check "the server reloaded the CRL" wait_for 120 grep -q 'CRL .* changed: reloaded' "$work/server/log"
check "alice refused at once (no restart)" bash -c "! SOFTHSM2_CONF=$work/alice/softhsm2.conf $sfts_bin --config $work/alice/sfts.conf --quiet ls"
check "refused as revoked" grep -q "certificate revoked" "$work/server/log"
check "bob still served" as bob ls

# --- SIGHUP: reload without dropping the server; a bad file keeps the old settings
n=$(log_count 'reloaded on SIGHUP: CRL, password blocklist')
kill -HUP "$server_pid"
check "SIGHUP reloads" wait_for 120 log_grew 'reloaded on SIGHUP: CRL, password blocklist' "$n"
check "server alive after SIGHUP" kill -0 "$server_pid"
check "bob served after SIGHUP" as bob ls
cp "$conf" "$work/good.conf"
sed -i 's/^level = debug/level = chatty/' "$conf"
kill -HUP "$server_pid"
check "bad configuration on SIGHUP is rejected, naming the option" wait_for 120 grep -q 'reload: configuration rejected.*log.level' "$work/server/log"
check "server alive after a bad reload" kill -0 "$server_pid"
check "bob served after a bad reload" as bob ls
cp "$work/good.conf" "$conf"

# --- SIGTERM during an upload, within the grace period: the upload completes
head -c $((200 * 1024 * 1024)) /dev/urandom > "$work/big1.bin"
as bob put "$work/big1.bin" > "$work/put1.out" 2>&1 &
put_pid=$!
check "the upload is under way before SIGTERM" wait_for 120 upload_started "$put_pid"
stop_daemon
wait "$put_pid"; put_rc=$?
no_partial "SIGTERM with grace" "$work/big1.bin"
echo "upload during graceful stop: client exit $put_rc"

# --- SIGTERM with no grace: the session is closed, nothing partial is left
sed -i 's/^\[server\]$/[server]\nshutdown_grace_s = 0/' "$conf"
start_daemon || exit 1
head -c $((400 * 1024 * 1024)) /dev/urandom > "$work/big2.bin"
as bob put "$work/big2.bin" > "$work/put2.out" 2>&1 &
put_pid=$!
check "the upload is under way before SIGTERM" wait_for 120 upload_started "$put_pid"
stop_daemon
wait "$put_pid"; put_rc=$?
no_partial "SIGTERM without grace" "$work/big2.bin"
echo "upload during abrupt stop: client exit $put_rc"
rm -f "$work/big1.bin" "$work/big2.bin"
finish
