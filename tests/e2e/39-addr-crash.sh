#!/bin/bash
# 39-addr-crash: `posagent run` is killed with SIGKILL at random moments
# while it uploads customers, their addresses and the sales that name those
# addresses (one batch may carry all three, a sale after its address after
# its customer), with HQ's "drop after commit" fault mixed in (HQ stores
# the batch, then closes the connection without replying).
# What must hold: afterwards a clean sync finishes; every customer, address
# and sale is at HQ exactly once (HQ answered duplicate to the resent ones),
# every address is synced here with a distinct HQ address id, every sale
# uploaded, no batch left behind, the database intact; HQ accepted every
# sale (none was rejected for naming an address it did not hold yet).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
hq_start
N=${N:-60}
conf_set "$CONF" sync batch_size 7
BATCHES=/v1/stores/S0001/registers/R01/batches

check "$N customers, each with a delivery address and a customer order naming it"
pr init >/dev/null
for i in $(seq 1 "$N"); do
	cid=$(pr --json customer create --first-name "F$i" | jq -r .async_id)
	aid=$(pr --json customer address add "$cid" --line1 "Rua $i" --city Lisboa --postal-code 1100 --country PT \
		--purpose delivery | jq -r .async_id)
	printf '{"txn_id":"S0001-R01-%06d","kind":"customer_order","business_date":"2026-11-25","currency":"EUR","customer":{"async_id":"%s"},"delivery_address":{"async_id":"%s"},"lines":[{"sku":"S","qty":1,"unit_price_minor":100}],"tenders":[],"total_minor":100}' \
		"$i" "$cid" "$aid" | pr txn record --from-json - >/dev/null
done

check "kill -9 the service 20 times while it uploads, with drop-after-commit faults"
for k in $(seq 1 20); do
	if [ $((k % 3)) -eq 0 ]; then
		hq_admin fault "{\"path\":\"$BATCHES\",\"kind\":\"drop_after_commit\",\"count\":1}" >/dev/null
	else # slow answers: the kill lands while a batch is in flight
		hq_admin fault "{\"path\":\"$BATCHES\",\"kind\":\"delay\",\"delay_ms\":200,\"count\":2}" >/dev/null
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
[ "$(sql "SELECT count(*) FROM customer WHERE state = 'synced'")" = "$N" ] || fail "customers not all synced"
[ "$(sql "SELECT count(DISTINCT address_id) FROM address WHERE state = 'synced'")" = "$N" ] ||
	fail "addresses not all synced: $(sql "SELECT state, count(*) FROM address GROUP BY state")"
[ "$(sql "SELECT count(*) FROM txn WHERE state = 'uploaded'")" = "$N" ] ||
	fail "sales not all uploaded: $(sql "SELECT state, last_code, count(*) FROM txn GROUP BY 1, 2")"
[ "$(sql "SELECT count(*) FROM batch")" = 0 ] || fail "a frozen batch was left behind"
hq_admin state >"$T/state.json"
[ "$(jq '.customers | length' "$T/state.json")" = "$N" ] || fail "HQ holds $(jq '.customers | length' "$T/state.json") customers, not $N"
[ "$(jq '[.customers[].async_id] | unique | length' "$T/state.json")" = "$N" ] || fail "HQ holds a customer twice"
[ "$(jq '.addresses' "$T/state.json")" = "$N" ] || fail "HQ holds $(jq .addresses "$T/state.json") addresses, not $N"
[ "$(jq '.address_ids | unique | length' "$T/state.json")" = "$N" ] || fail "HQ holds an address twice"
[ "$(jq '.transactions' "$T/state.json")" = "$N" ] || fail "HQ holds $(jq .transactions "$T/state.json") sales, not $N"
[ "$(sql "SELECT count(*) FROM address a JOIN txn t ON t.delivery_address_id = a.id")" = "$N" ] ||
	fail "a sale lost its address"
echo "HQ saw $(jq .duplicates_seen "$T/state.json") duplicate records (resent after a kill), stored none twice"
echo ok
