#!/usr/bin/env bash
# bench/run.sh --smoke: the whole suite at small sizes (own sshd, own sftsd on SoftHSM2 tokens,
# the ceiling, the load driver). Passes when it runs end to end and every row of the table has
# a number. Timing targets are for the full run and docs/benchmarks.md, never for a test.
set -uo pipefail
: "${SFTS_SOURCE_DIR:?}" "${SFTS_BINARY_DIR:?}"
pass=0 fail=0

if [[ ! -x /usr/sbin/sshd ]] || ! command -v sftp > /dev/null || [[ ! -x /usr/bin/time ]]; then
  msg="needs /usr/sbin/sshd, sftp and /usr/bin/time (Debian: openssh-server openssh-client time)"
  if [[ ${CI:-} == true ]]; then echo "FAIL: $msg"; echo "0 passed, 1 failed"; exit 1; fi
  echo "SKIP: $msg"; exit 77
fi

out=$(mktemp -d /tmp/sfts-bench-smoke-XXXXXX)
trap 'rm -rf "$out"' EXIT

check() {  # check NAME COMMAND...
  local name=$1; shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $name"; fi
}

start=$(date +%s)
"$SFTS_SOURCE_DIR/bench/run.sh" --smoke --out "$out/smoke.md" > "$out/stdout" 2> "$out/stderr"
rc=$?
echo "bench/run.sh --smoke: exit $rc after $(($(date +%s) - start)) s"
cat "$out/stdout"
if ((rc != 0)); then
  echo "--- stderr (tail)"; tail -30 "$out/stderr"
fi
check "the suite exits 0" test "$rc" -eq 0
check "results written (Markdown and TSV)" test -s "$out/smoke.md" -a -s "$out/smoke.tsv"

number() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?(e[+-]?[0-9]+)?$ ]] && awk -v v="$1" 'BEGIN { exit !(v > 0) }'; }

# key, and whether the row has a peer number
rows=(up:1 up_ceiling:1 up_ceiling_files:1 down_ceiling_files:1 cpu_up:1 cpu_down:1 rss_client_up:1 rss_server_up:1 down:1 down_ceiling:1 rss_client_down:1 rss_server_down:1
      small:1 ls:1 ls4096:1 handshakes:0 load:1 idle:0)
for r in "${rows[@]}"; do
  key=${r%%:*} has_peer=${r##*:}
  line=$(awk -F'\t' -v k="$key" '$1 == k' "$out/smoke.tsv" 2> /dev/null)
  IFS=$'\t' read -r _ name _ s p ratio _ <<< "$line"
  check "row $key present" test -n "$line"
  check "row $key: sfts number ($s)" number "${s:-}"
  if ((has_peer)); then
    check "row $key: peer number ($p) and ratio ($ratio)" eval 'number "${p:-}" && number "${ratio:-}"'
  fi
  check "row $key printed in the table" grep -qF "| ${name:-no such row} |" "$out/stdout"
done
check "machine described" grep -q '^- machine: .*cores.*RAM' "$out/stdout"

# The ceiling with files stores exactly what it read (sizes that are not a multiple of its 1 MiB
# buffer or 8 MiB source window), and refuses half an option pair.
ceiling=$SFTS_BINARY_DIR/bench/sfts-bench-ceiling
for size in 1 $((1 << 20)) $(((9 << 20) + 12345)); do
  head -c "$size" /dev/urandom > "$out/ceil-src"
  check "ceiling with files, $size bytes: runs" "$ceiling" --from "$out/ceil-src" --to "$out/ceil-dst"
  check "ceiling with files, $size bytes: identical copy" cmp -s "$out/ceil-src" "$out/ceil-dst"
  rm -f "$out/ceil-dst"
done
"$ceiling" --from "$out/ceil-src" > "$out/ceil-usage" 2>&1
check "ceiling: --from without --to is a usage error (exit 2)" test $? -eq 2
check "ceiling: the usage error says why" grep -q -- "--from and --to go together" "$out/ceil-usage"
"$ceiling" --from "$out/no-such-file" --to "$out/ceil-dst" > "$out/ceil-usage" 2>&1
check "ceiling: a missing source is an error (exit 2)" test $? -eq 2

echo "$pass passed, $fail failed"
((fail == 0))
