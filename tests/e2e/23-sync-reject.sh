#!/bin/bash
# A customer HQ rejects does not hold back the others; its transaction
# waits for it (no person needed for that); after `customer edit` it
# uploads and syncs, and its transaction follows.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
hq_start
pr init >/dev/null
for i in 1 2 3; do pr customer create --first-name "F$i" --email "f$i@example.com" >/dev/null; done
bad=$(sql "SELECT async_id FROM customer WHERE local_number='R01-000002'")
printf '{"txn_id":"S0001-R01-000001","kind":"customer_order","business_date":"2026-11-25","currency":"EUR","customer":{"local_number":"R01-000002"},"lines":[{"sku":"S","qty":1,"unit_price_minor":100}],"tenders":[],"total_minor":100}' |
	pr txn record --from-json - >/dev/null
# An older agent (or a rule HQ tightened) let a bad email through:
sql "UPDATE customer SET email = 'no-at-sign' WHERE async_id = '$bad'"

check "sync: two customers synced, the bad one rejected with HQ's code"
expect_rc 0 pr --json sync
[ "$(jget .rejected)" = 1 ] || fail "expected one rejection"
[ "$(sql "SELECT count(*) FROM customer WHERE state='synced'")" = 2 ] || fail "the good customers did not sync"
[ "$(sql "SELECT state || ' ' || last_code FROM customer WHERE async_id='$bad'")" = "rejected invalid_email" ] || fail "not rejected with invalid_email"
[ "$(sql "SELECT state FROM txn")" = pending ] || fail "its transaction should wait for it"
expect_rc 0 pr --json customer show R01-000002
[ "$(jget .last_error.code)" = invalid_email ] || fail "show does not give the last error"
expect_rc 0 pr customer show R01-000002
grep -q "Needs attention" "$T/out" || fail "a cashier should see Needs attention"

check "customer edit puts it back to pending; sync takes it and its transaction up"
expect_rc 0 pr --json customer edit R01-000002 --email fixed@example.com
[ "$(jget .state)" = pending ] || fail "edit did not make it pending"
[ "$(jget .async_id)" = "$bad" ] || fail "edit changed the async id"
expect_rc 0 pr --json sync
[ "$(sql "SELECT state FROM customer WHERE async_id='$bad'")" = synced ] || fail "the corrected customer did not sync"
[ "$(sql "SELECT state FROM txn")" = uploaded ] || fail "its transaction did not follow"
hq_admin state >"$T/state.json"
[ "$(jq '.customers | length' "$T/state.json")" = 3 ] || fail "HQ should hold 3 customers"
echo ok
