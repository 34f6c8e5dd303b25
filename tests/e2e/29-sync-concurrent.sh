#!/bin/bash
# sync, run and eod may work on one database at the same time: only one of
# them sends batches at a time (no batch is ever in flight twice, so HQ
# never answers 409 request_in_progress), the others download or wait, and
# everything arrives once.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
hq_start
conf_set "$CONF" sync batch_size 5
pr init >/dev/null
N=150
for i in $(seq 1 "$N"); do
	pr customer create --first-name "C$i" >/dev/null
	printf '{"txn_id":"S0001-R01-%06d","kind":"customer_order","business_date":"2026-11-25","currency":"EUR","customer":{"local_number":"R01-%06d"},"lines":[{"sku":"S","qty":1,"unit_price_minor":100}],"tenders":[],"total_minor":100}' "$i" "$i" |
		pr txn record --from-json - >/dev/null
done

check "the service, two syncs and eod at once"
"$POSAGENT_BIN" -c "$CONF" run 2>"$T/run.log" &
run=$!
"$POSAGENT_BIN" -c "$CONF" sync >"$T/s1" 2>&1 &
s1=$!
"$POSAGENT_BIN" -c "$CONF" sync >"$T/s2" 2>&1 &
s2=$!
"$POSAGENT_BIN" -c "$CONF" eod --timeout 60 >"$T/eod.out" 2>"$T/eod.err" &
eod=$!
wait "$s1" || fail "sync 1 failed: $(cat "$T/s1")"
wait "$s2" || fail "sync 2 failed: $(cat "$T/s2")"
wait "$eod" || fail "eod failed: $(tail -3 "$T/eod.err")"
kill -TERM "$run"
wait "$run" || true
grep -q "posting P" "$T/eod.out" || fail "eod did not post"

check "everything at HQ once, no batch ever in flight twice"
hq_admin state >"$T/state.json"
[ "$(jq '.customers | length' "$T/state.json")" = "$N" ] || fail "HQ holds $(jq '.customers | length' "$T/state.json") customers"
[ "$(jq '.transactions' "$T/state.json")" = "$N" ] || fail "HQ holds $(jq .transactions "$T/state.json") transactions"
c409=$(jq '[.requests | to_entries[] | select(.key | endswith(" 409")) | .value] | add // 0' "$T/state.json")
[ "$c409" = 0 ] || fail "HQ answered 409 $c409 times: a batch was in flight twice"
[ "$(jq '.duplicates_seen' "$T/state.json")" = 0 ] || fail "a record was sent twice"
[ "$(sql "SELECT count(*) FROM customer WHERE state <> 'synced'")" = 0 ] || fail "customers left unsynced"
echo ok
