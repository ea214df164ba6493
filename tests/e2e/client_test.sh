#!/usr/bin/env bash
# The batch client as a user meets it, end to end (issue 13, items 8, 9, 11, 12, 13, 14):
#   - an empty list says so;
#   - the first login takes the configured password in batch use, without a terminal;
#   - names starting with '-' go after '--'; odd names are listed quoted as GNU ls does, and
#     what ls prints pasted into a shell gives the name back; blank names are refused;
#   - hostile names (newline, ESC, line separator, bidi override) never reach a log raw:
#     no forged line, no control byte, in the client's log or the server's;
#   - a server that hangs up before TLS (connection cap full, source blocked) gets a clear
#     message, a bounded retry with backoff, and success once it frees up.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
# Loopback is safe-listed (many logins); the connection cap is small so that a test can fill
# it; silent connections hold their place until the handshake deadline, far away.
SFTS_E2E_EXTRA_CONF=$'[abuse]\nsafe_list = 127.0.0.1\n[limits]\nhandshake_timeout_ms = 300000'
e2e_init
sed -i 's/^\[server\]$/[server]\nmax_connections = 4/' "$work/server/sftsd.conf"
start_server || exit 1

# run_sfts NAME ARGS...: like `as`, but without --quiet and without a controlling terminal
run_sfts() { local n=$1; shift; SOFTHSM2_CONF=$work/$n/softhsm2.conf setsid -w "$sfts_bin" --config "$work/$n/sfts.conf" "$@" </dev/null; }

# --- item 11: the first login in batch use takes user.password = file:... (no terminal)
make_client carol
check "enroll carol" as carol enroll --secret "file:$work/server/site-secret"
run_sfts carol ls >"$work/carol.out" 2>"$work/carol.err"
rc=$?
check "first login without --new-password and without a terminal succeeds (exit $rc: $(head -c 300 "$work/carol.err"))" test "$rc" -eq 0
check "it says the configured password was set" grep -q "your password is now the one from user.password" "$work/carol.err"
check "it does not ask for a terminal" bash -c "! grep -qi 'terminal' '$work/carol.err'"
check "carol logs in again with that password" as carol ls
check "the server has carol's password" bash -c "SOFTHSM2_CONF=$work/server/softhsm2.conf $admin_bin --config $work/server/sftsd.conf user list | grep -q '^carol .* set '"
make_client dave
check "enroll dave" as dave enroll --secret "file:$work/server/site-secret"
printf 'Quill-Harbor-Mosaic-58' > "$work/dave/chosen"; chmod 600 "$work/dave/chosen"
run_sfts dave ls --new-password "file:$work/dave/chosen" >"$work/dave.out" 2>"$work/dave.err"
rc=$?
check "first login with --new-password succeeds (exit $rc)" test "$rc" -eq 0
check "--new-password given: no 'has no password yet' prompt text" bash -c "! grep -q 'no password yet' '$work/dave.err'"
check "--new-password given: it, not user.password, was set" as dave --password "file:$work/dave/chosen" ls
expect_exit "dave's configured password is not his password" 6 "authentication failed" as dave ls

# --- item 13: an empty list says so (stdout stays empty for scripts)
ready_client alice admin  # upload, overwrite, delete
run_sfts alice ls >"$work/ls.out" 2>"$work/ls.err"
rc=$?
check "ls of an empty server succeeds (exit $rc)" test "$rc" -eq 0
check "ls to a pipe: stdout empty" test ! -s "$work/ls.out"
check "ls to a pipe: 'no files' on stderr" grep -qx "sfts: no files" "$work/ls.err"
SOFTHSM2_CONF=$work/alice/softhsm2.conf script -qec "$sfts_bin --config $work/alice/sfts.conf ls" /dev/null >"$work/ls.tty" 2>&1
check "ls on a terminal prints 'no files'" grep -q "^no files" "$work/ls.tty"
check "ls --quiet to a pipe prints nothing at all" bash -c "[[ -z \$(SOFTHSM2_CONF=$work/alice/softhsm2.conf $sfts_bin --config $work/alice/sfts.conf --quiet ls 2>&1) ]]"

# --- item 9: '--', names starting with '-', blank names, quoted listing
mkdir -p "$work/dl"
head -c 3000 /dev/urandom > "$work/f.bin"
check "upload as -rf" as alice put "$work/f.bin" --as -rf
expect_exit "get -rf without '--' is an option error that shows the way" 1 "goes after '--'" as alice get -rf -o "$work/dl"
check "get -- -rf" as alice get -o "$work/dl" -- -rf
check "what came back is the file" cmp "$work/f.bin" "$work/dl/-rf"
check "ls lists -rf" bash -c "$(declare -f as); work=$work sfts_bin=$sfts_bin; as alice ls | grep -q ' -rf\$'"
check "rm -- -rf" as alice rm -- -rf
check "-rf is gone" bash -c "$(declare -f as); work=$work sfts_bin=$sfts_bin; ! as alice ls | grep -q -- '-rf\$'"
expect_exit "a name of spaces is refused" 2 "cannot be blank" as alice put "$work/f.bin" --as "   "
expect_exit "a single space is refused" 2 "cannot be blank" as alice put "$work/f.bin" --as " "
expect_exit "a zero-width space is refused" 2 "cannot be blank" as alice put "$work/f.bin" --as $'\u200b'
expect_exit "an empty name is refused" 2 "" as alice put "$work/f.bin" --as ""
check "nothing blank was stored" bash -c "! ls -A '$work/server/state/files' | grep -qx ' *'"
odd=(" lead" "trail " "two  spaces" "it's" $'line\u2028sep' $'bidi\u202etxt.exe' 'dollar$HOME' "plain.txt")
for n in "${odd[@]}"; do check "upload $(printf %q "$n")" as alice put "$work/f.bin" --as "$n"; done
as alice ls > "$work/ls.odd" 2>&1
check "ls quotes a trailing space" grep -qF "'trail '" "$work/ls.odd"
check "ls quotes a leading space" grep -qF "' lead'" "$work/ls.odd"
check "ls quotes an apostrophe as the shell does" grep -qF "'it'\\''s'" "$work/ls.odd"
check "ls escapes a line separator" grep -qF "'line'\$'\\u2028''sep'" "$work/ls.odd"
check "ls escapes a bidi override" grep -qF "'bidi'\$'\\u202e''txt.exe'" "$work/ls.odd"
check "ls leaves a plain name alone" grep -qE " plain\.txt\$" "$work/ls.odd"
check "no raw line separator or bidi override on the screen" bash -c "! LC_ALL=C grep -q \$'\\xe2\\x80[\\xa8\\xae]' '$work/ls.odd'"
# Each listed name, pasted into a shell, is the name: get it back with exactly that.
while IFS= read -r line; do
  quoted=${line:118}  # after "%12llu  %s  %s  %-16s " (size, time, SHA-256, uploader alice)
  name=$(bash -c "printf %s $quoted" 2>/dev/null) || name=
  [[ -n $name ]] && rm -f "$work/dl/$name"
  if [[ -n $name ]] && as alice get -o "$work/dl" -- "$name" >/dev/null 2>&1 && cmp -s "$work/f.bin" "$work/dl/$name"; then pass=$((pass + 1))
  else fail=$((fail + 1)); echo "FAIL: the listed name $quoted does not get the file back"; fi
done < <(grep -F -- "$(sha256sum "$work/f.bin" | cut -c1-64)" "$work/ls.odd")
check "all ${#odd[@]} names were listed" test "$(grep -cF -- "$(sha256sum "$work/f.bin" | cut -c1-64)" "$work/ls.odd")" -eq ${#odd[@]}
check "sfts-admin takes '--' before positional arguments" admin user show -- alice
check "sfts-admin: '--' then an address" admin block add --hours 1 --reason test -- 127.0.0.7
check "sfts-admin: '--' then an address (remove)" admin block remove -- 127.0.0.7

# --- item 8: hostile names never reach a log raw
forged='2026-01-01T00:00:00.000Z Information [1] forged: admin logged in'
expect_exit "a name with a newline is refused" 2 "control character" as alice put "$work/f.bin" --as $'x\n'"$forged"
expect_exit "a name with ESC [2J is refused" 2 "control character" as alice put "$work/f.bin" --as $'\e[2Jclear'
expect_exit "get of a name with a newline is refused" 2 "" as alice get -o "$work/dl" -- $'y\n'"$forged"
clog=$work/alice/state/sfts.log
slog=$work/server/log
check "the client log has no forged line" bash -c "! grep -q '^2026-01-01T00:00:00.000Z Information \[1\] forged' '$clog'"
check "the client log shows the newline escaped" grep -qF "x\\n$forged" "$clog"
check "the client log shows ESC escaped" grep -qF '\x1b[2Jclear' "$clog"
check "the client log shows the line separator escaped" grep -qF 'line\u2028sep' "$clog"
check "the server log shows the line separator and bidi override escaped" bash -c "grep -qF 'line\\u2028sep' '$slog' && grep -qF 'bidi\\u202etxt.exe' '$slog'"
for f in "$clog" "$slog"; do
  check "no control byte in $(basename "$f") (only newlines end lines)" bash -c "! LC_ALL=C grep -q \$'[\\x01-\\x08\\x0b-\\x1f\\x7f]' '$f' && ! LC_ALL=C grep -q \$'\\r' '$f'"
  check "no raw line separator, bidi override or C1 in $(basename "$f")" bash -c "! LC_ALL=C grep -q \$'\\xe2\\x80[\\xa8\\xa9\\xaa-\\xae]\\|\\xc2[\\x80-\\x9f]' '$f'"
  check "every line of $(basename "$f") starts with a timestamp" bash -c "! grep -qvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' '$f'"
done

# --- items 12 and 14: a server that hangs up before TLS
# Fill the connection cap (4) with silent connections; they hold it until we close them.
exec 5<>"/dev/tcp/127.0.0.1/$file_port" 6<>"/dev/tcp/127.0.0.1/$file_port" 7<>"/dev/tcp/127.0.0.1/$file_port" 8<>"/dev/tcp/127.0.0.1/$file_port"
sed 's/^\[server\]$/[server]\nconnect_retries = 0/' "$work/alice/sfts.conf" > "$work/alice/noretry.conf"
noretry() { SOFTHSM2_CONF=$work/alice/softhsm2.conf "$sfts_bin" --config "$work/alice/noretry.conf" --quiet "$@"; }
refused=no
for _ in $(seq 1 120); do  # the server counts them once its workers take them up
  noretry ls >"$work/probe" 2>&1; rc=$?
  if [[ $rc -eq 10 ]] && grep -q "closed the connection before TLS began" "$work/probe"; then refused=yes; break; fi
  sleep 0.5
done
check "with the cap full a client is refused before TLS ($(tail -1 "$work/probe"))" test "$refused" = yes
[[ $refused == yes ]] || { echo "connections to the file port:"; ss -tn "( dport = :$file_port or sport = :$file_port )" | sed 's/^/    /'; }
check "the refusal names the likely causes" grep -q "may be blocked by the server.*overloaded" "$work/probe"
check "the server logged the cap" grep -q "refused connection from 127.0.0.1: server connection limit reached" "$slog"
# The same client with retries, started while the cap is full, freed once it has been refused.
sed 's/^\[server\]$/[server]\nconnect_retries = 6\nconnect_retry_ms = 60000/' "$work/alice/sfts.conf" > "$work/alice/retry.conf"
: > "$clog"
# (without the held sockets: a copy in the client would keep them open)
SOFTHSM2_CONF=$work/alice/softhsm2.conf "$sfts_bin" --config "$work/alice/retry.conf" --quiet ls >"$work/retry.out" 2>&1 5>&- 6>&- 7>&- 8>&- &
retry_pid=$!
for _ in $(seq 1 600); do grep -q "retrying in" "$clog" && break; kill -0 "$retry_pid" 2>/dev/null || break; sleep 0.1; done
check "the client logged a retry while the cap was full" grep -q "closed the connection before TLS began (try 1 of 7); retrying in" "$clog"
exec 5>&- 6>&- 7>&- 8>&-
wait "$retry_pid"; rc=$?
check "once the cap frees up the retrying client gets in (exit $rc: $(tail -1 "$work/retry.out"))" test "$rc" -eq 0
check "it logged in after retrying" grep -q "login as 'alice' .*: ok" "$clog"

# A permanently blocked source: the default retries (4 within 10 s), then the item 12 message.
check "admin blocks 127.0.0.9" admin block add 127.0.0.9 --hours 1 --reason "client test"
sed 's/^\[server\]$/[server]\nsource_address = 127.0.0.9/' "$work/alice/sfts.conf" > "$work/alice/blocked.conf"
: > "$clog"
start=$(date +%s%N)
expect_exit "a blocked source gives up with the likely cause" 10 "closed the connection before TLS began (.* tries in .* s): this address may be blocked" \
  env SOFTHSM2_CONF=$work/alice/softhsm2.conf "$sfts_bin" --config "$work/alice/blocked.conf" --quiet ls
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
tries=$(grep -c "retrying in" "$clog")
check "it retried (logged $tries retries)" test "$tries" -ge 2
check "within the bound: ${elapsed} ms <= 10 s of pauses + 20 s for the tries themselves" test "$elapsed" -le 30000
check "the client log has the final message" grep -q "this address may be blocked" "$clog"
# A TLS failure is not a hang-up before TLS: no retry, not this message.
mkdir -p "$work/eve"
cp -r "$work/alice/." "$work/eve/"
sed -i "s#$work/alice/#$work/eve/#g" "$work/eve/sfts.conf"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/eve/other-ca.key" -subj "/CN=Other CA" -days 2 -out "$work/eve/state/ca.crt" 2>/dev/null
: > "$work/eve/state/sfts.log"
expect_exit "a server certificate from another CA fails at once" 6 "" \
  env SOFTHSM2_CONF=$work/eve/softhsm2.conf "$sfts_bin" --config "$work/eve/sfts.conf" --quiet ls
check "and is not retried" bash -c "! grep -q 'retrying\|before TLS' '$work/eve/state/sfts.log'"

finish
