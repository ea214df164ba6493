#!/usr/bin/env bash
# Regenerates the hand-made seed corpora in fuzz/corpus/ (committed; rerun only to refresh them).
# fuzz_decode and fuzz_records seeds come from the protocol test's sample conversations:
#   SFTS_WRITE_FUZZ_CORPUS=fuzz/corpus build/tests/protocol/protocol_test -t write_fuzz_corpus
set -euo pipefail
cd "$(dirname "$0")/corpus"

# fuzz_config: byte 0 bit 0 = server (1) or client (0), then the file. Every option of each
# table at its default (extracted from the option tables), the shipped sample, and small cases.
options() {  # file -> "[section]\nkey = default" for every {"section.key", "default", ...} row
  grep -oE '^\s*\{"[a-z_]+\.[a-z_]+", ("[^"]*"|hsm::kDefaultModulePath)' "$1" |
    sed -E 's/^\s*\{"([a-z_]+)\.([a-z_]+)", "?([^"]*)"?$/\1 \2 \3/; s/hsm::kDefaultModulePath/\/usr\/lib\/softhsm\/libsofthsm2.so/' |
    awk '$1 != sec { printf "%s[%s]\n", (NR > 1 ? "\n" : ""), $1; sec = $1 } { v = $3; for (i = 4; i <= NF; i++) v = v " " $i; print $2 " = " v }'
}
{ printf '\x01'; options ../../server/config/config.cpp; } > fuzz_config/server_defaults
{ printf '\x00'; options ../../client/src/config.cpp; } > fuzz_config/client_defaults
{ printf '\x01'; cat ../../systemd/sftsd.conf.sample; } > fuzz_config/server_sample
printf '\x01[server]\nfile_port = 70000\n' > fuzz_config/server_bad_port
printf '\x01[abuse]\nsafe_list = 10.0.0.0/8, ::1/128\n[hsm]\ntoken = pkcs11:token=a%%20b;serial=1\n' > fuzz_config/server_lists
printf '\x00[server]\nhost = example.org\n[token]\nuri = pkcs11:token=x\npin = env:PIN\n' > fuzz_config/client_small
printf '\x00orphan = 1\n' > fuzz_config/client_outside_section

# fuzz_csr: DER and PEM requests, valid and each kind of policy violation.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl genrsa -out "$tmp/k3072" 3072 2>/dev/null
openssl genrsa -out "$tmp/k2048" 2048 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/kec" 2>/dev/null
req() { local key=$1 out=$2; shift 2; openssl req -new -key "$tmp/$key" -outform DER -out "fuzz_csr/$out" "$@"; }
req k3072 valid -subj /CN=alice
req k3072 valid_utf8_cn -subj /CN=bob.smith_2 -utf8
req k3072 two_cns -subj /CN=alice/CN=bob
req k3072 with_o -subj /O=acme/CN=alice
req k3072 bad_name -subj "/CN=Alice Smith"
req k3072 ext_request -subj /CN=alice -addext subjectAltName=DNS:evil.example
req k2048 small_key -subj /CN=alice
req kec ec_key -subj /CN=alice
openssl req -new -key "$tmp/k3072" -subj /CN=carol -out fuzz_csr/valid.pem
printf '\x30\x82\x00\x00' > fuzz_csr/truncated

# fuzz_scram_server: byte 0 bit 0 = PLUS; client-first NUL client-final (@R nonce, @C binding,
# @P proof are filled in by the harness).
printf '\x01p=tls-exporter,,n=user,r=rOprNGfwEbeRWgbNEkqO\0c=@C,r=@R,p=@P' > fuzz_scram_server/plus_ok
printf '\x00n,,n=user,r=rOprNGfwEbeRWgbNEkqO\0c=@C,r=@R,p=@P' > fuzz_scram_server/plain_ok
printf '\x00n,,n=nobody,r=abc\0c=@C,r=@R,p=@P' > fuzz_scram_server/unknown_user
printf '\x01p=tls-exporter,,n=user,r=abc\0c=biws,r=@R,p=@P' > fuzz_scram_server/wrong_binding
printf '\x00y,,n=user,r=abc' > fuzz_scram_server/downgrade
printf '\x00n,a=admin,n=user,r=abc' > fuzz_scram_server/authzid
printf '\x00n,,n=us=2Cer,r=abc\0c=@C,r=@R,p=AAAA' > fuzz_scram_server/escaped_wrong_proof
printf '\x01p=tls-exporter,,n=user,r=x\0c=@C,r=@R,x=ext,p=@P' > fuzz_scram_server/extension

# fuzz_scram_client: byte 0 bit 0 = PLUS; server-first NUL server-final (@R our nonce, @V the
# right signature).
printf '\x01r=@Rsrv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096\0v=@V' > fuzz_scram_client/plus_ok
printf '\x00r=@Rsrv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096\0v=@V' > fuzz_scram_client/plain_ok
printf '\x00r=@Rsrv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096\0v=AAAA' > fuzz_scram_client/wrong_signature
printf '\x00r=@Rsrv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096\0e=invalid-proof' > fuzz_scram_client/server_error
printf '\x00r=@Rsrv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1' > fuzz_scram_client/few_iterations
printf '\x00r=other,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096' > fuzz_scram_client/foreign_nonce
printf '\x00m=ext,r=@Rsrv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096' > fuzz_scram_client/mandatory_ext

# fuzz_filename
printf 'report.pdf' > fuzz_filename/plain
printf 'r\xc3\xa9sum\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac.txt' > fuzz_filename/utf8
printf '..' > fuzz_filename/dotdot
printf '../etc/passwd' > fuzz_filename/traversal
printf 'a\\b' > fuzz_filename/backslash
printf '.sfts-tmp-123' > fuzz_filename/reserved
printf '\xed\xa0\x80' > fuzz_filename/surrogate
printf '\xc0\xaf' > fuzz_filename/overlong
printf 'a\x1b[2Jb' > fuzz_filename/escape
printf 'a\xc2\x85b' > fuzz_filename/c1
head -c 255 /dev/zero | tr '\0' x > fuzz_filename/max_len
