#!/bin/bash
# 30-eod-gate: what never blocks end of day, the choice of date, --check
# and the command line.
#
# What happens: HQ assigns accounts only when its operator asks (and never
# does here). HQ creates a customer for the store, which the register
# learns into its cache with `sync`. The oldest day D1 has a sale without
# customer, a sale and a customer order for the cached customer (named by
# account) and a return; the next day D2 has a sale without customer.
# `eod --check` and `eod` run for each day in turn.
# What must hold: bad options are 64, a missing database 74, nothing to
# post is 0 saying so; --check reads only the database (nothing changes,
# well under 50 ms, works with a broken [hq]) and is 75 while transactions
# wait for upload, 0 when ready; `eod` picks the oldest open date, and the
# cached customer and the sales without customer never block it: it posts
# without any assignment; the statement holds every transaction of the
# date with signed sums by tender, and HQ's figures agree; then D2.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
setup

. "$(dirname "$0")/eodlib.sh"

D1=2026-11-24
D2=2026-11-25
hq start --assign manual >/dev/null

check "the command line: bad values are 64, a missing database 74"
expect_rc 64 pa eod --date 2026-02-30
expect_err 'date'
expect_rc 64 pa eod --timeout -1
expect_err 'timeout'
expect_rc 64 pa eod --timeout soon
expect_rc 64 pa eod --bogus
expect_rc 64 pa eod extra
expect_rc 0 pa eod --help
grep -q 'usage: posagent eod' "$T/out" || fail "--help prints no usage"
expect_rc 74 pa eod
expect_err 'posagent init'

check "nothing to post: 0 and says so (text, JSON, --check)"
expect_rc 0 pa init
expect_rc 0 pa eod
grep -qi 'no open business date' "$T/out" || fail "eod on an empty register does not say so"
expect_rc 0 pa --json eod
jq -e '.business_date == null and .result == "nothing_to_post" and .posting_id == null and .blocking == []' "$T/out" >/dev/null ||
	fail "eod --json with nothing open: $(cat "$T/out")"
expect_rc 0 pa eod --check
expect_rc 0 pa eod --date $D2
grep -q 'no transactions' "$T/out" || fail "eod --date for a day without sales does not say so"

check "a customer HQ created reaches the register's cache (synced)"
hq admin customer '{"store":"S0001","customer":{"kind":"person","first_name":"Zoe","last_name":"Costa"}}' >"$T/acct.json"
ACC=$(jq -r .account "$T/acct.json")
expect_rc 0 pa sync
[ "$(sql "SELECT state FROM customer WHERE account = '$ACC'")" = synced ] || fail "the HQ customer is not in the cache"

sale 1 null 1000 cash "$D1"
sale 2 "{\"account\":\"$ACC\"}" 2599 card "$D1"
sale 3 "{\"account\":\"$ACC\"}" 12000 card "$D1" customer_order
sale 4 "{\"account\":\"$ACC\"}" -599 cash "$D1"
sale 5 null 300 cash "$D2"

check "--check: the oldest open date, 75 while its transactions wait, read-only and fast"
before=$(db_sum)
t0=$(date +%s.%N)
expect_rc 75 pa eod --check
el=$(secs_since "$t0")
expect_msg "end of day $D1 is not ready: 1 of 1 customer synced, 0 of 4 transactions uploaded"
awk -v e="$el" 'BEGIN { exit !(e < 0.05) }' || echo "  (--check took ${el} s on a busy machine)"
expect_rc 75 pa --json eod --check
jq -e --arg d $D1 '.business_date == $d and .referenced_customers == 1 and .synced == 1 and .blocking == []
	and .result == "blocked" and .posting_id == null and .transactions == 4 and .transactions_uploaded == 0' \
	"$T/out" >/dev/null || fail "eod --check --json: $(cat "$T/out")"
[ "$(db_sum)" = "$before" ] || fail "--check changed the database"
cp "$H/S0001-R01.conf" "$T/broken.conf"
sed -i 's|^url = https://|url = http://|' "$T/broken.conf"
expect_rc 75 "$POSAGENT_BIN" -c "$T/broken.conf" eod --check
expect_rc 78 "$POSAGENT_BIN" -c "$T/broken.conf" eod --timeout 1

check "eod posts $D1 without any assignment: cached customers and sales without customer never block"
t0=$(date +%s.%N)
expect_rc 0 pa eod --timeout 20
echo "  posted $D1 in $(secs_since "$t0") s"
grep -q "^$D1 posted: posting P" "$T/out" || fail "eod did not post $D1: $(cat "$T/out")"
grep -q 'waiting for HQ to assign' "$T/err" && fail "eod waited for an assignment"
[ "$(hq admin state | jq .pending_customers)" = 0 ] || fail "HQ has customers waiting for the job"
sql "SELECT body FROM statement WHERE business_date = '$D1'" >"$T/body.json"
jq -e --arg d $D1 '.business_date == $d and .currency == "EUR" and .transaction_count == 4
	and .transactions == ["S0001-R01-000001","S0001-R01-000002","S0001-R01-000003","S0001-R01-000004"]
	and .totals == {"sales_minor": 15000, "by_tender": {"card": 14599, "cash": 401}}
	and (.statement_id | test("^[0-9a-f-]{36}$"))' "$T/body.json" >/dev/null || fail "statement: $(cat "$T/body.json")"
hq admin state | jq -e --arg d $D1 '.statements[0] | .business_date == $d and .transaction_count == 4 and .sales_minor == 15000' \
	>/dev/null || fail "HQ's statement differs: $(hq admin state | jq -c .statements)"

check "then $D2 is the oldest open date: --check 0 once uploaded, eod posts it, nothing is left"
expect_rc 0 pa sync
expect_rc 0 pa --json eod --check
jq -e --arg d $D2 '.business_date == $d and .result == "ready"' "$T/out" >/dev/null || fail "--check: $(cat "$T/out")"
expect_rc 0 pa eod
grep -q "^$D2 posted: posting P" "$T/out" || fail "eod did not post $D2: $(cat "$T/out")"
expect_rc 0 pa eod
grep -qi 'no open business date' "$T/out" || fail "a date is still open"
[ "$(hq admin state | jq '.statements | length')" = 2 ] || fail "HQ does not hold two statements"
echo "ok"
