# Test tokens other than SoftHSM2, for the end-to-end tests (tests/e2e/token_test.sh): a software
# TPM 2.0 behind tpm2-pkcs11, a SoftHSM2 token exported over a unix socket by `p11-kit server`
# (a stand-in for a network HSM), and opencryptoki's software token (root only: its slot daemon
# and state are machine-wide). Every daemon is started here, on kernel-chosen loopback ports or
# sockets in the test's own directory, and stopped by tokens_cleanup. Source it; bash only.
#
# TPM: swtpm (on two consecutive free loopback ports), a
# private dbus-daemon and tpm2-abrmd as resource manager (without one, every process using the
# engine leaves transient objects behind and the TPM runs out of object slots), and a
# TPM2_PKCS11_STORE in the test's directory.

tpm_module=/usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so
p11kit_client_module=/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so
softhsm_module=/usr/lib/softhsm/libsofthsm2.so
ock_module=/usr/lib/x86_64-linux-gnu/pkcs11/libopencryptoki.so
ock_swtok=/var/lib/opencryptoki/swtok
ock_slot=3  # the software token's slot in Debian's /etc/opencryptoki/opencryptoki.conf
tokens_pids=()
ock_dir=

# tokens_wait_for SECONDS WHAT COMMAND...: polls COMMAND until it succeeds; fails naming WHAT
tokens_wait_for() {
  local secs=$1 what=$2; shift 2
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= end)); then echo "timed out after ${secs}s waiting for $what" >&2; return 1; fi
    sleep 0.2
  done
}

# tpm_start DIR: a fresh software TPM with a resource manager; exports TPM2_PKCS11_TCTI,
# TPM2_PKCS11_STORE (DIR/store) and DBUS_SESSION_BUS_ADDRESS for every process started later.
tpm_start() {
  local dir=$1
  mkdir -p "$dir/state" "$dir/store"
  # Two consecutive loopback ports the kernel reports free (the swtpm TCTI wants control =
  # server + 1); should another process take one before swtpm binds it, swtpm exits and the
  # next pair is tried.
  local try
  for try in 1 2 3 4 5 6 7 8; do
    tpm_port=$(python3 -c '
import socket
for _ in range(200):
    a = socket.socket(); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", p + 1)); print(p); break
    except OSError: pass
    finally: a.close(); b.close()') || return 1
    swtpm socket --tpm2 --tpmstate "dir=$dir/state" --flags not-need-init,startup-clear \
      --server "type=tcp,port=$tpm_port,bindaddr=127.0.0.1" --ctrl "type=tcp,port=$((tpm_port + 1)),bindaddr=127.0.0.1" \
      --log "file=$dir/swtpm.log" &
    local swtpm_pid=$!
    # Up when it answers on its control port (bash's /dev/tcp, no extra tool).
    local end=$((SECONDS + 60))
    until (exec 5<>"/dev/tcp/127.0.0.1/$((tpm_port + 1))") 2>/dev/null; do
      kill -0 "$swtpm_pid" 2>/dev/null || break
      ((SECONDS < end)) || { echo "swtpm did not listen within 60s" >&2; kill "$swtpm_pid"; return 1; }
      sleep 0.1
    done
    if kill -0 "$swtpm_pid" 2>/dev/null; then tokens_pids+=("$swtpm_pid"); break; fi
    wait "$swtpm_pid" 2>/dev/null
    tpm_port=
  done
  [[ -n $tpm_port ]] || { echo "swtpm could not bind a port:" >&2; tail -5 "$dir/swtpm.log" >&2; return 1; }
  dbus-daemon --session --nofork --nopidfile --address="unix:path=$dir/bus" >"$dir/dbus.log" 2>&1 &
  tokens_pids+=($!)
  tokens_wait_for 60 "the session bus" test -S "$dir/bus" || return 1
  export DBUS_SESSION_BUS_ADDRESS="unix:path=$dir/bus"
  tpm2-abrmd --session --allow-root --flush-all --tcti="swtpm:host=127.0.0.1,port=$tpm_port" >"$dir/abrmd.log" 2>&1 &
  tokens_pids+=($!)
  export TPM2_PKCS11_TCTI=tabrmd:bus_type=session TPM2TOOLS_TCTI=tabrmd:bus_type=session
  export TPM2_PKCS11_STORE=$dir/store TPM2_PKCS11_LOG_LEVEL=0
  tokens_wait_for 120 "tpm2-abrmd on the session bus" tpm2_getrandom 8 || { tail "$dir/abrmd.log" >&2; return 1; }
  tpm2_ptool init --path="$dir/store" >"$dir/ptool.log" 2>&1 || { cat "$dir/ptool.log" >&2; return 1; }
  tpm_pid=$(sed -n 's/^id: *//p' "$dir/ptool.log")
}

# tpm_token LABEL SO_PIN_FILE PIN_FILE: a new token in the TPM store
tpm_token() {
  tpm2_ptool addtoken --path="$TPM2_PKCS11_STORE" --pid="${tpm_pid:-1}" --label="$1" \
    --sopin="$(cat "$2")" --userpin="$(cat "$3")" >/dev/null
}

# p11kit_start DIR SOFTHSM2_CONF TOKEN_LABEL: exports the SoftHSM2 token TOKEN_LABEL over a unix
# socket in DIR; exports P11_KIT_SERVER_ADDRESS for the p11-kit client module.
p11kit_start() {
  local dir=$1
  mkdir -p "$dir"
  SOFTHSM2_CONF=$2 p11-kit server --foreground --provider "$softhsm_module" --name "$dir/p11kit.sock" \
    "pkcs11:token=$3" >>"$dir/p11kit.log" 2>&1 &
  p11kit_pid=$!
  tokens_pids+=($!)
  tokens_wait_for 60 "p11-kit server's socket" test -S "$dir/p11kit.sock" -a -s "$dir/p11kit.log" || { cat "$dir/p11kit.log" >&2; return 1; }
  export P11_KIT_SERVER_ADDRESS="unix:path=$dir/p11kit.sock"
}

# ock_start DIR: opencryptoki's slot daemon over a fresh software token. Its state is
# machine-wide (/var/lib/opencryptoki/swtok, /dev/shm/var.lib.opencryptoki.*, /run/opencryptoki):
# one test at a time (a lock), what was there is moved to DIR and put back by tokens_cleanup.
ock_start() {
  local dir=$1
  mkdir -p "$dir/swtok-saved"
  exec {ock_lock}>/run/lock/sfts-opencryptoki.lock
  flock -w 600 "$ock_lock" || { echo "opencryptoki is busy (lock held for 600s)" >&2; return 1; }
  if pgrep -x pkcsslotd >/dev/null; then
    echo "a pkcsslotd not started by this test is running: the test needs the machine's opencryptoki to itself" >&2
    return 1
  fi
  ock_dir=$dir
  find "$ock_swtok" -mindepth 1 -maxdepth 1 -exec mv -t "$dir/swtok-saved" {} +
  install -d -o root -g pkcs11 -m 0770 "$ock_swtok/TOK_OBJ" /run/opencryptoki
  rm -f /dev/shm/var.lib.opencryptoki.*
  pkcsslotd -f >"$dir/pkcsslotd.log" 2>&1 &
  tokens_pids+=($!)
  tokens_wait_for 60 "pkcsslotd" pkcsconf -s -c "$ock_slot" || { cat "$dir/pkcsslotd.log" >&2; return 1; }
}

tokens_cleanup() {
  local i
  for ((i = ${#tokens_pids[@]} - 1; i >= 0; i--)); do kill "${tokens_pids[i]}" 2>/dev/null; done
  for i in "${tokens_pids[@]}"; do wait "$i" 2>/dev/null; done
  tokens_pids=()
  if [[ -n $ock_dir ]]; then
    rm -rf "${ock_swtok:?}"/*
    find "$ock_dir/swtok-saved" -mindepth 1 -maxdepth 1 -exec mv -t "$ock_swtok" {} +
    rm -f /dev/shm/var.lib.opencryptoki.*
    ock_dir=
    exec {ock_lock}>&-
  fi
}
