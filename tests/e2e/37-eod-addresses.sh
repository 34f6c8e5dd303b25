#!/bin/bash
# 37-eod-addresses: a day whose sales name async addresses, made offline,
# synced with their orders, and gated before end of day (issue 11).
#
# What happens: HQ is down. Two customers are made with one address each;
# a customer order names Ana's delivery address, a cash sale Rui's invoice
# address (by async id: HQ has given no ids yet). `eod` runs offline and
# times out; HQ comes up assigning only when its operator runs the job;
# `eod` uploads everything (customers, then addresses, then the sales, in
# one batch) and waits, naming each address by its customer's local
# number and its purpose; the operator runs the job; `eod` posts.
# What must hold: offline, --check is 75 and --json's blocking lists the
# addresses with kind, id, purpose, local_number, state and reason;
# `status` counts the unsynced addresses of the open date; once up, HQ
# holds both sales with the async addresses and no statement while the
# addresses wait; eod's progress names "R01-000001 delivery address" as
# waiting for HQ to assign; after the job, eod posts, every address is
# synced with HQ's address id (customer show, txn show), and the posted
# statement lists both sales.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
setup

. "$(dirname "$0")/eodlib.sh"

hq start --assign manual --prepare-only >/dev/null
expect_rc 0 pa init
expect_rc 0 pa --json customer create --first-name Ana --last-name Silva
ANA=$(jget .async_id)
expect_rc 0 pa --json customer create --first-name Rui --last-name Costa
RUI=$(jget .async_id)
expect_rc 0 pa --json customer address add R01-000001 --line1 "Rua Augusta 1" --city Lisboa --postal-code 1100-048 \
	--country PT --purpose delivery --primary
AD=$(jget .async_id)
jq -e '.address_id == null and .state == "pending"' "$T/out" >/dev/null || fail "new address: $(cat "$T/out")"
expect_rc 0 pa --json customer address add R01-000002 --line1 "Rua do Ouro 2" --city Lisboa --postal-code 1100-060 \
	--country PT --purpose invoice
AI=$(jget .async_id)
order() { # order N CUSTOMER MEMBER ADDRESS KIND TOTAL
	printf '{"txn_id":"S0001-R01-%06d","kind":"%s","business_date":"%s","currency":"EUR","customer":{"async_id":"%s"},"%s":{"async_id":"%s"},"lines":[{"sku":"SKU-1","qty":1,"unit_price_minor":%d}],"tenders":[{"type":"cash","amount_minor":%d}],"total_minor":%d}' \
		"$1" "$5" "$D" "$2" "$3" "$4" "$6" "$6" "$6" >"$T/txn.json"
	expect_rc 0 pa --json txn record --from-json "$T/txn.json"
	jq -e '.state == "pending" and .warnings == []' "$T/out" >/dev/null || fail "txn record: $(cat "$T/out")"
}
order 1 "$ANA" delivery_address "$AD" customer_order 4500
order 2 "$RUI" invoice_address "$AI" cash_and_carry 1200

check "offline: --check is 75; --json names each address by kind, id, purpose, its customer's number, state, reason"
expect_rc 75 pa eod --check
expect_rc 75 pa --json eod --timeout 2
jq -e --arg ad "$AD" --arg ai "$AI" '.result == "timeout" and .referenced_customers == 2 and .referenced_addresses == 2
	and .synced == 0
	and ([.blocking[] | select(.kind == "address")] == [
	  {"kind": "address", "id": $ad, "purpose": "delivery", "async_id": $ad, "local_number": "R01-000001",
	   "state": "pending", "reason": .blocking[2].reason, "last_error": .blocking[2].last_error},
	  {"kind": "address", "id": $ai, "purpose": "invoice", "async_id": $ai, "local_number": "R01-000002",
	   "state": "pending", "reason": .blocking[3].reason, "last_error": .blocking[3].last_error}])
	and ([.blocking[] | .reason] | unique) == ["hq_unreachable"]
	and ([.blocking[] | .kind] == ["customer", "customer", "address", "address"])' "$T/out" >/dev/null ||
	fail "eod --json offline: $(cat "$T/out")"
grep -q 'R01-000001 delivery address' "$T/err" || fail "the progress does not name the address by number and purpose"
expect_rc 0 pa --json status
jq -e --arg d $D '.open_dates == [{"business_date": $d, "transactions": 2, "unsynced_customers": 2,
	"unsynced_addresses": 2, "transactions_not_uploaded": 2, "statement": null}] or
	(.open_dates[0] | .unsynced_addresses == 2 and .unsynced_customers == 2)' "$T/out" >/dev/null ||
	fail "status open dates: $(jq -c .open_dates "$T/out")"
jq -e '.addresses.pending == 2 and .addresses.synced == 0' "$T/out" >/dev/null || fail "status address counts: $(jq -c .addresses "$T/out")"
expect_rc 0 pa status
grep -q '2 addresses not synced' "$T/out" || fail "status text does not count the unsynced addresses"

check "HQ up (manual job): eod uploads everything in dependency order and waits, naming the addresses"
hq start >/dev/null
pa_bg "$T/eod.out" "$T/eod.err" eod --timeout 60
wait_for "$T/eod.err" 'waiting for HQ to assign: R01-000001, R01-000002, R01-000001 delivery address, R01-000002 invoice address' 20
hq admin state >"$T/state.json"
jq -e '.transactions == 2 and .addresses == 2 and (.customers | length) == 2 and .statements == []
	and .pending_customers == 2' "$T/state.json" >/dev/null || fail "HQ before the job: $(jq -c . "$T/state.json")"
[ "$(sql "SELECT group_concat(state) FROM (SELECT state FROM address ORDER BY id)")" = uploaded,uploaded ] ||
	fail "addresses after upload: $(sql "SELECT group_concat(state) FROM address")"
expect_rc 0 pa sync --pull # the bookkeeping: HQ answers again (eod --check reads only that)
expect_rc 75 pa --json eod --check
jq -e '[.blocking[] | select(.kind == "address") | .state + "/" + .reason] ==
	["uploaded/waiting_for_assignment", "uploaded/waiting_for_assignment"]' "$T/out" >/dev/null ||
	fail "eod --check --json while waiting: $(cat "$T/out")"
grep -Eqi 'ana|rui|silva|costa|augusta|ouro' "$T/eod.err" && fail "progress names a person or an address line"

check "the operator runs HQ's job: eod posts, every address is synced with HQ's id"
hq admin assign >/dev/null
rc=0
wait $pid || rc=$?
[ $rc -eq 0 ] || { cat "$T/eod.err" >&2; fail "eod exited $rc after the assignment"; }
hq admin state >"$T/state.json"
[ "$(jq '.statements | length' "$T/state.json")" = 1 ] || fail "HQ holds no statement"
jq -e '.statements[0].transaction_count == 2 and .statements[0].sales_minor == 5700' "$T/state.json" >/dev/null ||
	fail "HQ's statement: $(jq -c .statements "$T/state.json")"
[ "$(sql "SELECT count(*) FROM address WHERE state = 'synced' AND address_id IS NOT NULL")" = 2 ] ||
	fail "addresses after the job: $(sql "SELECT state, address_id FROM address")"
AID=$(sql "SELECT address_id FROM address WHERE async_id = '$AD'")
expect_rc 0 pa --json customer show R01-000001
jq -e --arg a "$AID" '.addresses[0].state == "synced" and .addresses[0].address_id == $a' "$T/out" >/dev/null ||
	fail "customer show: $(jq -c .addresses "$T/out")"
expect_rc 0 pa customer show R01-000001
grep -q "delivery, primary  Rua Augusta 1, 1100-048 Lisboa, PT  \[$AID\]" "$T/out" || fail "customer show text: $(cat "$T/out")"
expect_rc 0 pa --json txn show S0001-R01-000001
jq -e --arg a "$AID" --arg ad "$AD" '.delivery_address == {"async_id": $ad, "address_id": $a, "state": "synced"}
	and .invoice_address == null and .customer.state == "synced" and .state == "uploaded"' "$T/out" >/dev/null ||
	fail "txn show: $(cat "$T/out")"
expect_rc 0 pa --json eod --date $D
jq -e '.result == "posted" and .referenced_addresses == 2 and .synced == 4 and .blocking == []' "$T/out" >/dev/null ||
	fail "eod --json after posting: $(cat "$T/out")"
echo ok
