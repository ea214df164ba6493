#!/usr/bin/env bash
# The configuration reference cannot rot: every option sfts-admin knows is in
# docs/configuration.md with its default. A bad value stops sftsd with the option's name.
set -uo pipefail
source "$SFTS_SOURCE_DIR/tests/e2e/lib.sh"
doc=$src/docs/configuration.md
work=$(mktemp -d /tmp/sfts-ops-config-XXXXXX)
trap 'rm -rf "$work"' EXIT

"$admin_bin" config defaults > "$work/defaults" || { echo "FAIL: sfts-admin config defaults"; exit 1; }
# "[section]" headers and "key = default" lines; every key becomes section.key
awk '/^\[/ { s = substr($0, 2, length($0) - 2) } /^[a-z_0-9]+ *=/ { k = $1; sub(/^[^=]*= ?/, ""); print s "." k "\t" $0 }' \
  "$work/defaults" > "$work/options"
check "sfts-admin config defaults lists options" test "$(wc -l < "$work/options")" -gt 40
while IFS=$'\t' read -r key def; do
  # a table row: | `section.key` | `default` | meaning |   (an empty default: *(empty)*)
  if [[ -z $def ]]; then cell='*(empty)*'; else cell="\`$def\`"; fi
  check "documented: $key (default '$def')" grep -qF -- "| \`$key\` | $cell |" "$doc"
done < "$work/options"
# and nothing documented that does not exist
grep -oE '^\| `[a-z_]+\.[a-z_0-9]+`' "$doc" | tr -d '|` ' | sort > "$work/documented"
cut -f1 "$work/options" | sort > "$work/known"
check "no stale option in the reference" diff "$work/documented" "$work/known"

# invalid values: sftsd refuses to start and names the option
bad() {  # bad SECTION KEY VALUE
  printf '[%s]\n%s = %s\n' "$1" "$2" "$3" > "$work/bad.conf"
  expect_exit "bad $1.$2 stops sftsd" 78 "$2" "$sftsd_bin" --config="$work/bad.conf"
}
bad server file_port 70000
bad server shutdown_grace_s -1
bad log level chatty
bad hsm pin 'nonsense:x'
bad hsm pin 'credential:../token-pin'
printf '[server]\nno_such_option = 1\n' > "$work/bad.conf"
expect_exit "unknown option stops sftsd" 78 "no_such_option" "$sftsd_bin" --config="$work/bad.conf"
finish
