#!/bin/bash
# 16-txn: `posagent txn record --from-json FILE|-`, text and JSON.
#
# What happens: sales, returns and customer orders are recorded with no
# customer and with customers referred to by async id, local number and
# account (made here, synced, made at HQ); then retried identically, with
# the customer named another way, and changed under the same txn_id; then
# refused for an unknown customer, a wrong currency, a closed business
# date (a row in table statement, inserted with sqlite3), a txn_id of
# another register or store, numbers of 10^15 or more, and each rule of
# HQ-API.md's transaction validation.
# What must hold: a good transaction is stored pending and printed
# ({"txn_id", "state", "customer"}); an identical retry is 0 with nothing
# added; a different record under the same txn_id is 65; every refusal is
# 65 (64 for usage) with one line naming the field, and stores nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
setup
expect_rc 0 pa init

mk() { expect_rc 0 pa --json customer create "$@" && jget .async_id; }
ANA=$(mk --first-name Ana)
SYN=$(mk --first-name Sara)
sql "UPDATE customer SET state = 'synced', account = 'C004242' WHERE async_id = '$SYN';
	INSERT INTO customer(account, origin, state, kind, first_name, search_name, created_at, updated_at)
	VALUES ('C000777', 'hq', 'synced', 'person', 'Hugo', 'Hugo', '2026-01-01T00:00:00Z', 0)"

# txn FILE TXN_ID [JQ]: writes a valid cash-and-carry sale (2 x 12.99 in
# cash, no customer), changed by the jq filter JQ.
txn() {
	jq -n --arg id "$2" '{type: "transaction", txn_id: $id, kind: "cash_and_carry",
		business_date: "2026-11-25", created_at: "2026-11-25T10:02:00Z", currency: "EUR", customer: null,
		lines: [{sku: "SKU-1", qty: 2, unit_price_minor: 1299}],
		tenders: [{type: "cash", amount_minor: 2598}], total_minor: 2598}' | jq "${3:-.}" >"$1"
}
ntxn() { sql 'SELECT count(*) FROM txn'; }

check "a sale without a customer: text and JSON, stored pending with its tenders"
txn "$T/t1.json" S0001-R01-000001
expect_rc 0 pa txn record --from-json "$T/t1.json"
grep -qx 'recorded S0001-R01-000001  pending' "$T/out" || fail "txn record text output is wrong"
[ "$(sql "SELECT kind, business_date, customer_id IS NULL, total_minor, state, waiting_since IS NOT NULL
	FROM txn WHERE txn_id = 'S0001-R01-000001'")" = "cash_and_carry|2026-11-25|1|2598|pending|1" ] ||
	fail "the transaction is stored wrongly"
[ "$(sql "SELECT group_concat(type || ':' || amount_minor) FROM tender")" = "cash:2598" ] || fail "tenders not stored"
txn "$T/t2.json" S0001-R01-000002 '.type = null | del(.type) | del(.created_at)'
expect_rc 0 pa --json txn record --from-json "$T/t2.json"
jq -e '. == {"txn_id": "S0001-R01-000002", "state": "pending", "customer": null, "warnings": []}' "$T/out" >/dev/null ||
	fail "txn record --json is not {txn_id, state, customer, warnings}"
[ "$(sql "SELECT body LIKE '%\"created_at\":\"20%' FROM txn WHERE txn_id = 'S0001-R01-000002'")" = 1 ] ||
	fail "a transaction without created_at was not given one"

check "the customer by async id, local number or account"
txn "$T/t3.json" S0001-R01-000003 ".customer = {async_id: \"$ANA\"}"
expect_rc 0 pa txn record --from-json "$T/t3.json" --json
jq -e --arg a "$ANA" '.customer == {"async_id": $a, "account": null}' "$T/out" >/dev/null ||
	fail "customer by async id is not echoed"
txn "$T/t4.json" S0001-R01-000004 '.customer = {local_number: "R01-000001"} | .kind = "customer_order"'
expect_rc 0 pa txn record --from-json "$T/t4.json"
grep -qx "recorded S0001-R01-000004  pending  customer R01-000001" "$T/out" || fail "text output with a customer is wrong"
txn "$T/t5.json" S0001-R01-000005 '.customer = {account: "C004242"}'
expect_rc 0 pa --json txn record --from-json "$T/t5.json"
jq -e --arg a "$SYN" '.customer == {"async_id": $a, "account": "C004242"}' "$T/out" >/dev/null ||
	fail "customer by account (synced here) is not echoed with both ids"
txn "$T/t6.json" S0001-R01-000006 '.customer = {account: "C000777"}'
expect_rc 0 pa --json txn record --from-json - <"$T/t6.json"
jq -e '.customer == {"async_id": null, "account": "C000777"}' "$T/out" >/dev/null ||
	fail "customer made at HQ is not echoed by account"
[ "$(sql "SELECT group_concat(c.first_name) FROM txn t JOIN customer c ON c.id = t.customer_id ORDER BY t.id")" = \
	"Ana,Ana,Sara,Hugo" ] || fail "the transactions point at the wrong customers"

check "a return (negative qty and totals) is an ordinary transaction"
txn "$T/r1.json" S0001-R01-000007 '.lines[0].qty = -2 | .tenders[0].amount_minor = -2598 | .total_minor = -2598'
expect_rc 0 pa --json txn record --from-json "$T/r1.json"
[ "$(sql "SELECT total_minor FROM txn WHERE txn_id = 'S0001-R01-000007'")" = -2598 ] || fail "the return is not stored"
txn "$T/r2.json" S0001-R01-000008 '.lines += [{sku: "SKU-2", qty: -1, unit_price_minor: 598}] |
	.tenders = [{type: "cash", amount_minor: 1000}, {type: "card", amount_minor: 1000}] | .total_minor = 2000'
expect_rc 0 pa txn record --from-json "$T/r2.json"

check "an identical retry is 0 with nothing added, also with the customer named another way"
before=$(db_sum)
n=$(ntxn)
expect_rc 0 pa txn record --from-json "$T/t1.json"
grep -qx 'already recorded S0001-R01-000001  pending' "$T/out" || fail "a retry does not say 'already recorded'"
expect_rc 0 pa --json txn record --from-json "$T/t3.json"
jq -e --arg a "$ANA" '. == {"txn_id": "S0001-R01-000003", "state": "pending", "customer": {"async_id": $a, "account": null}, "warnings": []}' \
	"$T/out" >/dev/null || fail "a retry --json is wrong"
txn "$T/t3b.json" S0001-R01-000003 '.customer = {local_number: "R01-000001"}'
expect_rc 0 pa txn record --from-json "$T/t3b.json"
txn "$T/t5b.json" S0001-R01-000005 ".customer = {async_id: \"$SYN\"}"
expect_rc 0 pa txn record --from-json "$T/t5b.json"
expect_rc 0 pa txn record --from-json "$T/t2.json"
grep -q 'already recorded S0001-R01-000002' "$T/out" || fail "a retry without created_at is not 'already recorded'"
jq . "$T/t1.json" >"$T/t1-pretty.json"
expect_rc 0 pa txn record --from-json "$T/t1-pretty.json"
[ "$(ntxn)" = "$n" ] && [ "$(db_sum)" = "$before" ] || fail "a retry changed the database"

check "a different record under a recorded txn_id is 65 (txn_id_reused)"
for change in '.total_minor = 2599 | .tenders[0].amount_minor = 2599 | .lines[0].unit_price_minor = 2599 | .lines[0].qty = 1' \
	'.lines[0].sku = "SKU-9"' '.business_date = "2026-11-26"' ".customer = {async_id: \"$ANA\"}" \
	'.created_at = "2026-11-25T10:03:00Z"' \
	'.tenders = [{type: "card", amount_minor: 2598}]'; do
	txn "$T/d.json" S0001-R01-000001 "$change"
	expect_rc 65 pa txn record --from-json "$T/d.json"
	expect_err "S0001-R01-000001"
done
txn "$T/d.json" S0001-R01-000004 '.customer = {local_number: "R01-000001"}'
expect_rc 65 pa txn record --from-json "$T/d.json"
expect_err "S0001-R01-000004"
txn "$T/d.json" S0001-R01-000003 '.customer = {account: "C004242"}'
expect_rc 65 pa --json txn record --from-json "$T/d.json"
expect_json_err txn_id_reused txn_id
[ "$(db_sum)" = "$before" ] || fail "a reused txn_id changed the database"

ere_quote() { printf '%s' "$1" | sed 's/[].[*^$\\]/\\&/g'; }

# refused CODE FIELD JQ: the sale changed by JQ is refused with 65, CODE
# (any code when "*") and FIELD (null when ""), the text naming FIELD.
refused() {
	local code=$1 field=$2
	txn "$T/bad.json" S0001-R01-000099 "$3"
	expect_rc 65 pa txn record --from-json "$T/bad.json"
	expect_err "$(ere_quote "$field")"
	expect_rc 65 pa --json txn record --from-json "$T/bad.json"
	[ "$code" != "*" ] || code=$(jget .error.code)
	expect_json_err "$code" "$field"
}

check "an unknown customer, a wrong currency, another register's txn_id are 65"
refused unknown_customer customer '.customer = {async_id: "0b7c5e1e-8a3f-4d3c-9a57-1c2b3d4e5f60"}'
refused unknown_customer customer '.customer = {local_number: "R01-000099"}'
refused unknown_customer customer '.customer = {account: "C999999"}'
refused wrong_currency currency '.currency = "USD"'
refused invalid_txn_id txn_id '.txn_id = "S0001-R02-000001"'
refused invalid_txn_id txn_id '.txn_id = "S0002-R01-000001"'
refused invalid_txn_id txn_id '.txn_id = "S0001-R01-"'
refused invalid_txn_id txn_id '.txn_id = "000001"'
[ "$(db_sum)" = "$before" ] || fail "a refused transaction changed the database"

check "a closed business date is 65; a retry of a transaction of that date is still 0"
sql "INSERT INTO statement(business_date, statement_id, idem_key, body, state, frozen_at)
	VALUES ('2026-11-25', 'st-1', 'k-1', '{}', 'frozen', 0)"
before=$(db_sum)
refused date_closed business_date '.'
expect_rc 0 pa txn record --from-json "$T/t1.json"
grep -q 'already recorded' "$T/out" || fail "a retry on a closed date is not 'already recorded'"
txn "$T/d.json" S0001-R01-000001 '.total_minor = 1 | .tenders[0].amount_minor = 1 | .lines[0].unit_price_minor = 1 | .lines[0].qty = 1'
expect_rc 65 pa txn record --from-json "$T/d.json"
txn "$T/next.json" S0001-R01-000099 '.business_date = "2026-11-26"'
[ "$(db_sum)" = "$before" ] || fail "a transaction on a closed date changed the database"
expect_rc 0 pa txn record --from-json "$T/next.json"
sql "DELETE FROM statement" # open the date again for what follows

check "numbers: below 10^15 in absolute value, plain digits"
refused invalid_number lines[0].unit_price_minor '.lines[0] = {sku: "S", qty: 1, unit_price_minor: 1000000000000000} |
	.tenders[0].amount_minor = 1000000000000000 | .total_minor = 1000000000000000'
refused invalid_number total_minor '.lines = [{sku: "S", qty: -1, unit_price_minor: 999999999999999},
	{sku: "T", qty: -1, unit_price_minor: 1}] | .tenders = [{type: "cash", amount_minor: -999999999999999},
	{type: "cash", amount_minor: -1}] | .total_minor = -1000000000000000'
refused invalid_number lines[0].qty '.lines[0] = {sku: "S", qty: 1000000000000000, unit_price_minor: 0} |
	.tenders[0].amount_minor = 0 | .total_minor = 0'
refused invalid_number tenders[0].amount_minor '.tenders[0].amount_minor = 1000000000000001'
before=$(db_sum)
for raw in '"qty": 2.0' '"qty": 2e0' '"qty": 1.5' '"qty": 0.2e1'; do
	txn "$T/n.json" S0001-R01-000098
	sed "s/\"qty\": 2/$raw/" "$T/n.json" >"$T/n2.json"
	grep -qF "$raw" "$T/n2.json" || fail "test bug: $raw not in the file"
	expect_rc 65 pa --json txn record --from-json "$T/n2.json"
	[ "$(jget .error.code)" = invalid_number ] || fail "$raw is not invalid_number"
	expect_err "number|qty"
done
[ "$(db_sum)" = "$before" ] || fail "a refused number changed the database"
txn "$T/big.json" S0001-R01-000097 '.lines[0] = {sku: "S", qty: 1, unit_price_minor: 999999999999999} |
	.tenders[0].amount_minor = 999999999999999 | .total_minor = 999999999999999'
expect_rc 0 pa txn record --from-json "$T/big.json"
[ "$(sql "SELECT total_minor FROM txn WHERE txn_id = 'S0001-R01-000097'")" = 999999999999999 ] ||
	fail "10^15 - 1 is not stored exactly"
txn "$T/big.json" S0001-R01-000096 '.lines[0] = {sku: "S", qty: -1, unit_price_minor: 999999999999999} |
	.tenders[0].amount_minor = -999999999999999 | .total_minor = -999999999999999'
expect_rc 0 pa txn record --from-json "$T/big.json"

check "each transaction rule of HQ-API.md is 65 naming the field"
refused invalid_transaction total_minor '.total_minor = 2597'
refused invalid_transaction tenders '.tenders[0].amount_minor = 2000'
refused invalid_transaction lines '.lines = []'
refused invalid_transaction lines '.lines = [range(501) | {sku: "S", qty: 1, unit_price_minor: 1}] |
	.tenders[0].amount_minor = 501 | .total_minor = 501'
refused invalid_transaction lines[0].qty '.lines[0].qty = 0'
refused invalid_transaction tenders '.tenders = [range(21) | {type: "cash", amount_minor: 0}] |
	.lines[0].unit_price_minor = 0 | .total_minor = 0'
refused invalid_transaction business_date '.business_date = "2026-02-30"'
refused invalid_transaction business_date '.business_date = "25/11/2026"'
refused invalid_transaction currency '.currency = "eur"'
refused invalid_transaction kind '.kind = "layaway"'
refused customer_required customer '.kind = "customer_order"'
refused invalid_text lines[0].sku ".lines[0].sku = \"$(printf 'S%.0s' $(seq 65))\""
refused invalid_text tenders[0].type '.tenders[0].type = "Cash"'
refused invalid_text txn_id ".txn_id = \"S0001-R01-$(printf '1%.0s' $(seq 55))\""
refused invalid_text txn_id '.txn_id = "S0001-R01-00/1"'
refused invalid_record customer '.customer = {name: "Ana"}'
refused invalid_record customer '.customer = "R01-000001"'
refused invalid_record type '.type = "customer"'

check "wrong JSON types are 65 naming the field"
refused "*" txn_id '.txn_id = 1'
refused "*" lines[0].qty '.lines[0].qty = "2"'
refused "*" total_minor '.total_minor = "2598"'
refused "*" lines[0].unit_price_minor '.lines[0].unit_price_minor = null'
refused "*" tenders '.tenders = "cash"'
refused "*" lines '.lines = {sku: "S"}'
refused "*" business_date '.business_date = 20261125'
refused "*" currency '.currency = ["EUR"]'
refused "*" lines[0].sku '.lines[0].sku = true'
refused "*" "" '[.]'
refused "*" "" '"S0001-R01-000099"'
# a customer order's tenders may be a deposit: they need not add up
txn "$T/o.json" S0001-R01-000095 ".kind = \"customer_order\" | .customer = {async_id: \"$ANA\"} | .tenders[0].amount_minor = 500"
expect_rc 0 pa txn record --from-json "$T/o.json"

check "txn usage mistakes are 64; a file that is not there is refused"
before=$(db_sum)
expect_rc 64 pa txn record
expect_err "--from-json"
expect_rc 64 pa txn record --from-json
expect_err "missing value.*--from-json"
expect_rc 64 pa txn record --from-json "$T/t1.json" extra
expect_err "unexpected argument.*extra"
expect_rc 64 pa txn record --file "$T/t1.json"
expect_err "unknown option.*--file"
expect_rc 64 pa txn
expect_err "missing txn command"
expect_rc 64 pa txn void S0001-R01-000001
expect_err "unknown txn command.*void"
expect_rc 64 pa --json txn record
expect_json_err usage
expect_rc 0 pa txn --help
expect_rc 0 pa txn record --help
# AGENT.md lists no exit 66; a missing input file is the input's fault.
rc=0
pa txn record --from-json "$T/none.json" >"$T/out" 2>"$T/err" || rc=$?
case $rc in 64 | 65 | 74) ;; *) LAST_CMD="pa txn record --from-json $T/none.json" fail "exit $rc is not in AGENT.md's table (64, 65 or 74)" ;; esac
expect_err "none.json"
[ "$(db_sum)" = "$before" ] || fail "a txn usage mistake changed the database"

echo "ok"
