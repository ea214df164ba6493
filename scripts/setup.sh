#!/usr/bin/env bash
# Installs every Debian 12 package sfts needs to build, test and run. Idempotent: packages
# already installed are skipped, and nothing is downloaded when none is missing.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config git ca-certificates clang libclang-rt-14-dev llvm-14
  # crypto and tokens
  openssl libssl-dev libp11-dev libengine-pkcs11-openssl softhsm2 opensc p11-kit libp11-kit-dev
  # other tokens in the tests (tests/support/tokens.sh): a software TPM 2.0 behind tpm2-pkcs11
  swtpm swtpm-tools tpm2-abrmd libtss2-tcti-tabrmd0 libtpm2-pkcs11-1 libtpm2-pkcs11-tools tpm2-tools dbus python3
  # ... opencryptoki's software token
  opencryptoki
  # POCO (Net, NetSSL, Util, Data + SQLite), SQLite CLI
  libpoco-dev libsqlite3-dev sqlite3
  # tests, UI, login and password policy, systemd integration
  libboost-test-dev libncurses-dev libgsasl-dev libpwquality-dev cracklib-runtime libsystemd-dev
  # PBKDF2 for the client's SCRAM SaltedPassword (OpenSSL 3's is 3.5x slower; docs/benchmarks.md)
  nettle-dev
  # test and demo tools
  procps psmisc systemd tmux openssh-server openssh-client time python3-minimal
  # fault tests (chattr, prlimit, unshare), TLS scanning, packaging and man page checks
  e2fsprogs util-linux testssl.sh bsdextrautils bind9-dnsutils jq xxd
  dpkg-dev init-system-helpers groff-base man-db shellcheck lintian
  # clock moved for one process (crl_refresh_test: the CRL past its nextUpdate)
  faketime
  # ops_boot_test: a Debian root booted with systemd as PID 1
  systemd-container debootstrap
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=(sudo)
fi
echo "setup: installing ${missing[*]}"
"${SUDO[@]}" apt-get update -q
DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
