#!/usr/bin/env bash
# An administrator's first day (issue 18, "Done when"): the built .deb installed into a minimal
# Debian 12 root booted with systemd as PID 1 (systemd-nspawn --boot), the "Installing" block of
# docs/operations.md run exactly as printed, then: sftsd active (Type=notify READY) with its
# credentials, the sandbox as shipped (exposure <= 2.0), a client enrolled with a one-time token
# and a verified round trip, systemctl reload re-reading the CRL, the server certificate renewed
# with the client unaffected, a revocation refused, apt-get remove and purge as documented.
#
# nspawn runs here without systemd on the host: --register=no (no machined, no system bus) and
# --keep-unit (no scope unit to ask for); --private-network gives the container its own loopback
# (the shipped configuration's fixed ports 8443/8444 never touch the host's). Commands run inside
# with nsenter into the container's namespaces. The root (debootstrap minbase + systemd + the
# package's dependencies) is cached as a tarball in the build tree, keyed by the dependency list.
set -uo pipefail
source "$SFTS_SOURCE_DIR/tests/e2e/lib.sh"
t0=$SECONDS
for tool in systemd-nspawn:systemd-container debootstrap:debootstrap nsenter:util-linux cpack:cmake; do
  command -v "${tool%%:*}" >/dev/null || { echo "FAIL: ${tool%%:*} missing (Debian package ${tool#*:}; scripts/setup.sh)"; exit 1; }
done
work=$(mktemp -d /tmp/sfts-ops-boot-XXXXXX)
nspawn_pid=
cleanup() {
  if [[ -n $nspawn_pid ]] && kill -0 "$nspawn_pid" 2>/dev/null; then
    kill "$nspawn_pid" 2>/dev/null; sleep 1; kill "$nspawn_pid" 2>/dev/null; kill -9 "$nspawn_pid" 2>/dev/null
    wait "$nspawn_pid" 2>/dev/null
  fi
  if ((fail > 0)); then
    echo "--- console (tail)"; tail -30 "$work/console.log" 2>/dev/null
    echo "--- sftsd log (tail)"; tail -30 "$work/root/var/log/sftsd/sftsd.log" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# ---- the package and the cached root ---------------------------------------------------
cpack --config "$bin/CPackConfig.cmake" -B "$work/pkg" > "$work/cpack.log" 2>&1 || { echo "FAIL: cpack"; tail -20 "$work/cpack.log"; exit 1; }
deb=$(ls "$work"/pkg/sfts_*.deb)
deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/ //g' | grep . | sort -u | paste -sd,)
cache=$bin/ops-boot-cache
key=$(printf '%s faketime' "$deps" | sha256sum | cut -c1-16)
tarball=$cache/bookworm-$key.tar
mkdir -p "$cache"
if [[ ! -s $tarball ]]; then
  echo "building the cached root ($tarball)"
  if ! debootstrap --variant=minbase --include="systemd,systemd-sysv,dbus,softhsm2,openssl,faketime,$deps" bookworm \
      "$work/boot" http://deb.debian.org/debian > "$work/debootstrap.log" 2>&1; then
    echo "FAIL: debootstrap"; tail -20 "$work/debootstrap.log"; exit 1
  fi
  rm -f "$work/boot/var/cache/apt/archives/"*.deb
  tar -C "$work/boot" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
  rm -rf "$work/boot"
fi
root=$work/root
mkdir -p "$root"
tar -C "$root" -xf "$tarball"
cp "$deb" "$root/root/"
echo "root ready: $((SECONDS - t0)) s"

# The "Installing" block of docs/operations.md, exactly as printed: the first ```sh fence after
# the heading.
awk '/^## Installing/ { sect = 1; next } sect && /^```sh$/ { on = 1; next } on && /^```$/ { exit } on { print }' \
  "$src/docs/operations.md" > "$root/root/install.sh"
check "docs/operations.md has an Installing block with apt install" grep -q '^apt install ./sfts_\*.deb' "$root/root/install.sh"

# ---- boot ---------------------------------------------------------------------------------
systemd-nspawn --quiet --keep-unit --register=no --private-network -D "$root" --machine=sftsboot --boot \
  </dev/null > "$work/console.log" 2>&1 &
nspawn_pid=$!
ct_pid=
for _ in $(seq 1 600); do
  ct_pid=$(pgrep -P "$nspawn_pid" | head -1)
  [[ -n $ct_pid ]] && [[ $(cat "/proc/$ct_pid/comm" 2>/dev/null) == systemd ]] && break
  ct_pid=; sleep 0.1
done
check "the container runs systemd as PID 1" test -n "$ct_pid"
[[ -n $ct_pid ]] || { finish; exit 1; }
in_ct() { nsenter -t "$ct_pid" -m -u -i -n -p -- /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  LANG=C.UTF-8 /bin/sh -c "cd /root && $1"; }
# Until systemd in the container has its private bus socket, systemctl cannot ask: retry.
state=
for _ in $(seq 1 240); do
  state=$(timeout 120 nsenter -t "$ct_pid" -m -u -i -n -p -- /usr/bin/env -i PATH=/usr/sbin:/usr/bin /bin/systemctl is-system-running --wait 2>&1)
  grep -qE '^(running|degraded)$' <<< "$state" && break
  sleep 0.5
done
echo "is-system-running: $state"
check "boot finished (is-system-running --wait: running or degraded)" grep -qE '^(running|degraded)$' <<< "$state"
check "PID 1 in the container is systemd" bash -c "$(declare -f in_ct); ct_pid=$ct_pid; in_ct 'cat /proc/1/comm' | grep -qx systemd"
echo "booted: $((SECONDS - t0)) s"

# ---- the document's commands --------------------------------------------------------------
in_ct 'sh -ex /root/install.sh' > "$work/install.log" 2>&1
rc=$?
sed 's/^/install: /' "$work/install.log" | tail -25
check "docs/operations.md Installing runs as printed (exit 0)" test "$rc" = 0
if [[ $rc != 0 ]]; then
  in_ct 'journalctl -u sftsd --no-pager | tail -40' | sed 's/^/journal: /'
  tail -20 "$root/var/log/sftsd/sftsd.log" | sed 's/^/sftsd.log: /'
fi
check "apt install printed the first-steps hint" grep -q "README.Debian" "$work/install.log"
check "sftsd is active (Type=notify: READY=1 came)" bash -c "$(declare -f in_ct); ct_pid=$ct_pid; in_ct 'systemctl is-active sftsd' | grep -qx active"
check "its status line is the one sent with READY=1" bash -c "$(declare -f in_ct); ct_pid=$ct_pid; in_ct 'systemctl show -p StatusText --value sftsd' | grep -q 'file service on port 8443'"
check "sftsd.conf takes the PIN from a credential" grep -qx 'pin = credential:token-pin' "$root/etc/sftsd/sftsd.conf"
check "systemd loaded it for the service (LoadCredential=)" in_ct 'test -s /run/credentials/sftsd.service/token-pin'
check "the secret files stay root-only" bash -c "[[ \$(stat -c '%U %a' '$root/etc/sftsd/token-pin') == 'root 600' ]]"
check "the token store is the service's own, owned by sftsd" bash -c "$(declare -f in_ct); ct_pid=$ct_pid; in_ct 'stat -c %U /var/lib/sftsd/tokens/*' | grep -qx sftsd"
in_ct 'systemd-analyze security sftsd.service' > "$work/security" 2>&1
score=$(sed -n 's/.*Overall exposure level for sftsd.service: \([0-9.]*\) .*/\1/p' "$work/security")
echo "systemd-analyze security (booted): $score"
check "exposure of the unit as shipped at most 2.0" awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 2.0) }'

# ---- a client with a one-time token, a verified round trip ---------------------------------------
cat > "$root/root/client.sh" <<'EOF'
set -e
c=/root/alice
mkdir -p "$c/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$c/tokens" > "$c/softhsm2.conf"
umask 077
head -c 12 /dev/urandom | base64 > "$c/so-pin"; head -c 12 /dev/urandom | base64 > "$c/pin"
printf 'Zebra-Quartz-%s-91' "$(head -c 6 /dev/urandom | base64 | tr -d '/+=')" > "$c/password"
SOFTHSM2_CONF=$c/softhsm2.conf sfts-admin token init --label alice-token --so-pin "file:$c/so-pin" --pin "file:$c/pin" >/dev/null
cat > "$c/sfts.conf" <<CONF
[server]
host = 127.0.0.1
file_port = 8443
enroll_port = 8444
[token]
uri = pkcs11:token=alice-token
pin = file:$c/pin
[user]
name = alice
password = file:$c/password
[paths]
dir = $c/state
CONF
sfts-admin-service user add alice --role user
sfts-admin-service enrollment create alice > "$c/enroll.txt"
awk '/^secret/ {printf "%s", $2}' "$c/enroll.txt" > "$c/secret"
SOFTHSM2_CONF=$c/softhsm2.conf sfts --config "$c/sfts.conf" --quiet enroll --token-id "$(awk '/^token-id/ {print $2}' "$c/enroll.txt")" --secret "file:$c/secret"
SOFTHSM2_CONF=$c/softhsm2.conf sfts --config "$c/sfts.conf" --quiet ls --new-password "file:$c/password"
EOF
cat > "$root/root/sfts" <<'EOF'
#!/bin/sh
SOFTHSM2_CONF=/root/alice/softhsm2.conf exec sfts --config /root/alice/sfts.conf --quiet "$@"
EOF
chmod +x "$root/root/sfts"
in_ct 'sh -e /root/client.sh' > "$work/client.log" 2>&1
rc=$?
sed 's/^/client: /' "$work/client.log" | tail -8
check "alice enrolls with a one-time token and sets her password at first login" test "$rc" = 0
head -c 200000 /dev/urandom > "$root/root/data.bin"
check "alice uploads" in_ct './sfts put /root/data.bin'
check "alice downloads" in_ct 'mkdir -p /root/dl && ./sfts get data.bin -o /root/dl'
check "the round trip is byte for byte" cmp "$root/root/data.bin" "$root/root/dl/data.bin"

# ---- reload re-reads the CRL --------------------------------------------------------------
check "systemctl reload sftsd" in_ct 'systemctl reload sftsd'
check "the log says the CRL was re-read" bash -c "for i in \$(seq 1 100); do grep -q 'reloaded on SIGHUP: CRL' '$root/var/log/sftsd/sftsd.log' && exit 0; sleep 0.2; done; exit 1"

# ---- the server certificate renewed, the client unaffected --------------------------------
old=$(openssl x509 -in "$root/var/lib/sftsd/server.crt" -noout -serial)
check "sfts-admin-service cert renew-server" in_ct 'sfts-admin-service cert renew-server'
new=$(openssl x509 -in "$root/var/lib/sftsd/server.crt" -noout -serial)
check "server.crt has a new serial" test "$old" != "$new"
check "systemctl restart sftsd" in_ct 'systemctl restart sftsd'
check "the server shows the new certificate" bash -c "$(declare -f in_ct); ct_pid=$ct_pid; in_ct 'openssl s_client -connect 127.0.0.1:8444 -CAfile /var/lib/sftsd/ca.crt -verify_return_error </dev/null 2>/dev/null | openssl x509 -noout -serial' | grep -qx '$new'"
check "alice, unchanged, still gets in" in_ct './sfts ls'

# ---- a revocation is refused --------------------------------------------------------------
serial=$(openssl x509 -in "$root/root/alice/state/client.crt" -noout -serial 2>/dev/null | cut -d= -f2)
check "sfts-admin-service cert revoke" in_ct "sfts-admin-service cert revoke $serial"
check "alice's revoked certificate is refused" bash -c "$(declare -f in_ct); ct_pid=$ct_pid; for i in \$(seq 1 30); do in_ct './sfts ls' >/dev/null 2>&1 || exit 0; sleep 1; done; exit 1"

# ---- the CRL re-signed automatically past its nextUpdate ----------------------------------
# sftsd's clock 8 days ahead (libfaketime through a drop-in): the CRL of the set-up (7 days) has
# expired; sftsd re-signs it at start, and the revocation above is still in the new list.
ft=$(cd "$root" && ls usr/lib/*/faketime/libfaketime.so.1 | head -1)
mkdir -p "$root/etc/systemd/system/sftsd.service.d"
printf '[Service]\nEnvironment=LD_PRELOAD=/%s FAKETIME=+8d\n' "$ft" > "$root/etc/systemd/system/sftsd.service.d/faketime.conf"
check "sftsd restarted 8 days later" in_ct 'systemctl daemon-reload && systemctl restart sftsd'
check "sftsd re-signed the expired CRL" grep -q 're-signed in the token' "$root/var/log/sftsd/sftsd.log"
check "its nextUpdate is past the moved clock" \
  test "$(date -u -d "$(openssl crl -in "$root/var/lib/sftsd/crl.pem" -noout -nextupdate | cut -d= -f2)" +%s)" -gt $(( $(date +%s) + 14 * 86400 ))
check "the new list still revokes alice" bash -c "openssl crl -in '$root/var/lib/sftsd/crl.pem' -noout -text | grep -qi 'Serial Number: $serial'"
rm -f "$root/etc/systemd/system/sftsd.service.d/faketime.conf"

# ---- remove and purge ---------------------------------------------------------------------
check "apt-get remove sfts" in_ct 'DEBIAN_FRONTEND=noninteractive apt-get remove -y -q sfts'
check "remove stopped sftsd" bash -c "$(declare -f in_ct); ct_pid=$ct_pid; ! in_ct 'systemctl is-active -q sftsd'"
for d in /etc/sftsd /var/lib/sftsd/pki.db /var/lib/sftsd/tokens /var/log/sftsd; do check "remove keeps $d" test -e "$root$d"; done
in_ct 'DEBIAN_FRONTEND=noninteractive apt-get purge -y -q sfts' > "$work/purge.log" 2>&1
check "apt-get purge sfts" grep -q "Purging configuration files for sfts" "$work/purge.log"
check "purge says it kept the token store" grep -q "kept /var/lib/sftsd/tokens" "$work/purge.log"
check "purge keeps the keys" test -n "$(ls -A "$root/var/lib/sftsd/tokens" 2>/dev/null)"
for d in /etc/sftsd /var/lib/sftsd/pki.db /var/log/sftsd; do check "purge deletes $d" test ! -e "$root$d"; done

in_ct 'systemctl poweroff' >/dev/null 2>&1
for _ in $(seq 1 300); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.2; done
wait "$nspawn_pid" 2>/dev/null
nspawn_pid=
echo "ops_boot_test: $((SECONDS - t0)) s"
finish
