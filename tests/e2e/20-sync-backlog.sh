#!/bin/bash
# A register works offline: 1,000 customers, 1,000 addresses and 2,000
# transactions (sales with and without a customer, customer orders) are
# made while HQ is down. `sync` exits 69 and nothing is lost. HQ comes up:
# `sync` exits 0, HQ holds each record exactly once and every customer is
# synced here with a distinct account.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
hq_start --prepare-only
# 1,000 by default; 250 under the sanitizers (make test SANITIZE=1), where
# the 4,000 commands that build the backlog took over 15 minutes alone:
# the sync itself is the same code at either size.
if [ -n "${PA_SANITIZED:-}" ]; then N=${N:-250}; else N=${N:-1000}; fi

check "create $N customers, $N addresses, $((2 * N)) transactions offline"
pr init >/dev/null
for i in $(seq 1 "$N"); do
	pr --json customer create --first-name "First$i" --last-name "Last$i" --email "c$i@example.com" >"$T/c.json"
	aid=$(jq -r .async_id "$T/c.json")
	ln=$(jq -r .local_number "$T/c.json")
	pr customer address add "$aid" --line1 "Street $i" --city Lisboa --postal-code 1100-048 --country PT >/dev/null
	# one sale naming the customer (by async id or local number), and one
	# transaction more: a customer order or a sale without customer
	if [ $((i % 2)) -eq 0 ]; then ref="{\"async_id\":\"$aid\"}"; else ref="{\"local_number\":\"$ln\"}"; fi
	printf '{"txn_id":"S0001-R01-A%06d","kind":"cash_and_carry","business_date":"2026-11-25","currency":"EUR","customer":%s,"lines":[{"sku":"SKU-1","qty":2,"unit_price_minor":150}],"tenders":[{"type":"cash","amount_minor":300}],"total_minor":300}' "$i" "$ref" |
		pr txn record --from-json - >/dev/null
	if [ $((i % 2)) -eq 0 ]; then
		printf '{"txn_id":"S0001-R01-B%06d","kind":"customer_order","business_date":"2026-11-25","currency":"EUR","customer":{"async_id":"%s"},"lines":[{"sku":"SKU-2","qty":1,"unit_price_minor":999}],"tenders":[],"total_minor":999}' "$i" "$aid"
	else
		printf '{"txn_id":"S0001-R01-B%06d","kind":"cash_and_carry","business_date":"2026-11-25","currency":"EUR","customer":null,"lines":[{"sku":"SKU-3","qty":-1,"unit_price_minor":500}],"tenders":[{"type":"card","amount_minor":-500}],"total_minor":-500}' "$i"
	fi | pr txn record --from-json - >/dev/null
done
[ "$(sql "SELECT count(*) FROM customer WHERE state='pending'")" = "$N" ] || fail "customers not all pending"
[ "$(sql "SELECT count(*) FROM txn WHERE state='pending'")" = "$((2 * N))" ] || fail "transactions not all pending"

check "HQ down: sync exits 69, nothing lost"
expect_rc 69 pr sync
expect_err "unreachable|connect"
[ "$(sql "SELECT count(*) FROM customer WHERE state='pending'")" = "$N" ] || fail "customers changed while HQ was down"
[ "$(sql "SELECT count(*) FROM address WHERE state='pending'")" = "$N" ] || fail "addresses changed while HQ was down"

check "HQ up: sync exits 0, everything at HQ once, every customer synced"
hq_start
expect_rc 0 pr --json sync
[ "$(jget .uploaded)" = "$((4 * N))" ] || fail "sync uploaded $(jget .uploaded), not $((4 * N))"
[ "$(jget .pending)" = 0 ] || fail "records still pending after sync"
# each 200 is applied while the next batch is in flight, the last one
# before sync lets the upload lock go: no batch is left sent and unapplied
[ "$(sql "SELECT count(*) FROM batch")" = 0 ] || fail "batches left after sync: $(sql "SELECT id, sent FROM batch")"
[ "$(sql "SELECT count(*) FROM customer WHERE state='synced' AND account IS NOT NULL")" = "$N" ] || fail "not every customer is synced"
[ "$(sql "SELECT count(DISTINCT account) FROM customer")" = "$N" ] || fail "accounts are not distinct"
[ "$(sql "SELECT count(*) FROM address WHERE state='synced' AND address_id IS NOT NULL")" = "$N" ] || fail "addresses not synced with HQ's ids: $(sql "SELECT state, count(*) FROM address GROUP BY state")"
[ "$(sql "SELECT count(*) FROM txn WHERE state='uploaded'")" = "$((2 * N))" ] || fail "transactions not uploaded"
hq_admin state >"$T/state.json"
[ "$(jq '.customers | length' "$T/state.json")" = "$N" ] || fail "HQ holds $(jq '.customers | length' "$T/state.json") customers"
[ "$(jq '[.customers[].async_id] | unique | length' "$T/state.json")" = "$N" ] || fail "HQ holds a customer twice"
[ "$(jq '.addresses' "$T/state.json")" = "$N" ] || fail "HQ holds $(jq .addresses "$T/state.json") addresses"
[ "$(jq '.transactions' "$T/state.json")" = "$((2 * N))" ] || fail "HQ holds $(jq .transactions "$T/state.json") transactions"
[ "$(jq '.duplicates_seen' "$T/state.json")" = 0 ] || fail "HQ saw duplicates on a clean run"
# dependency order: no record came before its customer or address, so
# none was answered unknown_customer/unknown_address and sent again: HQ
# received each record exactly once. The batches are full but for the few
# frozen while the one before was in flight (what depends on that one
# waits for the next batch): at most two more than full batches would be.
[ "$(jq '.records_received' "$T/state.json")" = $((4 * N)) ] ||
	fail "HQ received $(jq '.records_received' "$T/state.json") records for $((4 * N)): some went before what they name"
posts=$(jq '.requests["POST /v1/stores/S0001/registers/R01/batches 200"] // 0' "$T/state.json")
[ "$posts" -le $(( (4 * N + 199) / 200 + 2 )) ] || fail "$posts batches for $((4 * N)) records"
# the accounts here are HQ's
jq -r '.customers[] | "\(.async_id) \(.account)"' "$T/state.json" | sort >"$T/hq-acc"
sql "SELECT async_id || ' ' || account FROM customer" | sort >"$T/my-acc"
cmp -s "$T/hq-acc" "$T/my-acc" || fail "accounts here differ from HQ's"

check "a second sync has nothing to do"
expect_rc 0 pr --json sync
[ "$(jget .uploaded)" = 0 ] || fail "second sync uploaded again"
echo ok
