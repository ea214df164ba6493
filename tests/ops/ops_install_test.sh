#!/usr/bin/env bash
# The install layout of the server component: binaries in sbin, the unit and the sysusers file
# where systemd looks for vendor files, documentation and the sample configuration.
set -uo pipefail
source "$SFTS_SOURCE_DIR/tests/e2e/lib.sh"
work=$(mktemp -d /tmp/sfts-ops-install-XXXXXX)
trap 'rm -rf "$work"' EXIT
check "cmake --install --component server" cmake --install "$bin" --component server --prefix "$work/usr"
for f in sbin/sftsd sbin/sfts-admin lib/systemd/system/sftsd.service lib/sysusers.d/sftsd.conf \
  share/doc/sfts/sftsd.conf.sample share/doc/sfts/configuration.md share/doc/sfts/operations.md; do
  check "installed $f" test -s "$work/usr/$f"
done
check "installed sftsd runs" "$work/usr/sbin/sftsd" --help
finish
