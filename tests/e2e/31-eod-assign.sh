#!/bin/bash
# 31-eod-assign: end of day against an HQ that assigns accounts only when
# its operator runs the job.
#
# What happens: three customers are made at the register; the day has a
# sale and a customer order for them (named by local number and by async
# id), a sale without customer and one for a customer named twice. `eod`
# starts, uploads everything and waits; Ctrl-C stops it (130) and a second
# `eod` carries on; the admin runs HQ's job; `eod` notices on its long poll
# and posts.
# What must hold: while waiting, progress (one plain line per change, stderr
# not a terminal) names each waiting customer by local number with
# "waiting for HQ to assign" and never by name or email, and HQ holds no
# statement; Ctrl-C exits 130 within 2 s leaving no statement and nothing
# half-written; after the assignment `eod` posts (within 15 s here: the
# seconds are make bench's to measure; the figure is printed); the posting id printed is HQ's and HQ holds one
# statement listing all four transactions; `eod` again says no date is
# open, `eod --date` prints the same posting id; the date is closed to
# `txn record` (65).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
setup

. "$(dirname "$0")/eodlib.sh"

hq start --assign manual >/dev/null
expect_rc 0 pa init
for who in "Ana ana@example.com" "Rui rui@example.com" "Eva eva@example.com"; do
	set -- $who
	expect_rc 0 pa --json customer create --first-name "$1" --last-name Silva --email "$2"
done
EVA=$(jget .async_id)
sale 1 '{"local_number":"R01-000001"}' 2598 cash
sale 2 "{\"async_id\":\"$EVA\"}" 10000 card "$D" customer_order
sale 3 null 500 cash
sale 4 '{"local_number":"R01-000001"}' -1299 cash

check "eod waits, naming each waiting customer by local number with its reason; HQ holds no statement"
pa_bg "$T/eod1.out" "$T/eod1.err" eod --timeout 60
wait_for "$T/eod1.err" 'waiting for HQ to assign: R01-000001, R01-000003' 15
grep -q 'R01-000002' "$T/eod1.err" && fail "R01-000002 is named though no transaction refers to it"
grep -Eqi 'ana|rui|eva|silva|example\.com' "$T/eod1.err" && fail "progress names a customer by name or email"
grep -q '0 of 2 customers synced' "$T/eod1.err" || fail "progress does not say synced out of total"
[ "$(hq admin state | jq '.statements | length')" = 0 ] || fail "HQ holds a statement before the assignment"
[ "$(sql "SELECT count(*) FROM statement")" = 0 ] || fail "a statement was frozen before the customers were synced"

check "Ctrl-C stops it with 130 within 2 s, nothing frozen; running eod again carries on"
t0=$(date +%s.%N)
kill -INT $pid
rc=0
wait $pid || rc=$?
[ $rc -eq 130 ] || { cat "$T/eod1.err" >&2; fail "eod interrupted exited $rc, not 130"; }
el=$(secs_since "$t0")
awk -v e="$el" 'BEGIN { exit !(e < 2) }' || fail "eod took ${el}s to stop after Ctrl-C"
grep -q 'interrupted' "$T/eod1.err" || fail "eod did not say it was interrupted"
[ "$(sql "SELECT count(*) FROM statement")" = 0 ] || fail "Ctrl-C left a statement behind"
[ "$(sql "SELECT group_concat(state) FROM (SELECT state FROM customer ORDER BY id)")" = uploaded,uploaded,uploaded ] ||
	fail "customer states after Ctrl-C: $(sql "SELECT group_concat(state) FROM customer")"
expect_rc 0 sqlite3 "$DB" "PRAGMA integrity_check"
pa_bg "$T/eod2.out" "$T/eod2.err" eod --timeout 60
wait_for "$T/eod2.err" 'waiting for HQ to assign: R01-000001, R01-000003' 15
on_long_poll() { [ "$(hq admin state | jq .long_polls_waiting)" -ge 1 ]; }
wait_until 30 "eod waiting on its long poll" on_long_poll

check "the admin runs HQ's job: eod posts soon after (bounded at 15 s; make bench measures it)"
t0=$(date +%s.%N)
hq admin assign >/dev/null
rc=0
wait $pid || rc=$?
delay=$(secs_since "$t0")
[ $rc -eq 0 ] || { cat "$T/eod2.err" >&2; fail "eod exited $rc after the assignment"; }
echo "  eod posted ${delay} s after the assignment"
awk -v d="$delay" 'BEGIN { exit !(d < 15) }' || fail "eod took ${delay} s to post after the assignment"

check "the posting id printed is HQ's; HQ holds one statement of all four transactions"
hq admin state >"$T/state.json"
[ "$(jq '.statements | length' "$T/state.json")" = 1 ] || fail "HQ holds $(jq '.statements | length' "$T/state.json") statements"
P=$(jq -r '.statements[0].posting_id' "$T/state.json")
grep -q "posting $P " "$T/eod2.out" || fail "eod did not print HQ's posting id $P: $(cat "$T/eod2.out")"
jq -e --arg d $D '.statements[0] | .business_date == $d and .transaction_count == 4 and .sales_minor == 11799' \
	"$T/state.json" >/dev/null || fail "HQ's statement: $(jq -c '.statements[0]' "$T/state.json")"
[ "$(sql "SELECT state || ' ' || posting_id || ' ' || statement_id FROM statement")" = \
	"posted $P $(jq -r '.statements[0].statement_id' "$T/state.json")" ] || fail "the local statement row is not posted as HQ has it"
sql "SELECT body FROM statement" | jq -e '.transactions == ["S0001-R01-000001","S0001-R01-000002","S0001-R01-000003","S0001-R01-000004"]
	and .totals == {"sales_minor": 11799, "by_tender": {"card": 10000, "cash": 1799}} and .transaction_count == 4
	and .currency == "EUR"' >/dev/null || fail "statement body: $(sql "SELECT body FROM statement")"

check "eod again: no open date (0); --date prints the same posting id (text and JSON)"
expect_rc 0 pa eod
grep -qi 'no open business date' "$T/out" || fail "eod with nothing open does not say so"
expect_rc 0 pa eod --date $D
grep -q "$P" "$T/out" || fail "eod --date for a posted date does not print the posting id"
expect_rc 0 pa --json eod --date $D
jq -e --arg p "$P" --arg d $D '.result == "posted" and .posting_id == $p and .business_date == $d
	and .referenced_customers == 2 and .synced == 2 and .blocking == []' "$T/out" >/dev/null ||
	fail "eod --json for a posted date: $(cat "$T/out")"
[ "$(hq admin state | jq '.statements | length')" = 1 ] || fail "a second eod posted again"

check "the date is closed: txn record for it is 65"
printf '{"txn_id":"S0001-R01-000009","kind":"cash_and_carry","business_date":"%s","currency":"EUR","customer":null,"lines":[{"sku":"S","qty":1,"unit_price_minor":1}],"tenders":[{"type":"cash","amount_minor":1}],"total_minor":1}' $D >"$T/late.json"
expect_rc 65 pa txn record --from-json "$T/late.json"
expect_err 'closed'
echo "ok"
