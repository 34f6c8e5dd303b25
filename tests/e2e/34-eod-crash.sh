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

# ---- the reference HQ (same helpers in every 3x-eod script) -------------
H=$T/hq
hq() { "$TOP/tests/hq/$1" "$H" "${@:2}"; }
trap 'rc=$?; "$TOP/tests/hq/stop" "$H" >/dev/null 2>&1 || true
	[ $rc -eq 0 ] || { [ -f "$H/hq.log" ] && tail -15 "$H/hq.log" | sed "s/^/  hq.log| /" >&2; }
	chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT
pa() { "$POSAGENT_BIN" -c "$H/S0001-R01.conf" "$@"; }
# pa_bg OUT ERR ARGS...: the agent in the background (its own pid in $pid).
pa_bg() {
	local out=$1 err=$2
	shift 2
	"$POSAGENT_BIN" -c "$H/S0001-R01.conf" "$@" >"$out" 2>"$err" &
	pid=$!
}
DB=$H/S0001-R01.db
D=2026-11-25
# sale N CUSTOMER_JSON TOTAL [TENDER] [DATE] [KIND]: records S0001-R01-N
# (a return when TOTAL is negative).
sale() {
	local n=$1 cust=$2 total=$3 tender=${4:-cash} date=${5:-$D} kind=${6:-cash_and_carry} qty=1 price
	price=$total
	if [ "$total" -lt 0 ]; then qty=-1 price=$((-total)); fi
	printf '{"txn_id":"S0001-R01-%06d","kind":"%s","business_date":"%s","currency":"EUR","customer":%s,"lines":[{"sku":"SKU-1","qty":%d,"unit_price_minor":%d}],"tenders":[{"type":"%s","amount_minor":%d}],"total_minor":%d}' \
		"$n" "$kind" "$date" "$cust" "$qty" "$price" "$tender" "$total" "$total" >"$T/txn.json"
	expect_rc 0 pa txn record --from-json "$T/txn.json"
}
# wait_for FILE ERE SECONDS: until FILE holds a line matching ERE.
wait_for() {
	local i=0
	until grep -Eq -- "$2" "$1" 2>/dev/null; do
		sleep 0.05
		i=$((i + 1))
		[ $i -lt $(($3 * 20)) ] || { cat "$1" >&2; fail "no line /$2/ in $1 after $3 s"; }
	done
}
secs_since() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.3f", e - s }'; }
# expect_msg ERE: after eod's progress lines, stderr ends with its one
# "posagent: " line, matching ERE (grep -Ei).
expect_msg() {
	[ "$(grep -c '^posagent: ' "$T/err" || true)" -eq 1 ] || fail "expected one 'posagent: ' line on stderr"
	tail -n 1 "$T/err" | grep -q '^posagent: ' || fail "stderr does not end with the 'posagent: ' line"
	tail -n 1 "$T/err" | grep -Eiq -- "$1" || fail "stderr message does not match /$1/"
}
# --------------------------------------------------------------------------

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
