# Shared by the end-to-end tests: a server with its own SoftHSM2 store and PKI, clients with
# theirs, all in one throwaway directory, on loopback ports chosen by the kernel.
# Source it, then call e2e_init.

bin=${SFTS_BINARY_DIR:?}
src=${SFTS_SOURCE_DIR:?}
admin_bin=$bin/server/sfts-admin
sftsd_bin=$bin/server/sftsd
sfts_bin=$bin/client-tui/sfts
pass=0 fail=0
source "$src/tests/support/tokens.sh"
# Which PKCS#11 implementation holds the server's token and the next make_client's token:
# softhsm (default), tpm, p11kit (a SoftHSM2 token behind p11-kit server) or opencryptoki (its
# one software token: the server's only).
e2e_server_token=${e2e_server_token:-softhsm}
e2e_client_token=${e2e_client_token:-softhsm}

# token_init DIR LABEL KIND: a token labelled LABEL with DIR/so-pin and DIR/pin (SoftHSM2's
# store in DIR/tokens); sets token_module to the module that reaches it.
token_init() {
  case $3 in
    softhsm) token_module=$softhsm_module
      SOFTHSM2_CONF=$1/softhsm2.conf "$admin_bin" token init --module "$softhsm_module" --label "$2" \
        --so-pin "file:$1/so-pin" --pin "file:$1/pin" >/dev/null ;;
    tpm) token_module=$tpm_module
      [[ -n ${tpm_port:-} ]] || tpm_start "$work/tpm" || return 1
      tpm_token "$2" "$1/so-pin" "$1/pin" ;;
    p11kit) token_init "$1" "$2" softhsm && p11kit_start "$1/p11kit" "$1/softhsm2.conf" "$2" &&
      token_module=$p11kit_client_module ;;
    opencryptoki) token_module=$ock_module
      [[ -n $ock_dir ]] || ock_start "$work/ock" || return 1
      # its software token: PINs of 4-8 characters, the SO PIN as shipped (87654321)
      printf 87654321 > "$1/so-pin"; printf '%08d' $(((RANDOM * 32768 + RANDOM) % 100000000)) > "$1/pin"
      "$admin_bin" token init --module "$ock_module" --label "$2" --so-pin "file:$1/so-pin" --pin "file:$1/pin" >/dev/null ;;
    *) echo "token_init: unknown token kind $3" >&2; return 1 ;;
  esac
}

# SFTS_E2E_EXTRA_CONF: more INI lines for the server (set before e2e_init).
e2e_init() {
  work=$(mktemp -d /tmp/sfts-e2e-XXXXXX)
  trap e2e_cleanup EXIT
  mkdir -p "$work/server/tokens" "$work/server/state"
  umask "${SFTS_E2E_UMASK:-077}"  # SFTS_E2E_UMASK: the umask the server side runs under (daemon_test.sh: 022)
  printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$work/server/tokens" > "$work/server/softhsm2.conf"
  secret "$work/server/so-pin"; secret "$work/server/pin"
  printf 'correct horse battery staple' > "$work/server/site-secret"; chmod 600 "$work/server/site-secret"
  token_init "$work/server" server "$e2e_server_token" || exit 1
  cat > "$work/server/sftsd.conf" <<CONF
[paths]
state_dir = $work/server/state
[hsm]
module = $token_module
token = pkcs11:token=server
pin = file:$work/server/pin
[server]
listen = 127.0.0.1
file_port = 0
enroll_port = 0
ports_file = $work/server/ports
[auth]
site_secret = file:$work/server/site-secret
scram_iterations = 4096
[log]
level = debug
${SFTS_E2E_EXTRA_CONF:-}
CONF
  SOFTHSM2_CONF=$work/server/softhsm2.conf "$admin_bin" --config "$work/server/sftsd.conf" init >/dev/null
}

e2e_cleanup() {
  stop_server
  tokens_cleanup
  if ((fail > 0)) && [[ -f $work/server/log ]]; then echo "--- server log (tail)"; tail -40 "$work/server/log"; fi
  rm -rf "$work"
}

secret() { head -c 15 /dev/urandom | base64 | tr -d '/+=\n' > "$1"; chmod 600 "$1"; }

# flip_byte FILE OFFSET: changes the byte at OFFSET to a different value (writing a fixed byte
# leaves a random file unchanged once in 256 runs: a flaky "corruption").
flip_byte() {
  local b
  b=$(od -An -tu1 -j "$2" -N 1 "$1" | tr -d ' ')
  [[ -n $b ]] || { echo "flip_byte: $1 has no byte at offset $2" >&2; return 1; }
  printf "\\x$(printf %02x $(( b ^ 0xff )))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

admin() { SOFTHSM2_CONF=$work/server/softhsm2.conf "$admin_bin" --config "$work/server/sftsd.conf" "$@"; }

# sftsd_wrapper: a command that sftsd runs under, e.g. (prlimit --fsize=N --); empty by default.
sftsd_wrapper=()
start_server() {
  rm -f "$work/server/ports"
  SOFTHSM2_CONF=$work/server/softhsm2.conf ${sftsd_wrapper[@]+"${sftsd_wrapper[@]}"} "$sftsd_bin" --config="$work/server/sftsd.conf" >>"$work/server/log" 2>&1 &
  server_pid=$!
  # Until the ports file is written (sftsd writes it once both ports listen), bounded generously:
  # a busy machine can take many seconds to log in to the token.
  local end=$((SECONDS + 120))
  until [[ -s $work/server/ports ]]; do
    kill -0 "$server_pid" 2>/dev/null || { echo "sftsd died:"; tail -20 "$work/server/log"; return 1; }
    ((SECONDS < end)) || { echo "sftsd wrote no ports file in 120 s:"; tail -20 "$work/server/log"; return 1; }
    sleep 0.1
  done
  read -r f e < "$work/server/ports"
  file_port=${f#file=}; enroll_port=${e#enroll=}
}

stop_server() {
  if [[ -n ${server_pid:-} ]]; then kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; server_pid=; fi
}

# make_client NAME: a token and a configuration for user NAME in $work/NAME
make_client() {
  local c=$work/$1
  mkdir -p "$c/tokens"
  printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$c/tokens" > "$c/softhsm2.conf"
  secret "$c/so-pin"; secret "$c/pin"
  printf 'Zebra-Quartz-%s-91' "$(head -c 6 /dev/urandom | base64 | tr -d '/+=')" > "$c/password"; chmod 600 "$c/password"
  token_init "$c" "$1-token" "$e2e_client_token" || return 1
  cat > "$c/sfts.conf" <<CONF
[server]
host = 127.0.0.1
file_port = $file_port
enroll_port = $enroll_port
[token]
module = $token_module
uri = pkcs11:token=$1-token
pin = file:$c/pin
[user]
name = $1
password = file:$c/password
[paths]
dir = $c/state
CONF
}

# ready_client NAME [ROLE]: make_client, enrolled with the site secret, first password set and,
# if given, ROLE granted; each step is a check.
ready_client() {
  make_client "$1"
  check "enroll $1" as "$1" enroll --secret "file:$work/server/site-secret"
  check "$1's first login" as "$1" ls --new-password "file:$work/$1/password"
  if (($# > 1)); then check "$1 gets role $2" admin user role "$1" "$2"; fi
}

# as NAME sfts-args...: runs the client as NAME
as() { local n=$1; shift; SOFTHSM2_CONF=$work/$n/softhsm2.conf "$sfts_bin" --config "$work/$n/sfts.conf" --quiet "$@"; }

# wait_for SECONDS COMMAND...: polls COMMAND (every 50 ms) until it succeeds; fails after
# SECONDS. Tests wait for a condition like this, never for a fixed time.
wait_for() {
  local end=$((SECONDS + $1)); shift
  until "$@"; do
    ((SECONDS < end)) || return 1
    sleep 0.05
  done
}

# log_count PATTERN: how many lines of the server log match PATTERN (grep -E), to wait for one more.
log_count() { grep -cE -- "$1" "$work/server/log" 2>/dev/null || true; }
# log_grew PATTERN N: the server log has more than N lines matching PATTERN.
log_grew() { (($(log_count "$1") > $2)); }

check() {  # check NAME COMMAND...: must succeed
  local name=$1; shift
  if "$@" >"$work/out" 2>&1; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $name"; sed 's/^/    /' "$work/out" | tail -15; fi
}

expect_exit() {  # expect_exit NAME CODE PATTERN COMMAND...: exit code and output must match
  local name=$1 code=$2 pattern=$3; shift 3
  "$@" >"$work/out" 2>&1
  local rc=$?
  if [[ $rc -eq $code ]] && grep -q -- "$pattern" "$work/out"; then pass=$((pass + 1))
  else fail=$((fail + 1)); echo "FAIL: $name (exit $rc, wanted $code and /$pattern/)"; sed 's/^/    /' "$work/out" | tail -15; fi
}

# tls_refused NAME s_client-args...: the file service must refuse this TLS client. A TLS 1.3
# client's handshake ends before the server judges its certificate, so the verdict is waited
# for, not timed: stdin carries a frame header of a type that does not exist and -ign_eof
# keeps s_client reading until the server closes. A server that accepted the client would
# read that frame and answer "unknown message type"; one that refused it sends its alert.
tls_refused() {
  local name=$1; shift
  printf '\0\0\0\0\377' | timeout 120 openssl s_client -ign_eof -connect "127.0.0.1:$file_port" -CAfile "$work/server/state/ca.crt" "$@" >"$work/out" 2>&1
  if grep -aqE "alert|Cipher is \(NONE\)|no protocols available|unexpected eof|errno=104" "$work/out" &&
     ! grep -aq "unknown message type" "$work/out" && ! grep -aq "^read R BLOCK" "$work/out"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1)); echo "FAIL: $name"; sed 's/^/    /' "$work/out" | tail -12
  fi
}

finish() {
  echo "$pass passed, $fail failed"
  ((fail == 0))
}
