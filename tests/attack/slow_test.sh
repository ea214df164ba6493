#!/usr/bin/env bash
# Many slow and half-open connections at once (slowloris in the TLS handshake and inside a
# frame, ClientHello then silence, plain silence) from 40 loopback addresses, against both
# ports, while a logged-in client transfers; then oversized length prefixes. The server's
# threads and memory are read from /proc during the flood and must stay bounded; the service
# must go on. abuse_test covers single slow clients; this is the many-connections version.
set -uo pipefail
source "$(dirname "$0")/../e2e/lib.sh"
threads=32
SFTS_E2E_EXTRA_CONF="[abuse]
safe_list = 127.0.0.1
[limits]
handshake_timeout_ms = 2000
frame_timeout_ms = 3000
[server]
threads = $threads"
# (a second [server] section: the INI reader merges sections of the same name)
e2e_init
start_server || exit 1
flood=$bin/tests/attack/flood_client

ready_client alice admin
# (no settling wait: threads still held by the setup's sessions would only raise the bound)
idle_threads=$(awk '/^Threads:/ {print $2}' "/proc/$server_pid/status")
echo "server idle: $idle_threads threads, $(awk '/^VmRSS:/ {print int($2/1024)}' "/proc/$server_pid/status") MiB RSS"
# The bound: the file workers, the enrollment workers (8), and the fixed threads found idle
# minus the pool threads already counted in them.
max_threads=$((threads + 8 + idle_threads))

start=$(date +%s)
check "1100 hostile connections from 40 addresses: bounded, all closed, transfer intact" \
  env SOFTHSM2_CONF=$work/alice/softhsm2.conf "$flood" flood "$work/alice/sfts.conf" "$server_pid" 1000 40 20 "$max_threads" 160
grep -E '^(server|victim|hostile|a new client|[0-9]+ (hostile|connections)|  (file|enrollment))' "$work/out"
echo "flood: $(($(date +%s) - start)) s"
check "the server is still up" kill -0 "$server_pid"
t0=$(date +%s%N)
check "the server answers a new client after the flood" as alice ls
echo "ls after the flood: $(( ($(date +%s%N) - t0) / 1000000 )) ms"

rss_before=$(awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status")
check "oversized length prefixes and fields refused at once" \
  env SOFTHSM2_CONF=$work/alice/softhsm2.conf "$flood" oversize "$work/alice/sfts.conf"
grep -E '^(ok|FAIL)' "$work/out" | sed 's/^/    /'
rss_after=$(awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status")
check "no length prefix was allocated (RSS grew $(( (rss_after - rss_before) / 1024 )) MiB < 64 MiB)" \
  test $((rss_after - rss_before)) -lt $((64 * 1024))
check "the server is still up after the oversized frames" kill -0 "$server_pid"
check "no internal error in the server log" bash -c "! grep -q 'internal error' '$work/server/log'"
check "and it still serves" as alice ls

finish
