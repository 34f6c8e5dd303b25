#!/bin/bash
# 38-txn-addresses: what `txn record` accepts and refuses about addresses,
# `txn show`/`txn list`, one primary per purpose, and a rejected address
# that blocks end of day until a person corrects it (issue 11).
#
# What happens: two customers with addresses; sales naming an address of
# another customer, an unknown address, an address on a sale without a
# customer, a member HQ-API.md does not name (also in `customer create
# --from-json`); a second primary delivery address; HQ (assigning at
# once) rejects one address; a sale names it; eod; `customer address
# edit` corrects it; eod again.
# What must hold: each refusal is 65 naming the member and stores nothing;
# a primary needs a purpose (65 invalid_address) and the new primary
# demotes the old; the sale naming the rejected address is recorded with
# a warning on stderr and in "warnings"; eod --check and eod are 65 at
# once naming the address by its customer's number, purpose and code
# (blocking kind address, state rejected); the transaction naming it was
# not rejected (it waits: pending); after the correction eod posts and HQ
# holds the address once, with the sale; txn show and txn list show
# states, references and HQ's error, in text and JSON.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
setup

. "$(dirname "$0")/eodlib.sh"

hq start >/dev/null
expect_rc 0 pa init
expect_rc 0 pa --json customer create --first-name Ana
ANA=$(jget .async_id)
expect_rc 0 pa --json customer create --first-name Rui
RUI=$(jget .async_id)
addr() { # addr CUSTOMER PURPOSE LINE1 [--primary]
	expect_rc 0 pa --json customer address add "$1" --line1 "$3" --city Lisboa --postal-code 1100 --country PT \
		--purpose "$2" "${@:4}"
	jget .async_id
}
A1=$(addr R01-000001 delivery "Rua 1" --primary)
A2=$(addr R01-000001 invoice "Rua 2")
R1=$(addr R01-000002 delivery "Rua 9")
txn() { # txn N CUSTOMER_JSON EXTRA_MEMBERS
	printf '{"txn_id":"S0001-R01-%06d","kind":"customer_order","business_date":"%s","currency":"EUR","customer":%s%s,"lines":[{"sku":"SKU-1","qty":1,"unit_price_minor":100}],"tenders":[],"total_minor":100}' \
		"$1" "$D" "$2" "$3" >"$T/txn.json"
}

check "refused, 65 naming the member, nothing stored: another customer's address, unknown, no customer, unknown member"
before=$(db_sum)
txn 1 "{\"async_id\":\"$ANA\"}" ",\"delivery_address\":{\"async_id\":\"$R1\"}"
expect_rc 65 pa --json txn record --from-json "$T/txn.json"
expect_json_err address_mismatch delivery_address
txn 1 "{\"async_id\":\"$ANA\"}" ",\"invoice_address\":{\"address_id\":\"A999999\"}"
expect_rc 65 pa txn record --from-json "$T/txn.json"
expect_err 'invoice_address: no address here has the address_id "A999999"'
printf '{"txn_id":"S0001-R01-000001","kind":"cash_and_carry","business_date":"%s","currency":"EUR","customer":null,"delivery_address":{"async_id":"%s"},"lines":[{"sku":"S","qty":1,"unit_price_minor":100}],"tenders":[{"type":"cash","amount_minor":100}],"total_minor":100}' \
	"$D" "$A1" >"$T/txn.json"
expect_rc 65 pa txn record --from-json "$T/txn.json"
expect_err 'delivery_address: a sale without a customer cannot name an address'
txn 1 "{\"async_id\":\"$ANA\"}" ",\"shipping_address\":{\"async_id\":\"$A1\"}"
expect_rc 65 pa --json txn record --from-json "$T/txn.json"
expect_json_err invalid_record shipping_address
echo '{"first_name":"Eva","nickname":"Evinha"}' >"$T/cust.json"
expect_rc 65 pa --json customer create --from-json "$T/cust.json"
expect_json_err invalid_record nickname
[ "$(db_sum)" = "$before" ] || fail "a refused command stored something"

check "one primary per purpose: a primary needs a purpose; a new primary demotes the old"
expect_rc 65 pa --json customer address add R01-000001 --line1 X --city Y --postal-code 1 --country PT --primary
expect_json_err invalid_address primary
A3=$(addr R01-000001 delivery "Rua 3" --primary)
[ "$(sql "SELECT group_concat(async_id || ':' || is_primary, ' ') FROM (SELECT * FROM address WHERE purpose = 'delivery' AND customer_id = 1 ORDER BY id)")" = "$A1:0 $A3:1" ] ||
	fail "primary delivery addresses: $(sql "SELECT async_id, purpose, is_primary FROM address")"
[ "$(sql "SELECT is_primary FROM address WHERE async_id = '$A2'")" = 0 ] || fail "another purpose was touched"

check "HQ rejects Ana's invoice address; a sale naming it is recorded with a warning"
hq admin fault "{\"kind\":\"reject\",\"record\":\"address\",\"id\":\"$A2\",\"code\":\"invalid_address\"}" >/dev/null
expect_rc 0 pa sync
[ "$(sql "SELECT state || '/' || last_code FROM address WHERE async_id = '$A2'")" = rejected/invalid_address ] ||
	fail "address after sync: $(sql "SELECT async_id, state, last_code FROM address")"
[ "$(sql "SELECT count(*) FROM address WHERE state = 'synced' AND address_id IS NOT NULL")" = 3 ] ||
	fail "the other addresses are not synced: $(sql "SELECT async_id, state, address_id FROM address")"
txn 2 '{"local_number":"R01-000001"}' ",\"delivery_address\":{\"async_id\":\"$A1\"},\"invoice_address\":{\"async_id\":\"$A2\"}"
expect_rc 0 pa --json txn record --from-json "$T/txn.json"
jq -e '.state == "pending" and (.warnings | length) == 1 and .warnings[0].code == "address_rejected"' "$T/out" >/dev/null ||
	fail "txn record --json: $(cat "$T/out")"
grep -q 'warning: .*invoice.*R01-000001.*invalid_address.*end of day will wait' "$T/err" || fail "no warning on stderr: $(cat "$T/err")"
AID1=$(sql "SELECT address_id FROM address WHERE async_id = '$A1'")
txn 3 "{\"async_id\":\"$RUI\"}" ",\"delivery_address\":{\"address_id\":\"$(sql "SELECT address_id FROM address WHERE async_id = '$R1'")\"}"
expect_rc 0 pa txn record --from-json "$T/txn.json"
expect_rc 0 pa sync
[ "$(sql "SELECT group_concat(state, ',') FROM (SELECT state FROM txn ORDER BY id)")" = pending,uploaded ] ||
	fail "the sale naming the rejected address must wait, not be rejected: $(sql "SELECT txn_id, state, last_code FROM txn")"

check "eod: 65 at once, naming the address by its customer's number, purpose and code"
expect_rc 65 pa eod --check
expect_rc 65 pa --json eod --timeout 30
jq -e --arg a "$A2" '.result == "rejected" and ([.blocking[] | select(.reason == "rejected")] | length) == 1
	and (.blocking[] | select(.reason == "rejected") | .kind == "address" and .id == $a and .purpose == "invoice"
	     and .local_number == "R01-000001" and .state == "rejected" and .code == "invalid_address")' "$T/out" >/dev/null ||
	fail "eod --json: $(cat "$T/out")"
expect_rc 65 pa eod --timeout 30
grep -q "R01-000001 invoice address $A2 (invalid_address" "$T/err" || fail "eod's message: $(tail -1 "$T/err")"
grep -q 'customer address edit' "$T/err" || fail "eod does not say how to correct an address"

check "txn show / txn list: states, references, HQ's error; text and JSON"
expect_rc 0 pa --json txn show S0001-R01-000002
jq -e --arg a1 "$A1" --arg a2 "$A2" --arg id1 "$AID1" --arg c "$ANA" '.txn_id == "S0001-R01-000002" and .state == "pending"
	and .customer == {"async_id": $c, "local_number": "R01-000001", "account": .customer.account, "state": "synced"}
	and .delivery_address == {"async_id": $a1, "address_id": $id1, "state": "synced"}
	and .invoice_address == {"async_id": $a2, "address_id": null, "state": "rejected"}
	and .last_error == null and .lines == [{"sku": "SKU-1", "qty": 1, "unit_price_minor": 100}]
	and .total_minor == 100 and .type == "transaction"' "$T/out" >/dev/null || fail "txn show --json: $(cat "$T/out")"
expect_rc 0 pa txn show S0001-R01-000002
grep -Eq "^  invoice address: +$A2  rejected  \[Needs attention\]$" "$T/out" || fail "txn show text: $(cat "$T/out")"
expect_rc 65 pa txn show S0001-R01-000099
expect_err 'no transaction here has the txn_id'
expect_rc 0 pa --json txn list
jq -e '[.[] | .txn_id] == ["S0001-R01-000003", "S0001-R01-000002"]' "$T/out" >/dev/null || fail "txn list: $(cat "$T/out")"
expect_rc 0 pa --json txn list --state pending --date $D --limit 5
jq -e '[.[] | .txn_id] == ["S0001-R01-000002"]' "$T/out" >/dev/null || fail "txn list --state pending: $(cat "$T/out")"
expect_rc 0 pa txn list --limit 1
[ "$(wc -l <"$T/out")" = 1 ] && grep -q '^S0001-R01-000003  2026-11-25  customer_order  uploaded' "$T/out" ||
	fail "txn list text: $(cat "$T/out")"
expect_rc 64 pa txn list --state synced
expect_rc 64 pa txn list --date 2026-02-30

check "customer address edit corrects it; eod posts; HQ holds the address once, with the sale"
expect_rc 0 pa customer address edit "$A2" --line1 "Rua 2 corrigida"
expect_rc 0 pa --json eod --timeout 60
jq -e '.result == "posted" and .referenced_addresses == 3 and .synced == 5' "$T/out" >/dev/null || fail "eod after the correction: $(cat "$T/out")"
hq admin state >"$T/state.json"
jq -e '.transactions == 2 and .addresses == 4 and (.address_ids | length) == 4 and (.address_ids | unique | length) == 4
	and .statements[0].transaction_count == 2' "$T/state.json" >/dev/null || fail "HQ: $(jq -c . "$T/state.json")"
echo ok
