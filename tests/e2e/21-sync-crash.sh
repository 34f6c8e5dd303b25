#!/bin/bash
# `posagent run` is killed with SIGKILL at 30 random moments while it
# uploads a backlog in small batches, with HQ's "drop after commit" fault
# (HQ stores the batch, then closes the connection without replying) mixed
# in. At the end every record is at HQ exactly once, every customer is
# synced here, and nothing is missing or stuck.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
hq_start
N=${N:-400}
conf_set "$CONF" sync batch_size 7
BATCHES=/v1/stores/S0001/registers/R01/batches

check "a backlog of $N customers and $N transactions"
pr init >/dev/null
for i in $(seq 1 "$N"); do
	aid=$(pr --json customer create --first-name "F$i" | jq -r .async_id)
	printf '{"txn_id":"S0001-R01-%06d","kind":"customer_order","business_date":"2026-11-25","currency":"EUR","customer":{"async_id":"%s"},"lines":[{"sku":"S","qty":1,"unit_price_minor":100}],"tenders":[],"total_minor":100}' "$i" "$aid" |
		pr txn record --from-json - >/dev/null
done

check "kill -9 the service 30 times while it uploads, with drop-after-commit faults"
for k in $(seq 1 30); do
	if [ $((k % 3)) -eq 0 ]; then
		hq_admin fault "{\"path\":\"$BATCHES\",\"kind\":\"drop_after_commit\",\"count\":1}" >/dev/null
	fi
	"$POSAGENT_BIN" -c "$CONF" run 2>>"$T/run.log" &
	pid=$!
	sleep "0.$((RANDOM % 4))$((RANDOM % 10))"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
done
sql "PRAGMA integrity_check" | grep -qx ok || fail "database damaged"

check "then a clean finish: sync until nothing is left"
hq_admin reset-faults >/dev/null || true
for try in 1 2 3; do
	rc=0
	pr --json sync >"$T/out" 2>"$T/err" || rc=$?
	[ $rc -eq 0 ] && [ "$(jget .pending)" = 0 ] && break
done
[ $rc -eq 0 ] || fail "sync did not finish"
[ "$(jget .pending)" = 0 ] || fail "records stuck after the crashes"
[ "$(sql "SELECT count(*) FROM customer WHERE state='synced'")" = "$N" ] || fail "customers not all synced"
[ "$(sql "SELECT count(*) FROM txn WHERE state='uploaded'")" = "$N" ] || fail "transactions not all uploaded"
[ "$(sql "SELECT count(*) FROM batch")" = 0 ] || fail "a frozen batch was left behind"
hq_admin state >"$T/state.json"
[ "$(jq '.customers | length' "$T/state.json")" = "$N" ] || fail "HQ holds $(jq '.customers | length' "$T/state.json") customers, not $N"
[ "$(jq '[.customers[].async_id] | unique | length' "$T/state.json")" = "$N" ] || fail "HQ holds a customer twice"
[ "$(jq '.transactions' "$T/state.json")" = "$N" ] || fail "HQ holds $(jq .transactions "$T/state.json") transactions, not $N"
[ "$(sql "SELECT count(DISTINCT account) FROM customer")" = "$N" ] || fail "accounts not distinct"
echo "HQ saw $(jq .duplicates_seen "$T/state.json") duplicate records (resent after a kill), stored none twice"
echo ok
