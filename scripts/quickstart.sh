#!/usr/bin/env bash
# The main job on embedded defaults: a SoftHSM2 token for the server, the server PKI made
# inside it (CA and TLS keys never leave the token), certificates, CRL and registry in a local
# state directory. Safe to run again: an existing demo is shown, not replaced.
#
#   scripts/quickstart.sh [--no-setup] [--build-dir DIR] [--demo-dir DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
setup=1
build_dir=${SFTS_BUILD_DIR:-$root/build}
demo=${SFTS_DEMO_DIR:-$root/demo}
while (($#)); do
  case $1 in
    --no-setup) setup=0 ;;
    --build-dir) build_dir=$2; shift ;;
    --demo-dir) demo=$2; shift ;;
    *) echo "quickstart: unknown argument $1" >&2; exit 1 ;;
  esac
  shift
done

if ((setup)); then
  "$root/scripts/setup.sh"
  SFTS_BUILD_DIR=$build_dir "$root/scripts/build.sh"
fi
admin=$build_dir/server/sfts-admin
[[ -x $admin ]] || { echo "quickstart: $admin not built (run without --no-setup)" >&2; exit 1; }

umask 077
mkdir -p "$demo/tokens" "$demo/secrets" "$demo/state"
demo=$(cd "$demo" && pwd)
export SOFTHSM2_CONF=$demo/softhsm2.conf
if [[ ! -f $SOFTHSM2_CONF ]]; then
  printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n' \
    "$demo/tokens" > "$SOFTHSM2_CONF"
fi
# Random PINs in owner-only files: never on a command line, never in the environment.
for f in so-pin pin; do
  [[ -s $demo/secrets/$f ]] || head -c 18 /dev/urandom | base64 | tr -d '\n/+=' > "$demo/secrets/$f"
done
config=$demo/sftsd.conf
if [[ ! -f $config ]]; then
  cat > "$config" <<CONF
[paths]
state_dir = $demo/state

[hsm]
module = /usr/lib/softhsm/libsofthsm2.so
token = pkcs11:token=sfts-server
pin = file:$demo/secrets/pin
CONF
fi

if ! "$admin" --config "$config" token list | grep -q "'sfts-server'"; then
  "$admin" --config "$config" token init --label sfts-server \
    --so-pin "file:$demo/secrets/so-pin" --pin "file:$demo/secrets/pin"
fi
if [[ -f $demo/state/ca.crt ]]; then
  echo "server PKI already initialised in $demo (remove that directory to start over)"
else
  "$admin" --config "$config" init
fi
echo
echo "== independent check with the openssl CLI"
openssl verify -purpose sslserver -verify_ip 127.0.0.1 -CAfile "$demo/state/ca.crt" "$demo/state/server.crt"
openssl crl -noout -CAfile "$demo/state/ca.crt" -in "$demo/state/crl.pem" 2>&1

# ---- the server, up on loopback
sftsd=$build_dir/server/sftsd
sfts=$build_dir/client-tui/sfts
[[ -s $demo/secrets/site-secret ]] || head -c 18 /dev/urandom | base64 | tr -d '\n/+=' > "$demo/secrets/site-secret"
if ! grep -q '^\[server\]' "$config"; then
  cat >> "$config" <<CONF

[server]
listen = 127.0.0.1
file_port = ${SFTS_FILE_PORT:-8443}
enroll_port = ${SFTS_ENROLL_PORT:-8444}
ports_file = $demo/state/ports

[auth]
site_secret = file:$demo/secrets/site-secret

[log]
file = $demo/sftsd.log
CONF
fi
rm -f "$demo/state/ports"
"$sftsd" --config="$config" &
server_pid=$!
# At exit the demo server is stopped; sftsd exits 0 on SIGTERM, so any other status is a
# failure worth naming (69: its token became unusable while it ran), not a silent one.
stop_sftsd() {
  local rc=0
  kill "$server_pid" 2>/dev/null || return 0
  wait "$server_pid" 2>/dev/null || rc=$?
  if ((rc != 0)); then
    echo "quickstart: sftsd exited with status $rc when stopped; see $demo/sftsd.log:" >&2
    tail -5 "$demo/sftsd.log" >&2
    exit "$rc"
  fi
}
trap stop_sftsd EXIT
# Until it has written its ports file (both ports listen): bounded generously, as a busy
# machine (or a sanitizer build) can take many seconds to start.
started=$SECONDS
until [[ -s $demo/state/ports ]]; do
  kill -0 $server_pid 2>/dev/null || { echo "sftsd did not start; see $demo/sftsd.log" >&2; tail -5 "$demo/sftsd.log" >&2; exit 1; }
  ((SECONDS - started < 120)) || { echo "sftsd did not listen within 120 s; see $demo/sftsd.log" >&2; exit 1; }
  sleep 0.1
done
read -r fp ep < "$demo/state/ports"
echo
echo "== sftsd is up: file service on 127.0.0.1:${fp#file=}, enrollment on 127.0.0.1:${ep#enroll=} (log: $demo/sftsd.log)"

# ---- a client with its own token, enrolled
client=$demo/client
mkdir -p "$client/tokens"
if [[ ! -f $client/softhsm2.conf ]]; then
  printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$client/tokens" > "$client/softhsm2.conf"
  head -c 18 /dev/urandom | base64 | tr -d '\n/+=' > "$client/so-pin"
  head -c 18 /dev/urandom | base64 | tr -d '\n/+=' > "$client/pin"
  printf 'Demo-%s' "$(head -c 12 /dev/urandom | base64 | tr -d '\n/+=')" > "$client/password"
  SOFTHSM2_CONF=$client/softhsm2.conf "$admin" token init --label alice-token \
    --so-pin "file:$client/so-pin" --pin "file:$client/pin"
fi
cat > "$client/sfts.conf" <<CONF
[server]
host = 127.0.0.1
file_port = ${fp#file=}
enroll_port = ${ep#enroll=}
[token]
uri = pkcs11:token=alice-token
pin = file:$client/pin
[user]
name = alice
password = file:$client/password
[paths]
dir = $client/state
CONF
as_alice() { SOFTHSM2_CONF=$client/softhsm2.conf "$sfts" --config "$client/sfts.conf" "$@"; }
if [[ ! -f $client/state/client.crt ]]; then
  echo
  echo "== alice enrolls: key made inside her token, CSR, HMAC challenge-response with the site secret"
  as_alice enroll --secret "file:$demo/secrets/site-secret"
  echo "== first login: alice sets her password (policy-checked); the admin makes her a 'user'"
  as_alice ls --new-password "file:$client/password" >/dev/null
  "$admin" --config "$config" user role alice user
fi

# ---- a real transfer, both ways, verified
echo
echo "== transfer: upload (signed in alice's token), list, download (verified), compare"
name=hello-$(date +%Y%m%d-%H%M%S).bin
head -c $((8 * 1024 * 1024)) /dev/urandom > "$demo/$name"
as_alice put --quiet "$demo/$name"
as_alice ls
mkdir -p "$demo/downloads"
as_alice get --quiet "$name" -o "$demo/downloads"
if cmp -s "$demo/$name" "$demo/downloads/$name"; then
  echo "round trip OK: $name, sha256 $(sha256sum < "$demo/$name" | cut -c1-64)"
else
  echo "round trip FAILED" >&2; exit 1
fi

echo
echo "== certificates issued"
"$admin" --config "$config" cert list
echo
echo "demo directory: $demo"
echo "  server: SOFTHSM2_CONF=$demo/softhsm2.conf $sftsd --config=$config"
echo "  client: SOFTHSM2_CONF=$client/softhsm2.conf $sfts --config $client/sfts.conf ls"
