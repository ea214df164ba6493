#!/usr/bin/env bash
# The install layout: the server component puts the binaries in sbin, the unit and the sysusers
# file where systemd looks for vendor files, documentation, the sample configuration, the
# configuration itself under PREFIX/etc/sftsd (under /etc only for the prefix /usr) and the
# man pages; a full install adds the clients and their man pages. Nothing lands outside the prefix.
set -uo pipefail
source "$SFTS_SOURCE_DIR/tests/e2e/lib.sh"
work=$(mktemp -d /tmp/sfts-ops-install-XXXXXX)
trap 'rm -rf "$work"' EXIT
check "cmake --install --component server" cmake --install "$bin" --component server --prefix "$work/usr"
for f in sbin/sftsd sbin/sfts-admin lib/systemd/system/sftsd.service lib/sysusers.d/sftsd.conf \
  share/doc/sfts/sftsd.conf.sample share/doc/sfts/configuration.md share/doc/sfts/operations.md \
  etc/sftsd/sftsd.conf share/man/man8/sftsd.8.gz share/man/man8/sfts-admin.8.gz share/man/man5/sftsd.conf.5.gz; do
  check "installed $f" test -s "$work/usr/$f"
done
check "installed sftsd runs" "$work/usr/sbin/sftsd" --help
check "installed configuration is the sample" cmp "$work/usr/etc/sftsd/sftsd.conf" "$src/systemd/sftsd.conf.sample"
echo "# edited by the administrator" >> "$work/usr/etc/sftsd/sftsd.conf"
check "install again" cmake --install "$bin" --component server --prefix "$work/usr"
check "an existing configuration is kept" grep -qx "# edited by the administrator" "$work/usr/etc/sftsd/sftsd.conf"
check "server component installs nothing outside the prefix" \
  bash -c "! grep -v '^$work/usr/' '$bin/install_manifest_server.txt'"

check "cmake --install (everything)" cmake --install "$bin" --prefix "$work/all"
for f in bin/sfts bin/sfts-tui sbin/sftsd share/man/man1/sfts.1.gz share/man/man1/sfts-tui.1.gz \
  share/man/man8/sftsd.8.gz; do
  check "full install has $f" test -s "$work/all/$f"
done
for page in "$work"/all/share/man/man*/*.gz; do
  check "${page##*/} is a man page man(1) renders" \
    bash -c "MANWIDTH=80 man --warnings=all -l '$page' 2>&1 >/dev/null | { ! grep .; } && MANWIDTH=80 man -l '$page' | grep -q NAME"
done
check "full install: nothing outside the prefix" bash -c "! grep -v '^$work/all/' '$bin/install_manifest.txt'"
finish
