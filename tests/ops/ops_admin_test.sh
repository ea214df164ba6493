#!/usr/bin/env bash
# The sfts-admin verbs for roles and accounts, against a real database.
set -uo pipefail
source "$SFTS_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init

check "role create" admin role create auditor ls download
check "role listed with its permissions" bash -c "$(declare -f admin); work=$work admin_bin=$admin_bin; admin role list | grep -qx 'auditor: ls download'"
expect_exit "role create twice" 4 "exists" admin role create auditor ls
expect_exit "role create with an unknown permission" 2 "unknown permission 'fly'" admin role create pilots fly
expect_exit "role create with a bad name" 2 "role name" admin role create 'Bad Name' ls
expect_exit "role create without permissions" 1 "at least one permission" admin role create empty
check "role set" admin role set auditor ls
check "role set took effect" bash -c "$(declare -f admin); work=$work admin_bin=$admin_bin; admin role list | grep -qx 'auditor: ls'"
expect_exit "role set on an unknown role" 3 "" admin role set nobody ls
check "user add with the new role" admin user add carol --role auditor
expect_exit "role delete refused while in use" 2 "" admin role delete auditor
check "user show" bash -c "$(declare -f admin); work=$work admin_bin=$admin_bin; admin user show carol > $work/show"
check "user show: role" grep -qE '^role: +auditor$' "$work/show"
check "user show: permissions" grep -qE '^permissions: ls$' "$work/show"
check "user show: state" grep -qE '^state: +active$' "$work/show"
check "user show: no password yet" grep -qE '^password: +none$' "$work/show"
expect_exit "user show unknown" 3 "no user" admin user show nobody
check "move carol away" admin user role carol user
check "role delete" admin role delete auditor
check "role gone" bash -c "$(declare -f admin); work=$work admin_bin=$admin_bin; ! admin role list | grep -q '^auditor:'"
expect_exit "role delete unknown" 3 "" admin role delete auditor
check "role changes are audited" bash -c "grep -q '\"role_create\"' '$work/server/state/audit.jsonl' && grep -q '\"role_delete\"' '$work/server/state/audit.jsonl'"
check "audit trail still verifies" admin audit verify
finish
