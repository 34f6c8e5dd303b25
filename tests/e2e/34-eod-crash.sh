#!/bin/bash
# 34-eod-crash: the statement is posted exactly once across a crash.
#
# What happens: everything of the day is uploaded and synced; HQ is told
# to drop its reply to the next statement POST after committing it (the
# reply is lost on the way), and then to answer 503 with Retry-After 30.
# `eod` posts; as soon as HQ holds the statement the agent is killed with
# SIGKILL, before it learnt the answer. Then the faults are cleared and
# `eod` runs again.
# What must hold: after the kill the local statement is frozen (same id as
# HQ's, no posting id) and the date is closed to `txn record` (65); `eod
# --check` is 0; the next `eod` posts the very same statement (same id,
# key and body) and prints HQ's original posting id; HQ holds exactly one
# statement for the date.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
setup

. "$(dirname "$0")/eodlib.sh"

hq start --assign immediate >/dev/null
expect_rc 0 pa init
expect_rc 0 pa customer create --first-name Ana --email ana@example.com
sale 1 '{"local_number":"R01-000001"}' 1500 cash
sale 2 null 2500 card
sale 3 '{"local_number":"R01-000001"}' -500 cash
expect_rc 0 pa sync
[ "$(sql "SELECT state FROM customer")" = synced ] || fail "the customer is not synced after sync"

check "HQ commits the statement and drops the reply; the agent is killed right after"
SP=/v1/stores/S0001/registers/R01/statements
hq admin fault "{\"path\":\"$SP\",\"method\":\"POST\",\"kind\":\"drop_after_commit\",\"count\":1}" >/dev/null
hq admin fault "{\"path\":\"$SP\",\"method\":\"POST\",\"kind\":\"status\",\"status\":503,\"retry_after\":\"30\",\"count\":100}" >/dev/null
pa_bg "$T/eod.out" "$T/eod.err" eod --timeout 60
i=0
until [ "$(hq admin state | jq '.statements | length')" = 1 ]; do
	sleep 0.05
	i=$((i + 1))
	[ $i -lt 200 ] || fail "HQ never got the statement"
done
kill -KILL $pid
wait $pid 2>/dev/null || true
hq admin state >"$T/state.json"
SID=$(jq -r '.statements[0].statement_id' "$T/state.json")
P=$(jq -r '.statements[0].posting_id' "$T/state.json")
[ "$(sql "SELECT state || '|' || statement_id || '|' || coalesce(posting_id, '') FROM statement")" = "frozen|$SID|" ] ||
	fail "after the kill the local statement is $(sql "SELECT state, statement_id, posting_id FROM statement")"
KEY=$(sql "SELECT idem_key FROM statement")
BODY=$(sql "SELECT body FROM statement")

check "the frozen statement closes the date; --check says it can be posted"
printf '{"txn_id":"S0001-R01-000009","kind":"cash_and_carry","business_date":"%s","currency":"EUR","customer":null,"lines":[{"sku":"S","qty":1,"unit_price_minor":1}],"tenders":[{"type":"cash","amount_minor":1}],"total_minor":1}' $D >"$T/late.json"
expect_rc 65 pa txn record --from-json "$T/late.json"
expect_err 'closed'
expect_rc 0 pa eod --check
expect_rc 0 pa --json eod --check
[ "$(jget .result)" = ready ] || fail "--check --json on a frozen statement: $(cat "$T/out")"

check "the next eod posts the same statement and gets HQ's original posting id; HQ holds one"
hq admin reset-faults >/dev/null
expect_rc 0 pa eod --timeout 30
grep -q "posted: posting $P (statement $SID," "$T/out" || fail "eod printed $(cat "$T/out"), HQ has $P for $SID"
[ "$(sql "SELECT state || '|' || posting_id || '|' || statement_id || '|' || idem_key FROM statement")" = "posted|$P|$SID|$KEY" ] ||
	fail "the statement row changed id or key, or is not posted"
[ "$(sql "SELECT body FROM statement")" = "$BODY" ] || fail "the statement body was rebuilt"
hq admin state >"$T/state.json"
[ "$(jq '.statements | length' "$T/state.json")" = 1 ] || fail "HQ holds $(jq '.statements | length' "$T/state.json") statements"
jq -e '.statements[0] | .transaction_count == 3 and .sales_minor == 3500' "$T/state.json" >/dev/null ||
	fail "HQ's statement: $(jq -c '.statements[0]' "$T/state.json")"
echo "ok"
