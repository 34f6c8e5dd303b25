#!/bin/bash
# Every rule of HQ-API.md's validation table rejects just its record with
# its code (common/validate, the same code as the agent), and a valid
# record of each type is accepted.
. "$(dirname "$0")/lib.bash"
hq_start
c=$(uuid)
post "$(batches S0001-R01)" S0001-R01 "$(batch "$(customer "$c")")"
eq "$(jb '.results[0].status')" accepted "base customer"

recs=() codes=()
case_() { recs+=("$1"); codes+=("$2"); }
long() { head -c "$1" /dev/zero | tr '\0' "${2:-a}"; }
tid() { echo "S0001-R01-$(uuid | tr -d - | head -c 12)"; }

case_ "$(customer "$(uuid)" '.first_name = null | .last_name = null')" missing_name
case_ "$(customer "$(uuid)" '.kind = "organization" | .organization_name = null')" missing_name
case_ "$(customer "$(uuid)" ".first_name = \"$(long 101)\"")" invalid_name
case_ "$(customer "$(uuid)" '.email = "ana@example"')" invalid_email
case_ "$(customer "$(uuid)" '.email = "a@@example.com"')" invalid_email
case_ "$(customer "$(uuid)" ".email = \"$(long 250)@example.com\"")" invalid_email
case_ "$(customer "$(uuid)" '.phone = "12345"')" invalid_phone
case_ "$(customer "$(uuid)" '.phone = "+351 91x 234 567"')" invalid_phone
case_ "$(customer "$(uuid)" '.attributes = {"Bad-Key": "x"}')" invalid_attribute
case_ "$(customer "$(uuid)" ".attributes = {k: \"$(long 201)\"}")" invalid_attribute
case_ "$(customer "$(uuid)" '.attributes = ([range(21)] | map({key: "k\(.)", value: "v"}) | from_entries)')" invalid_attribute
case_ "$(customer "$(uuid)" '.local_number = "R01\u0007"')" invalid_text
case_ "$(address "$(uuid)" "$c" '.country = "pt"')" invalid_address
case_ "$(address "$(uuid)" "$c" '.line1 = null')" invalid_address
case_ "$(address "$(uuid)" "$c" '.purpose = "work"')" invalid_address
case_ "$(address "$(uuid)" "$c" ".line2 = \"$(long 201)\"")" invalid_text
case_ "$(txn "S0001 R01 1" "$c")" invalid_text
case_ "$(txn "$(tid)" "$c" 2026-11-25 ".lines[0].sku = \"$(long 65)\"")" invalid_text
case_ "$(txn "$(tid)" "$c" | sed 's/"qty":2/"qty":2.0/')" invalid_number
case_ "$(txn "$(tid)" "$c" | sed 's/"total_minor":2598/"total_minor":2.598e3/')" invalid_number
case_ "$(txn "$(tid)" "$c" | sed 's/"unit_price_minor":1299/"unit_price_minor":1000000000000000/')" invalid_number
case_ "$(txn "$(tid)" "$c" 2026-11-25 '.lines[0].qty = 0')" invalid_transaction
case_ "$(txn "$(tid)" "$c" 2026-11-25 '.total_minor = 2597')" invalid_transaction
case_ "$(txn "$(tid)" "$c" 2026-11-25 '.tenders[0].amount_minor = 2000')" invalid_transaction
case_ "$(txn "$(tid)" "$c" 2026-02-30)" invalid_transaction
case_ "$(txn "$(tid)" "$c" 2026-11-25 '.currency = "eur"')" invalid_transaction
case_ "$(txn "$(tid)" "$c" 2026-11-25 '.lines = [] | .total_minor = 0 | .tenders = []')" invalid_transaction
case_ "$(txn "$(tid)" "$c" 2026-11-25 '.tenders = ([range(21)] | map({type: "cash", amount_minor: 0}))')" invalid_transaction
case_ "$(txn "$(tid)" "" 2026-11-25 '.kind = "customer_order"')" customer_required
case_ "$(txn "$(tid)" "$(uuid)")" unknown_customer
case_ "$(txn "$(tid)" "" 2026-11-25 '.customer = {account: "C424242"}')" unknown_account
# and valid ones: a return, a customer order, an organization, an address
case_ "$(txn "$(tid)" "$c" 2026-11-25 '.lines[0].qty = -1 | .total_minor = -1299 | .tenders[0].amount_minor = -1299')" accepted
case_ "$(txn "$(tid)" "$c" 2026-11-25 '.kind = "customer_order" | .tenders = [{type: "card", amount_minor: 100}]')" accepted
case_ "$(customer "$(uuid)" '.kind = "organization" | .organization_name = "Silva Lda" | .first_name = null | .last_name = null')" accepted
case_ "$(address "$(uuid)" "$c")" accepted

post "$(batches S0001-R01)" S0001-R01 "$(batch "${recs[@]}")"
expect_status 200 "validation batch"
eq "$(jb '.results | length')" ${#recs[@]} "one result per record"
for i in "${!recs[@]}"; do
	got=$(jb ".results[$i] | .code // .status")
	[ "$got" = "${codes[$i]}" ] || fail "record $i: $got, expected ${codes[$i]}: ${recs[$i]:0:200}"
	if [ "${codes[$i]}" != accepted ]; then
		[ "$(jb ".results[$i].status")" = rejected ] || fail "record $i not rejected"
		[ -n "$(jb ".results[$i].message")" ] || fail "record $i: no message"
	fi
done
ok "${#recs[@]} records: every rule rejects only its record with its code"

# Two records with bad numbers in one batch: each is rejected.
post "$(batches S0001-R01)" S0001-R01 "$(batch "$(txn "$(tid)" "$c" | sed 's/"qty":2/"qty":2.0/')" \
	"$(txn "$(tid)" "$c")" "$(txn "$(tid)" "$c" | sed 's/"qty":2/"qty":2e0/')")"
eq "$(jb '[.results[] | .code // .status] | join(" ")')" "invalid_number accepted invalid_number" "two bad numbers"
ok "invalid_number for each record holding one"
