# Shared by bench/run.sh: an sftsd with its own SoftHSM2 tokens and PKI, enrolled clients, an
# OpenSSH server set up as in shared/peers/README.md, timing and memory helpers. Everything lives
# in $work and listens on 127.0.0.1 only. Processes are started and stopped by their own PIDs.

# ---- helpers

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }
now_ns() { date +%s%N; }

secret() { head -c 15 /dev/urandom | base64 | tr -d '/+=\n' > "$1"; chmod 600 "$1"; }

# median of the numbers on stdin (one per line)
median() {
  sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan"; exit }
    if (NR % 2) printf "%.6g\n", v[(NR + 1) / 2]; else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# calc EXPR: floating point arithmetic (awk), e.g. calc "1073741824 / 1.23 / 1e6"
calc() { awk "BEGIN { x = $1; printf \"%.6g\n\", x }"; }

# status_kib PID FIELD: VmRSS, VmHWM... of a process, in KiB
status_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null || true; }

# descendants PID: every process below PID
descendants() {
  local c
  for c in $(pgrep -P "$1"); do echo "$c"; descendants "$c"; done
}

# tree_hwm_sampler PID OUT: until killed, writes to OUT the largest sum of VmHWM (KiB) seen over
# the processes below PID (sshd's per-connection processes; VmHWM only grows while they live).
# With BENCH_BOOST set (run.sh --boost) it also gives their autogroups that nice: sshd's
# per-connection processes call setsid(), which puts them outside the bench's boosted session.
tree_hwm_sampler() {
  set +e  # processes come and go while it reads them
  local root=$1 out=$2 max=0 total p h
  echo 0 > "$out"
  while :; do
    total=0
    for p in $(descendants "$root"); do
      h=$(status_kib "$p" VmHWM); total=$((total + ${h:-0}))
      [[ -n ${BENCH_BOOST:-} ]] && { echo "$BENCH_BOOST" > "/proc/$p/autogroup"; } 2>/dev/null  # it may have exited
    done
    if ((total > max)); then max=$total; echo "$max" > "$out"; fi
    sleep 0.05
  done
}

# port_in_use PORT: something accepts connections on 127.0.0.1:PORT
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
  local p
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 40000))
    port_in_use "$p" || { echo "$p"; return 0; }
  done
  return 1
}

# timed NAME CMD...: runs CMD with its output in $work/out/NAME.log; sets t_s (wall seconds),
# rss_kib (peak RSS of CMD, and of its children it waited for, from GNU time) and cpu_s (user +
# system CPU seconds of CMD and those children). Fails the suite if CMD fails: a benchmark of a
# failing command measures nothing.
timed() {
  local name=$1; shift
  local log=$work/out/$name.log t0 t1 r
  t0=$(now_ns)
  if ! /usr/bin/time -f '%M %U %S' -o "$work/out/$name.rss" "$@" > "$log" 2>&1; then
    echo "bench: FAILED: $name: $*" >&2; tail -20 "$log" | sed 's/^/    /' >&2
    return 1
  fi
  t1=$(now_ns)
  t_s=$(calc "($t1 - $t0) / 1e9")
  r=$(tail -1 "$work/out/$name.rss")
  rss_kib=${r%% *}
  cpu_s=$(awk '{ print $2 + $3 }' <<< "$r")
}

# cpu_ticks PID: user + system CPU of a process, plus that of the children it has reaped
# (sshd's finished sessions), in clock ticks
cpu_ticks() { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat"; }
clk_tck=$(getconf CLK_TCK)

# ---- sfts: server and clients

sfts_server_config() {  # sfts_server_config ITERATIONS
  local threads=$((idle_sessions + 16)) maxconn=$((idle_sessions + 64))
  ((threads < 64)) && threads=64
  ((maxconn < 256)) && maxconn=256
  cat > "$work/srv/sftsd.conf" <<CONF
[paths]
state_dir = $work/srv/state
[hsm]
token = pkcs11:token=bench-server
pin = file:$work/srv/pin
[server]
listen = 127.0.0.1
file_port = 0
enroll_port = 0
ports_file = $work/srv/ports
threads = $threads
max_connections = $maxconn
[auth]
site_secret = file:$work/srv/site-secret
scram_iterations = $1
[log]
file = $work/srv/sftsd.log
CONF
  # All bench clients come from 127.0.0.1 and from one or two users: the abuse limits per source
  # and per user (connection and command rates, connections per source, transfers per user)
  # would throttle or block the load cases, so the bench safe-lists loopback (when this build
  # has those options; see docs/benchmarks.md for what the defaults would cost).
  local defaults
  defaults=$("$bin/server/sfts-admin" config defaults 2>/dev/null || true)
  if grep -q "^safe_list *=" <<< "$defaults"; then printf "[abuse]\nsafe_list = 127.0.0.0/8\n" >> "$work/srv/sftsd.conf"; fi
  if grep -q "^max_transfers_per_user *=" <<< "$defaults"; then
    printf "[limits]\nmax_transfers_per_user = %d\n" $((load_clients > 4 ? load_clients : 4)) >> "$work/srv/sftsd.conf"
  fi
}

admin() { SOFTHSM2_CONF=$work/srv/softhsm2.conf "$bin/server/sfts-admin" --config "$work/srv/sftsd.conf" "$@"; }

sfts_server_init() {
  mkdir -p "$work/srv/tokens" "$work/srv/state"
  printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$work/srv/tokens" > "$work/srv/softhsm2.conf"
  secret "$work/srv/so-pin"; secret "$work/srv/pin"; secret "$work/srv/site-secret"
  sfts_server_config 600000
  admin token init --label bench-server --so-pin "file:$work/srv/so-pin" --pin "file:$work/srv/pin" > /dev/null
  admin init > /dev/null
}

start_sftsd() {
  rm -f "$work/srv/ports"
  SOFTHSM2_CONF=$work/srv/softhsm2.conf "$bin/server/sftsd" --config="$work/srv/sftsd.conf" >> "$work/srv/stderr" 2>&1 &
  sftsd_pid=$!
  for _ in $(seq 1 200); do
    [[ -s $work/srv/ports ]] && break
    kill -0 "$sftsd_pid" 2>/dev/null || { tail -20 "$work/srv/stderr" "$work/srv/sftsd.log" >&2; die "sftsd died"; }
    sleep 0.05
  done
  [[ -s $work/srv/ports ]] || die "sftsd did not start listening"
  local f e
  read -r f e < "$work/srv/ports"
  file_port=${f#file=}; enroll_port=${e#enroll=}
}

stop_sftsd() {
  if [[ -n ${sftsd_pid:-} ]]; then kill "$sftsd_pid" 2>/dev/null || true; wait "$sftsd_pid" 2>/dev/null || true; sftsd_pid=; fi
}

# make_client NAME: a token, a password and a configuration for user NAME in $work/NAME
make_client() {
  local c=$work/$1
  mkdir -p "$c/tokens"
  printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$c/tokens" > "$c/softhsm2.conf"
  secret "$c/so-pin"; secret "$c/pin"
  printf 'Zebra-Quartz-%s-17' "$(head -c 6 /dev/urandom | base64 | tr -d '/+=')" > "$c/password"; chmod 600 "$c/password"
  SOFTHSM2_CONF=$c/softhsm2.conf "$bin/server/sfts-admin" token init --label "$1-token" --so-pin "file:$c/so-pin" \
    --pin "file:$c/pin" > /dev/null
  write_client_config "$1"
}

write_client_config() {
  local c=$work/$1
  cat > "$c/sfts.conf" <<CONF
[server]
host = 127.0.0.1
file_port = $file_port
enroll_port = $enroll_port
[token]
uri = pkcs11:token=$1-token
pin = file:$c/pin
[user]
name = $1
password = file:$c/password
[paths]
dir = $c/state
CONF
}

# as NAME ARGS...: the sfts command as user NAME
as() { local n=$1; shift; SOFTHSM2_CONF=$work/$n/softhsm2.conf "$bin/client-tui/sfts" --config "$work/$n/sfts.conf" --quiet "$@"; }

# enroll_with_password NAME: enrollment, then the first login sets the password (at the
# server's current scram_iterations), then the admin role (may overwrite and delete).
enroll_with_password() {
  as "$1" enroll --secret "file:$work/srv/site-secret" > /dev/null || die "enrollment of $1 failed"
  as "$1" ls --new-password "file:$work/$1/password" > "$work/$1/first-login.log" 2>&1 \
    || { cat "$work/$1/first-login.log" >&2; die "first login of $1 failed"; }
  admin user role "$1" admin > /dev/null
}

# clear_peak PID: resets VmHWM to the current RSS (Linux clear_refs "5"), so that the next
# reading is the peak of what ran in between.
clear_peak() { echo 5 > "/proc/$1/clear_refs"; }

# ---- OpenSSH, as in shared/peers/README.md

ssh_init() {
  local s=$work/ssh
  mkdir -p "$s"
  [[ -x /usr/sbin/sshd ]] || die "no /usr/sbin/sshd (apt-get install openssh-server openssh-client)"
  command -v sftp > /dev/null || die "no sftp (apt-get install openssh-client)"
  ssh-keygen -q -t ed25519 -N '' -f "$s/ssh_host_ed25519_key"
  ssh-keygen -q -t ed25519 -N '' -f "$s/id_ed25519"
  cp "$s/id_ed25519.pub" "$s/authorized_keys"
  [[ -d /run/sshd ]] || { mkdir -p /run/sshd && chmod 0755 /run/sshd; }  # sshd refuses to start without it
}

ssh_config_files() {
  local s=$work/ssh
  echo "[127.0.0.1]:$ssh_port $(cut -d' ' -f1,2 "$s/ssh_host_ed25519_key.pub")" > "$s/known_hosts"
  # MaxStartups: the 50-client case opens 50 connections at once; the default (10:30:100)
  # would drop some of them before authentication.
  cat > "$s/sshd_config" <<CONF
Port $ssh_port
ListenAddress 127.0.0.1
HostKey $s/ssh_host_ed25519_key
PidFile $s/sshd.pid
AuthorizedKeysFile $s/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
StrictModes no
Ciphers aes128-gcm@openssh.com,aes256-gcm@openssh.com
Subsystem sftp internal-sftp
MaxStartups 200
CONF
  cat > "$s/ssh_config" <<CONF
Host bench
  HostName 127.0.0.1
  Port $ssh_port
  User $(id -un)
  IdentityFile $s/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $s/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  Compression no
CONF
}

start_sshd() {
  for _ in 1 2 3 4 5; do
    ssh_port=$(free_port) || die "no free port for sshd"
    ssh_config_files
    /usr/sbin/sshd -D -f "$work/ssh/sshd_config" -e >> "$work/ssh/sshd.log" 2>&1 &
    sshd_pid=$!
    for _ in $(seq 1 100); do
      port_in_use "$ssh_port" && return 0
      kill -0 "$sshd_pid" 2>/dev/null || break
      sleep 0.05
    done
    kill "$sshd_pid" 2>/dev/null; wait "$sshd_pid" 2>/dev/null; sshd_pid=
  done
  tail -5 "$work/ssh/sshd.log" >&2
  die "sshd did not start"
}

stop_sshd() {
  if [[ -n ${sshd_pid:-} ]]; then kill "$sshd_pid" 2>/dev/null || true; wait "$sshd_pid" 2>/dev/null || true; sshd_pid=; fi
}
