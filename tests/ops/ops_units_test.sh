#!/usr/bin/env bash
# The systemd units: systemd-analyze verify passes, the sandbox scores "OK" or better offline,
# and the hardening the operations guide promises is present.
set -uo pipefail
source "$SFTS_SOURCE_DIR/tests/e2e/lib.sh"
units=$src/systemd
if ! command -v systemd-analyze >/dev/null; then
  if [[ -n ${CI:-} ]]; then echo "FAIL: systemd-analyze missing (Debian package systemd)"; exit 1; fi
  echo "SKIP: systemd-analyze missing"; exit 0
fi
work=$(mktemp -d /tmp/sfts-ops-units-XXXXXX)
trap 'rm -rf "$work"' EXIT
# verify insists that ExecStart= exists: point it at the freshly built daemon.
sed "s#^ExecStart=/usr/sbin/sftsd#ExecStart=$sftsd_bin#" "$units/sftsd.service" > "$work/sftsd.service"

check "systemd-analyze verify sftsd.service" bash -c "systemd-analyze verify '$work/sftsd.service' 2>&1 | tee /dev/stderr | { ! grep -q .; }"
systemd-analyze security --offline=true "$work/sftsd.service" > "$work/security" 2>&1
score=$(sed -n 's/.*Overall exposure level for sftsd.service: \([0-9.]*\) .*/\1/p' "$work/security")
echo "systemd-analyze security: exposure $score"
check "exposure score at most 2.0 (OK)" awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 2.0) }'
for line in Type=notify NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes PrivateDevices=yes \
  'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' SystemCallFilter=@system-service SystemCallArchitectures=native \
  MemoryDenyWriteExecute=yes CapabilityBoundingSet= AmbientCapabilities= LockPersonality=yes RestrictRealtime=yes \
  RestrictNamespaces=yes ProtectKernelTunables=yes ProtectKernelModules=yes ProtectKernelLogs=yes \
  ProtectControlGroups=yes ProtectClock=yes ProtectHostname=yes UMask=0077 StateDirectory=sftsd LogsDirectory=sftsd \
  ConfigurationDirectory=sftsd User=sftsd LoadCredential=token-pin:/etc/sftsd/token-pin \
  LoadCredential=site-secret:/etc/sftsd/site-secret ReadWritePaths=-/var/lib/softhsm/tokens; do
  check "unit has $line" grep -qxF -- "$line" "$units/sftsd.service"
done
check "no secret or environment in the unit but SOFTHSM2_CONF" bash -c "! grep -E '^(Environment|EnvironmentFile|SetCredential)' '$units/sftsd.service' | grep -vxF 'Environment=SOFTHSM2_CONF=/etc/sftsd/softhsm2.conf' | grep -q ."
check "the unit names the service's token store" grep -qxF 'Environment=SOFTHSM2_CONF=/etc/sftsd/softhsm2.conf' "$units/sftsd.service"
check "softhsm2.conf puts the tokens under the state directory" grep -qxF 'directories.tokendir = /var/lib/sftsd/tokens' "$units/softhsm2.conf"
check "ExecReload needs no /bin/kill (procps)" bash -c "! grep -E '^ExecReload=.*/bin/kill' '$units/sftsd.service'"
check "sfts-admin-service passes shellcheck" shellcheck "$units/sfts-admin-service"
check "sysusers line for sftsd" grep -qE '^u sftsd ' "$units/sftsd.sysusers"
if command -v systemd-sysusers >/dev/null; then
  check "systemd-sysusers accepts the file" bash -c "systemd-sysusers --dry-run '$units/sftsd.sysusers' >/dev/null 2>&1 || systemd-sysusers --root='$work/root' '$units/sftsd.sysusers'"
fi
check "sample config uses the credential" grep -qxF 'pin = credential:token-pin' "$units/sftsd.conf.sample"
finish
