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
echo
echo "== certificates issued"
"$admin" --config "$config" cert list
echo
echo "demo directory: $demo (configuration: $config; SOFTHSM2_CONF=$SOFTHSM2_CONF)"
