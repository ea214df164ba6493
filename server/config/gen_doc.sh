#!/usr/bin/env bash
# Prints the option tables of docs/configuration.md from `sfts-admin config defaults`:
#   server/config/gen_doc.sh build/server/sfts-admin
# One table per section; tests/ops/ops_config_test.sh checks the document against the binary.
set -euo pipefail
"${1:?usage: gen_doc.sh SFTS_ADMIN}" config defaults | awk '
  /^\[/ { s = substr($0, 2, length($0) - 2); printf "\n### [%s]\n\n| option | default | meaning |\n|---|---|---|\n", s; next }
  /^;/ { help = substr($0, 3); next }
  /^[a-z_0-9]+ *=/ {
    k = $1; v = $0; sub(/^[^=]*= ?/, "", v)
    d = (v == "") ? "*(empty)*" : "`" v "`"
    gsub(/\|/, "\\|", help)
    printf "| `%s.%s` | %s | %s |\n", s, k, d, help
  }'
