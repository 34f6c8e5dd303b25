#!/bin/bash
# 33-eod-rejected: a record HQ rejects stops end of day at once (65) until a
# person corrects it.
#
# What happens: HQ assigns at once. Of two customers made here, one has an
# email HQ refuses (set with sqlite3 behind the agent's validation, as a
# bad record from an older POS would be); the day D has a sale for each.
# A sale of the next day D2 is stored with a total HQ refuses. `eod` runs,
# the customer is corrected with `customer edit`, `eod` runs again; then
# D2 is tried, corrected with `txn record`, and tried again.
# What must hold: `eod` exits 65 quickly (no waiting for the timeout),
# naming the customer by local number with HQ's code, nothing frozen; a
# rejected transaction of D2 does not block D; --check is 65; --json says
# result "rejected" with the code in "blocking"; after `customer edit`
# `eod` posts D; for D2, 65 names the transaction and its code, and after
# the corrected record `eod` posts D2.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
setup

. "$(dirname "$0")/eodlib.sh"

D2=2026-11-26
hq start --assign immediate >/dev/null
expect_rc 0 pa init
expect_rc 0 pa customer create --first-name Ana --email ana@example.com
expect_rc 0 pa customer create --first-name Rui --email rui@example.com
sql "UPDATE customer SET email = 'rui-at-example' WHERE local_number = 'R01-000002'"
sale 1 '{"local_number":"R01-000001"}' 1500 cash
sale 2 '{"local_number":"R01-000002"}' 2500 card
sale 3 null 900 cash "$D2"
cp "$T/txn.json" "$T/d2.json"
sql "UPDATE txn SET body = replace(body, '\"total_minor\":900', '\"total_minor\":901') WHERE txn_id = 'S0001-R01-000003'"

check "a rejected customer: eod exits 65 at once, naming it by local number with HQ's code"
t0=$(date +%s.%N)
expect_rc 65 pa eod --timeout 60
el=$(secs_since "$t0")
awk -v e="$el" 'BEGIN { exit !(e < 5) }' || fail "eod took ${el} s to see the rejection"
expect_msg 'blocked by records HQ rejected: customer R01-000002 \(invalid_email.*customer edit'
grep -q 'S0001-R01-000003' "$T/err" && fail "a rejected transaction of another date blocks $D"
grep -Eqi 'rui|example' "$T/err" && fail "eod names the customer by name or email"
[ "$(sql "SELECT count(*) FROM statement")" = 0 ] || fail "a statement was frozen despite the rejection"
[ "$(sql "SELECT state FROM txn WHERE txn_id = 'S0001-R01-000003'")" = rejected ] ||
	fail "the bad transaction of $D2 was not rejected by HQ"

check "--check is 65; --json: result rejected, the customer in blocking with its code"
expect_rc 65 pa eod --check
expect_msg 'R01-000002 \(invalid_email'
expect_rc 65 pa --json eod --date $D
jq -e --arg d $D '.result == "rejected" and .business_date == $d and .referenced_customers == 2 and .synced == 1
	and (.blocking | length) == 1 and .blocking[0].local_number == "R01-000002" and .blocking[0].state == "rejected"
	and .blocking[0].reason == "rejected" and .blocking[0].code == "invalid_email" and .posting_id == null' \
	"$T/out" >/dev/null || fail "eod --json: $(cat "$T/out")"

check "customer edit puts it back to pending: eod posts $D"
expect_rc 0 pa customer edit R01-000002 --email rui@example.com
expect_rc 0 pa eod --timeout 30
grep -q "$D posted: posting P" "$T/out" || fail "eod did not post $D: $(cat "$T/out")"
[ "$(hq admin state | jq --arg d $D '[.statements[] | select(.business_date == $d)] | length')" = 1 ] ||
	fail "HQ does not hold the statement of $D"

check "a rejected transaction: eod (now $D2, the oldest open date) is 65 naming it with its code"
expect_rc 65 pa eod --timeout 30
expect_msg "blocked by records HQ rejected: transaction S0001-R01-000003 \(invalid_transaction.*txn record"
expect_rc 65 pa --json eod --check
jq -e --arg d $D2 '.business_date == $d and .result == "rejected" and .blocking[0].txn_id == "S0001-R01-000003"
	and .blocking[0].code == "invalid_transaction"' "$T/out" >/dev/null || fail "eod --check --json: $(cat "$T/out")"

check "the corrected transaction is recorded again: eod posts $D2"
expect_rc 0 pa txn record --from-json "$T/d2.json"
expect_rc 0 pa eod --timeout 30
grep -q "$D2 posted: posting P" "$T/out" || fail "eod did not post $D2: $(cat "$T/out")"
hq admin state >"$T/state.json"
jq -e --arg d $D2 '[.statements[] | select(.business_date == $d)] | length == 1 and .[0].sales_minor == 900' \
	"$T/state.json" >/dev/null || fail "HQ's statements: $(jq -c .statements "$T/state.json")"
echo "ok"
