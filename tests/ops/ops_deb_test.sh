#!/usr/bin/env bash
# The man pages and the Debian package.
# 1. Every man page renders without a groff warning, and names every command and option the
#    binaries' --help prints (and every configuration option they know).
# 2. cpack builds the .deb from this build tree (into a scratch directory); dpkg-deb shows its
#    control fields, dependencies, conffiles, file list, owners and modes; no binary carries a
#    run path or any other path into the build tree.
# 3. The maintainer scripts run for real against a scratch root (DPKG_ROOT): postinst creates
#    the sftsd user and its directories there, prerm and postrm undo what they must, purge
#    deletes the state, and nothing talks to the host's systemd. The host is never modified.
set -uo pipefail
source "$SFTS_SOURCE_DIR/tests/e2e/lib.sh"
tui_bin=$bin/client-tui/tui/sfts-tui

# tool COMMAND DEBIAN-PACKAGE: the test needs it (a skip is allowed outside CI only).
missing=()
for pair in dpkg-deb:dpkg dpkg-shlibdeps:dpkg-dev cpack:cmake groff:groff-base man:man-db readelf:binutils \
  shellcheck:shellcheck systemd-sysusers:systemd systemctl:systemd gzip:gzip lintian:lintian \
  deb-systemd-helper:init-system-helpers; do
  command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
if ((${#missing[@]})); then
  if [[ -n ${CI:-} ]]; then echo "FAIL: missing Debian packages: ${missing[*]}"; exit 1; fi
  echo "SKIP: missing Debian packages: ${missing[*]}"; exit 0
fi

work=$(mktemp -d /tmp/sfts-ops-deb-XXXXXX)
trap 'rm -rf "$work"' EXIT

# ---- 1. man pages -------------------------------------------------------------------------
# Plain text of a man page, one paragraph per line (no hyphenation breaks), ASCII hyphens.
man_text() {
  groff -man -Tutf8 -rLL=3000n -rHY=0 "$1" 2>/dev/null | col -b | sed 's/\xe2\x80\x90/-/g; s/\xe2\x88\x92/-/g'
}
# The options (-x, --xyz) and the command verbs ("token init", "ls") of a --help text.
help_options() { grep -oE '(^|[][ (,/|])--?[a-z][a-z0-9-]*' | sed -E 's/^[][ (,/|]//' | sort -u; }
help_verbs() {
  grep -E '^  [a-z]' | sed -E 's/^  //; s/  .*//' | awk '{
    v = ""; alt = ""
    for (i = 1; i <= NF && $i ~ /^[a-z|]+$/; i++) v = v (v == "" ? "" : " ") $i
    n = split(v, w, " "); k = split(w[n], a, "|"); base = ""
    for (i = 1; i < n; i++) base = base w[i] " "
    for (i = 1; i <= k; i++) print base a[i]
  }' | sort -u
}
has_option() { grep -qE -- "(^|[^A-Za-z0-9-])$2([^A-Za-z0-9-]|\$)" "$1"; }
# (no grep -q after a pipe: its early exit would fail the writer under pipefail)
has_phrase() { grep -F -- "$2" <(tr -s ' \t' '  ' < "$1") >/dev/null; }

declare -A help_of=([sftsd.8]=$sftsd_bin [sfts-admin.8]=$admin_bin [sfts.1]=$sfts_bin [sfts-tui.1]=$tui_bin)
for page in sftsd.8 sfts-admin.8 sftsd.conf.5 sfts.1 sfts-tui.1; do
  f=$src/docs/man/$page
  check "$page: groff -man -ww renders it without a warning" \
    bash -c "groff -man -Tutf8 -ww -z '$f' 2>&1 | { ! grep .; }"
  check "$page: man -l renders it without a warning" \
    bash -c "MANWIDTH=80 man --warnings=all -l '$f' 2>&1 >/dev/null | { ! grep .; }"
  man_text "$f" > "$work/$page.txt"
  check "$page: has NAME, SYNOPSIS, DESCRIPTION, SEE ALSO" \
    bash -c "for s in NAME SYNOPSIS DESCRIPTION 'SEE ALSO'; do grep -qx \"\$s\" '$work/$page.txt' || exit 1; done"
  [[ -n ${help_of[$page]:-} ]] || continue
  "${help_of[$page]}" --help > "$work/$page.help" 2>&1
  n_opt=0 n_verb=0
  while read -r o; do
    n_opt=$((n_opt + 1))
    check "$page documents option $o" has_option "$work/$page.txt" "$o"
  done < <(help_options < "$work/$page.help")
  while read -r v; do
    n_verb=$((n_verb + 1))
    check "$page documents command '$v'" has_phrase "$work/$page.txt" "$v"
  done < <(help_verbs < "$work/$page.help")
  echo "$page: $n_opt options and $n_verb commands of --help checked"
  check "$page: --help of ${help_of[$page]##*/} has options to compare" test "$n_opt" -ge 2
done
check "sfts-admin.8: --help lists commands" grep -q "token init" "$work/sfts-admin.8.help"
# Every configuration option: the server's in sftsd.conf(5), the client's in sfts(1).
conf_keys() { awk '/^\[/ { s = substr($1, 2, length($1) - 2) } /^[a-z_]+ *=/ { print s "." $1 }'; }
"$admin_bin" config defaults | conf_keys > "$work/server.keys"
"$sfts_bin" config | conf_keys > "$work/client.keys"
check "config defaults lists options" test "$(wc -l < "$work/server.keys")" -ge 40
check "sfts config lists options" test "$(wc -l < "$work/client.keys")" -ge 10
while read -r k; do check "sftsd.conf.5 documents $k" has_option "$work/sftsd.conf.5.txt" "${k//./\\.}"; done < "$work/server.keys"
while read -r k; do check "sfts.1 documents $k" has_option "$work/sfts.1.txt" "${k//./\\.}"; done < "$work/client.keys"

# ---- 2. the package -------------------------------------------------------------------------
t0=$(date +%s)
if ! cpack --config "$bin/CPackConfig.cmake" -B "$work/pkg" > "$work/cpack.log" 2>&1; then
  echo "FAIL: cpack"; tail -30 "$work/cpack.log"; exit 1
fi
echo "cpack: $(($(date +%s) - t0)) s"
debs=("$work"/pkg/*.deb)
check "cpack made exactly one .deb" test "${#debs[@]}" -eq 1
deb=${debs[0]}
version=$(sed -nE 's/^project\(sfts VERSION ([0-9.]+).*/\1/p' "$src/CMakeLists.txt")
arch=$(dpkg --print-architecture)
check "file name sfts_${version}_$arch.deb" test "${deb##*/}" = "sfts_${version}_$arch.deb"
echo "package: ${deb##*/}, $(stat -c %s "$deb") bytes"
field() { dpkg-deb -f "$deb" "$1"; }
check "Package: sfts" test "$(field Package)" = sfts
check "Version: $version (project())" test "$(field Version)" = "$version"
check "Architecture: $arch" test "$(field Architecture)" = "$arch"
check "Maintainer is set" test -n "$(field Maintainer)"
field Description > "$work/description"
check "Description has a summary and a body" test "$(wc -l < "$work/description")" -ge 3
check "Description body does not repeat the summary" \
  test "$(sed -n 1p "$work/description")" != "$(sed -n 2p "$work/description" | sed 's/^ //')"
depends=$(field Depends)
echo "Depends: $depends"
# Each entry: a package (or alternatives) with an optional version constraint.
for dep in libengine-pkcs11-openssl 'libssl3 \(>= 3' 'libpocofoundation[0-9]+ \(>=' 'libpoconet[0-9]+ \(>=' \
  'libc6 \(>=' libsystemd0 'libgsasl[0-9]+' 'libp11-kit0' 'libncursesw6' 'libpwquality1' 'libstdc\+\+6' \
  'systemd \| systemd-sysusers' cracklib-runtime; do
  check "Depends has $dep" grep -qE -- "(^|, )$dep" <<< "$depends"
done
check "Recommends: softhsm2" grep -qw softhsm2 <<< "$(field Recommends)"
check "Depends names no -dev package" bash -c "! grep -q -- '-dev' <<< '$depends'"

# lintian, Debian's package checker: no error, no warning, nothing suppressed.
lintian --tag-display-limit 0 "$deb" > "$work/lintian" 2>&1
sed 's/^/lintian: /' "$work/lintian" | grep -v 'root privileges'
check "lintian: no error or warning" bash -c "! grep -E '^(E|W): ' '$work/lintian'"

dpkg-deb -e "$deb" "$work/control"
check "conffiles are /etc/sftsd/sftsd.conf and softhsm2.conf" test "$(cat "$work/control/conffiles")" = $'/etc/sftsd/sftsd.conf\n/etc/sftsd/softhsm2.conf'
for s in postinst prerm postrm; do
  check "$s is in the package, mode 0755" test "$(stat -c %a "$work/control/$s")" = 755
  check "$s: sh -n" sh -n "$work/control/$s"
  check "$s: shellcheck -s sh (POSIX sh, no bashisms)" shellcheck -s sh "$work/control/$s"
  check "$s: set -e" grep -qx 'set -e' "$work/control/$s"
  check "$s: same as packaging/debian/$s" cmp "$work/control/$s" "$src/packaging/debian/$s"
done

dpkg-deb -c "$deb" > "$work/list"
paths() { awk '{ print $6 }' "$work/list" | sed 's#^\./#/#; s#/$##'; }
for f in /usr/sbin/sftsd /usr/sbin/sfts-admin /usr/bin/sfts /usr/bin/sfts-tui /usr/lib/systemd/system/sftsd.service \
  /usr/lib/sysusers.d/sftsd.conf /etc/sftsd/sftsd.conf /usr/share/man/man8/sftsd.8.gz /usr/share/man/man8/sfts-admin.8.gz \
  /usr/share/man/man5/sftsd.conf.5.gz /usr/share/man/man1/sfts.1.gz /usr/share/man/man1/sfts-tui.1.gz \
  /usr/share/doc/sfts/operations.md /usr/share/doc/sfts/configuration.md /usr/share/doc/sfts/sftsd.conf.sample \
  /usr/share/doc/sfts/changelog.gz /usr/share/doc/sfts/copyright /usr/share/doc/sfts/README.Debian \
  /usr/sbin/sfts-admin-service /usr/share/man/man8/sfts-admin-service.8.gz /etc/sftsd/softhsm2.conf; do
  check "package has $f" grep -qxF "$f" <(paths)
done
check "every file owned by root/root" awk '$2 != "root/root" { bad = 1; print } END { exit bad }' "$work/list"
check "no setuid/setgid or world-writable entry" awk 'substr($1, 4, 1) ~ /[sS]/ || substr($1, 7, 1) ~ /[sS]/ || substr($1, 9, 1) == "w" { bad = 1; print } END { exit bad }' "$work/list"
check "binaries are -rwxr-xr-x" bash -c "grep -E '^-.* \./usr/s?bin/' '$work/list' | awk '\$1 != \"-rwxr-xr-x\" { bad = 1; print } END { exit bad }'"
check "other files are -rw-r--r--" bash -c "grep -E '^-' '$work/list' | grep -vE ' \./usr/s?bin/' | awk '\$1 != \"-rw-r--r--\" { bad = 1; print } END { exit bad }'"
check "nothing under /usr/local, /usr/etc, /var or /home" bash -c "! grep -E '^/(usr/local|usr/etc|var|home)(/|$)' <(awk '{ print \$6 }' '$work/list' | sed 's#^\./#/#')"

root=$work/root
dpkg-deb -x "$deb" "$root"
check "the conffile is the sample configuration" cmp "$root/etc/sftsd/sftsd.conf" "$src/systemd/sftsd.conf.sample"
check "the unit's ExecStart binary is in the package" \
  test -x "$root$(sed -nE 's/^ExecStart=([^ ]+).*/\1/p' "$root/usr/lib/systemd/system/sftsd.service")"
for b in usr/sbin/sftsd usr/sbin/sfts-admin usr/bin/sfts usr/bin/sfts-tui; do
  check "$b: no RPATH/RUNPATH" bash -c "! readelf -d '$root/$b' | grep -qE 'RPATH|RUNPATH'"
  check "$b: stripped (no .debug_info)" bash -c "! readelf -S '$root/$b' | grep -q debug_info"
done
check "no file mentions the build tree $bin" bash -c "! grep -rlF -- '$bin' '$root'"
for page in man8/sftsd.8 man8/sfts-admin.8 man8/sfts-admin-service.8 man5/sftsd.conf.5 man1/sfts.1 man1/sfts-tui.1; do
  gz=$root/usr/share/man/$page.gz
  # RFC 1952: FLG bit 3 (FNAME) clear and MTIME zero, what gzip -n writes.
  check "$page.gz: gzip -n (no name, no time stamp)" \
    bash -c "gzip -t '$gz' && (( (\$(od -An -tu1 -j3 -N1 '$gz') & 8) == 0 && \$(od -An -tu4 -j4 -N4 '$gz') == 0 ))"
  check "$page.gz: renders without a warning, version filled in" \
    bash -c "zcat '$gz' | groff -man -Tutf8 -ww 2>&1 >/dev/null | { ! grep .; } && zcat '$gz' | grep -q '\"sfts $version\"'"
done
check "the installed sftsd runs (--help)" bash -c "'$root/usr/sbin/sftsd' --help | grep -q -- --config"

# ---- 3. the maintainer scripts in a scratch root ---------------------------------------------
# postinst chowns in the scratch root as it would on a real one: that needs root (as dpkg has).
if [[ $(id -u) -ne 0 ]]; then
  if [[ -n ${CI:-} ]]; then echo "FAIL: the maintainer-script part needs root"; exit 1; fi
  echo "SKIP: the maintainer-script part needs root"; finish; exit
fi
# A minimal target system: the files systemd-sysusers edits, and a dpkg database directory.
mkdir -p "$root/var/lib/dpkg"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\n' > "$root/etc/group"
printf 'root:*:19000:0:99999:7:::\n' > "$root/etc/shadow"
printf 'root:*::\n' > "$root/etc/gshadow"
chmod 0640 "$root/etc/shadow" "$root/etc/gshadow"
# dpkg's environment for maintainer scripts; systemctl and deb-systemd-invoke in front of the
# real ones: with DPKG_ROOT set no call may reach the host's systemd (systemctl only with --root=,
# deb-systemd-invoke never).
mkdir -p "$work/fakebin"
cat > "$work/fakebin/systemctl" <<EOF
#!/bin/sh
echo "systemctl \$*" >> "$work/systemd.calls"
case " \$* " in *" --root="*) exec $(command -v systemctl) "\$@" ;; esac
exit 0
EOF
printf '#!/bin/sh\necho "deb-systemd-invoke $*" >> "%s/systemd.calls"\n' "$work" > "$work/fakebin/deb-systemd-invoke"
chmod +x "$work/fakebin/systemctl" "$work/fakebin/deb-systemd-invoke"
: > "$work/systemd.calls"
run_script() {
  env PATH="$work/fakebin:$PATH" DPKG_ROOT="$root" DPKG_MAINTSCRIPT_PACKAGE=sfts DPKG_MAINTSCRIPT_NAME="$1" \
    sh "$work/control/$1" "${@:2}"
}
wants=$root/etc/systemd/system/multi-user.target.wants/sftsd.service
mask=$root/etc/systemd/system/sftsd.service

host_before=$(cat /etc/passwd /etc/group /etc/shadow /etc/gshadow 2>/dev/null | sha256sum)
check "postinst configure (fresh install)" run_script postinst configure
pw=$(grep '^sftsd:' "$root/etc/passwd")
echo "passwd: $pw"
IFS=: read -r _ _ uid gid _ home shell <<< "$pw"
check "sftsd user exists" test -n "$pw"
check "sftsd is a system user (uid < 1000)" test "${uid:-9999}" -lt 1000
check "sftsd home is /var/lib/sftsd" test "$home" = /var/lib/sftsd
check "sftsd shell is nologin" test "$shell" = /usr/sbin/nologin
check "sftsd group exists with the user's gid" grep -qE "^sftsd:x:$gid:" "$root/etc/group"
check "sftsd password is locked" grep -qE '^sftsd:!' "$root/etc/shadow"
check "/etc/sftsd is root:sftsd 0750" test "$(stat -c '%u:%g %a' "$root/etc/sftsd")" = "0:$gid 750"
check "/var/lib/sftsd is sftsd:sftsd 0700" test "$(stat -c '%u:%g %a' "$root/var/lib/sftsd")" = "$uid:$gid 700"
check "/var/log/sftsd is sftsd:sftsd 0700" test "$(stat -c '%u:%g %a' "$root/var/log/sftsd")" = "$uid:$gid 700"
check "/var/lib/sftsd/tokens (the service's SoftHSM2 store) is sftsd:sftsd 0700" test "$(stat -c '%u:%g %a' "$root/var/lib/sftsd/tokens")" = "$uid:$gid 700"
check "postinst tells a fresh install the first steps" bash -c "$(declare -f run_script); work='$work' root='$root' run_script postinst configure | grep -q README.Debian"
check "postinst neither enables nor starts sftsd" test ! -e "$wants"
check "postinst registered the unit with deb-systemd-helper" \
  test -f "$root/var/lib/systemd/deb-systemd-helper-enabled/sftsd.service.dsh-also"

# An upgrade: configure again with the old version; the user is not duplicated and an
# administrator's changes to existing directories stay.
chmod 0750 "$root/var/lib/sftsd"
echo state > "$root/var/lib/sftsd/marker"
check "prerm upgrade (no systemd running)" run_script prerm upgrade "$version"
check "postinst configure OLD-VERSION (upgrade)" run_script postinst configure 0.0.1
check "still one sftsd user" test "$(grep -c '^sftsd:' "$root/etc/passwd")" -eq 1
check "upgrade keeps the state directory as it was" test "$(stat -c %a "$root/var/lib/sftsd")" = 750
check "upgrade keeps the state" test -s "$root/var/lib/sftsd/marker"

# The administrator enables the service. remove keeps every piece of state and the enablement
# (masked, so that the unit cannot start without its files); a reinstall lifts the mask.
check "systemctl --root enable (as an administrator would)" systemctl --root="$root" --quiet enable sftsd.service
check "enabled" test -L "$wants"
check "prerm remove (no systemd running)" run_script prerm remove
check "postrm remove" run_script postrm remove
for d in /var/lib/sftsd /var/log/sftsd /etc/sftsd; do check "remove keeps $d" test -d "$root$d"; done
check "remove keeps the state" test -s "$root/var/lib/sftsd/marker"
check "remove keeps the enablement" test -L "$wants"
check "remove masks the unit" test "$(readlink "$mask")" = /dev/null
check "reinstall: postinst configure" run_script postinst configure
check "reinstall lifts the mask" test ! -e "$mask"
check "reinstall: still enabled" test -L "$wants"
check "prerm remove again" run_script prerm remove
check "postrm remove again" run_script postrm remove
# A token in the service's store: purge keeps it (the CA key), says so, and deletes the rest.
mkdir -p "$root/var/lib/sftsd/tokens/0b1d-token"; echo key > "$root/var/lib/sftsd/tokens/0b1d-token/key.object"
check "postrm purge with a token: keeps the keys and says so" bash -c "$(declare -f run_script); work='$work' root='$root' run_script postrm purge 2>&1 | grep -q 'kept /var/lib/sftsd/tokens'"
check "purge keeps the token store" test -s "$root/var/lib/sftsd/tokens/0b1d-token/key.object"
check "purge deletes the rest of the state" test ! -e "$root/var/lib/sftsd/marker"
rm -rf "$root/var/lib/sftsd"
check "postrm purge" run_script postrm purge
for d in /var/lib/sftsd /var/log/sftsd /etc/sftsd; do check "purge deletes $d" test ! -e "$root$d"; done
check "purge removes the enablement link" test ! -L "$wants"
check "purge removes the mask" test ! -L "$mask"
check "purge keeps the rest of the root" test -s "$root/etc/passwd"
check "postrm purge again (idempotent)" run_script postrm purge
check "unknown action fails" bash -c "! env DPKG_ROOT='$root' sh '$work/control/postinst' frobnicate 2>/dev/null"
check "the host's passwd, group, shadow, gshadow are untouched" \
  test "$(cat /etc/passwd /etc/group /etc/shadow /etc/gshadow 2>/dev/null | sha256sum)" = "$host_before"
echo "systemd calls: $(tr '\n' ';' < "$work/systemd.calls")"
check "no systemctl call without --root=, no deb-systemd-invoke (the host's systemd untouched)" \
  bash -c "! grep -v -- '^systemctl .*--root=$root' '$work/systemd.calls'"
finish
