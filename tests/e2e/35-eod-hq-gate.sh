#!/bin/bash
# 35-eod-hq-gate: HQ's side of the gate, and HQ refusing a statement.
#
# What happens (HQ assigns only when asked):
#  D:  a customer's sale is uploaded; the register is made to believe the
#      customer is synced (sqlite3) though HQ has not assigned it, so the
#      statement is frozen and HQ answers 409 unsynced_references (customers); then the
#      admin runs HQ's job.
#  D2: a sale is marked uploaded here though it was never sent: HQ answers
#      409 unknown_transactions.
#  D:  the local statement row is deleted (a database restored from an old
#      backup) and `eod --date D` runs again: HQ answers 409 already_posted.
#  D3: a sale's total is changed here after its upload: HQ answers 422
#      totals_mismatch.
# What must hold: on 409 unsynced_references eod keeps the same statement,
# says HQ has not synced that customer yet, syncs and posts that same statement once the
# assignment arrives; on 409 unknown_transactions it sends the transaction
# again and posts the same statement; already_posted and totals_mismatch
# are 65 naming the statement ids (and HQ's figures), recorded as refused,
# and --check says 65 after them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
setup

. "$(dirname "$0")/eodlib.sh"

D2=2026-11-26
D3=2026-11-27
hq start --assign manual >/dev/null
expect_rc 0 pa init
expect_rc 0 pa --json customer create --first-name Ana --email ana@example.com
ANA=$(jget .async_id)
sale 1 '{"local_number":"R01-000001"}' 1500 cash
expect_rc 0 pa sync
[ "$(sql "SELECT state FROM customer")" = uploaded ] || fail "the customer is not uploaded"
sql "UPDATE customer SET state = 'synced', account = 'C999999' WHERE async_id = '$ANA'"

check "409 unsynced_references: the same statement is posted again once HQ assigns"
pa_bg "$T/eod.out" "$T/eod.err" eod --timeout 60
wait_for "$T/eod.err" "HQ has not synced customers $ANA yet" 10
SID=$(sql "SELECT statement_id FROM statement WHERE business_date = '$D'")
[ -n "$SID" ] || fail "no statement frozen"
hq admin assign >/dev/null
rc=0
wait $pid || rc=$?
[ $rc -eq 0 ] || { cat "$T/eod.err" >&2; fail "eod exited $rc after the assignment"; }
hq admin state >"$T/state.json"
[ "$(jq -r '.statements[0].statement_id' "$T/state.json")" = "$SID" ] || fail "HQ posted another statement than the frozen one"
grep -q "posting $(jq -r '.statements[0].posting_id' "$T/state.json") (statement $SID" "$T/eod.out" ||
	fail "eod printed: $(cat "$T/eod.out")"
[ "$(sql "SELECT account FROM customer")" = C000001 ] || fail "the account HQ assigned did not replace the local one"

check "409 unknown_transactions: the transaction goes up again, the same statement is posted"
sale 2 null 800 card "$D2"
sql "UPDATE txn SET state = 'uploaded' WHERE txn_id = 'S0001-R01-000002'"
expect_rc 0 pa eod --timeout 30
grep -q 'HQ does not hold transactions S0001-R01-000002' "$T/err" || fail "eod did not say HQ lacks the transaction"
SID2=$(sql "SELECT statement_id FROM statement WHERE business_date = '$D2'")
hq admin state >"$T/state.json"
jq -e --arg s "$SID2" '[.statements[] | select(.statement_id == $s)] | length == 1' "$T/state.json" >/dev/null ||
	fail "HQ did not post the frozen statement of $D2"
jq -e '.txn_ids | index("S0001-R01-000002")' "$T/state.json" >/dev/null || fail "HQ never got the transaction"

check "409 already_posted under another id: 65 naming both ids, recorded as refused"
sql "DELETE FROM statement WHERE business_date = '$D'"
expect_rc 65 pa eod --date $D --timeout 30
NEW=$(sql "SELECT statement_id FROM statement WHERE business_date = '$D'")
[ "$NEW" != "$SID" ] || fail "the statement was not frozen anew"
expect_msg "statement $NEW of $D: already_posted: HQ holds statement $SID"
[ "$(sql "SELECT state || ' ' || last_code FROM statement WHERE business_date = '$D'")" = "refused already_posted" ] ||
	fail "the refusal is not recorded"
expect_rc 65 pa --json eod --check --date $D
jq -e '.result == "rejected" and .error.code == "already_posted"' "$T/out" >/dev/null || fail "--check after the refusal: $(cat "$T/out")"
[ "$(hq admin state | jq --arg d $D '[.statements[] | select(.business_date == $d)] | length')" = 1 ] ||
	fail "HQ holds two statements for $D"

check "422 totals_mismatch: 65 naming the statement and HQ's figures"
sale 3 null 1000 cash "$D3"
expect_rc 0 pa sync
sql "UPDATE txn SET total_minor = 1001 WHERE txn_id = 'S0001-R01-000003'"
expect_rc 65 pa --json eod --date $D3 --timeout 30
S3=$(sql "SELECT statement_id FROM statement WHERE business_date = '$D3'")
jq -e '.result == "rejected" and .error.code == "totals_mismatch"' "$T/out" >/dev/null || fail "eod --json: $(cat "$T/out")"
expect_msg "statement $S3 of $D3.*totals_mismatch.*HQ counts 1 transactions, sales 1000"
echo "ok"
