#!/bin/bash
# 41-doctor-pass: `posagent doctor` on a healthy register.
#
# What happens: the reference HQ runs with a valid certificate and its
# clock right; the register is initialised, makes a customer and syncs it.
# doctor runs in text and in --json.
# What must hold: every check passes, in AGENT.md's order, one line each
# ("PASS  NAME  detail"), no hint on a PASS, exit 0; --json is
# {"checks": [{"name", "result", "detail", "hint"}]} with hint null; doctor
# changes nothing in the database (its authenticated read stores no
# cursor) and prints neither the token nor the customer's details.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
hq_start
pr init >/dev/null
pr customer create --first-name Ana --last-name Passos --email ana.passos@example.com >/dev/null
pr sync >/dev/null
[ "$(sql "SELECT state FROM customer")" = synced ] || fail "setup: the customer did not sync"
NAMES="config token_file ca_file dns tcp tls health certificate clock credentials database wal disk waiting rejected batches"
# A test machine with under 1 GiB free makes the disk check WARN, rightly.
avail_kib=$(df -Pk "$(dirname "$DB")" | awk 'NR == 2 {print $4}')
disk_ok=$([ "$avail_kib" -gt $((1100 * 1024)) ] && echo 1 || echo 0)
before=$(db_sum)
cursor=$(sql "SELECT value FROM meta WHERE key = 'cursor'")

check "text: one PASS line per check, in order, exit 0"
t0=$(date +%s%N)
expect_rc 0 pr doctor
echo "  doctor took $((($(date +%s%N) - t0) / 1000000)) ms"
got=$(grep -E '^(PASS|WARN|FAIL)  ' "$T/out" | awk '{print $2}' | tr '\n' ' ')
[ "$got" = "$NAMES " ] || fail "checks are: $got"
for n in $NAMES; do
	if [ "$n" = disk ] && [ "$disk_ok" = 0 ]; then continue; fi
	grep -Eq "^PASS  $n +[^ ]" "$T/out" || fail "$n does not PASS"
done
grep -q 'hint:' "$T/out" && [ "$disk_ok" = 1 ] && fail "a PASS line carries a hint"
grep -Eq '^PASS  credentials +HQ accepts this register.s token' "$T/out" || fail "credentials detail"
grep -Eq '^PASS  clock +within [0-9] s of HQ$' "$T/out" || fail "clock detail"
grep -Eq '^PASS  certificate +valid until 20[0-9-]+T[0-9:]+Z \(3[0-9][0-9] days\)$' "$T/out" || fail "certificate detail"
tail -1 "$T/out" | grep -Eq '^16 checks: (16 PASS, 0 WARN|15 PASS, 1 WARN), 0 FAIL$' || fail "summary line"

check "--json: the AGENT.md shape"
expect_rc 0 pr --json doctor
jq -e 'keys == ["checks"] and (.checks | length) == 16
	and all(.checks[]; (keys | sort) == ["detail","hint","name","result"])
	and all(.checks[]; (.result == "PASS" and .hint == null) or (.name == "disk" and .result == "WARN" and (.hint | length) > 0))' \
	"$T/out" >/dev/null || fail "doctor JSON shape: $(jq -c . "$T/out")"
[ "$(jq -r '[.checks[].name] | join(" ")' "$T/out")" = "$NAMES" ] || fail "JSON check names"

check "doctor changed nothing and printed no token or customer data"
[ "$(db_sum)" = "$before" ] || fail "doctor changed the database"
[ "$(sql "SELECT value FROM meta WHERE key = 'cursor'")" = "$cursor" ] || fail "doctor moved the cursor"
pr doctor >"$T/all" 2>&1 || true
pr --json doctor >>"$T/all" 2>&1 || true
for w in "$(cat "$H/tokens/S0001-R01.token")" Ana Passos ana.passos@example.com; do
	if grep -qF -- "$w" "$T/all"; then fail "doctor printed '$w'"; fi
done
echo ok
