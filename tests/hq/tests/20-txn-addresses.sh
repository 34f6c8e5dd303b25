#!/bin/bash
# Transactions that name addresses (revision 2026-11-30): delivery_address
# and invoice_address are {async_id} or {address_id} of an address HQ
# holds (earlier, or earlier in the same batch), else unknown_address; an
# address of another customer, or any address on a sale without customer,
# is address_mismatch; HQ keeps the addresses as they were when it
# accepted the sale (a later address_update does not rewrite it); a
# statement listing a sale whose customer or address has no account or
# address id yet is 409 unsynced_references (customers, addresses), and
# posts under the same key once the job ran.
. "$(dirname "$0")/lib.bash"
hq_start --assign manual
D=2026-11-25
c1=$(uuid) c2=$(uuid) a1=$(uuid) a2=$(uuid) a3=$(uuid)
da() { jq -c ".delivery_address = {$1}"; }

post "$(batches S0001-R01)" S0001-R01 "$(batch "$(customer "$c1")" "$(address "$a1" "$c1")" \
	"$(customer "$c2" '.local_number = "R01-000002"')" "$(address "$a2" "$c2")" \
	"$(txn S0001-R01-000001 "$c1" $D | da "async_id: \"$a1\"" | jq -c ".invoice_address = {async_id: \"$a1\"}")" \
	"$(txn S0001-R01-000002 "$c1" $D | da "async_id: \"$a2\"")" \
	"$(txn S0001-R01-000003 "" $D | da "async_id: \"$a1\"")" \
	"$(txn S0001-R01-000004 "$c1" $D | da "async_id: \"$a3\"")" \
	"$(txn S0001-R01-000005 "$c1" $D | da 'address_id: "A999999"')" \
	"$(address "$a3" "$c1" '.purpose = "invoice"')" \
	"$(txn S0001-R01-000004 "$c1" $D | da "async_id: \"$a3\"")")"
expect_status 200 "batch"
eq "$(jb '[.results[] | .code // .status] | join(" ")')" \
	"accepted accepted accepted accepted accepted address_mismatch address_mismatch unknown_address unknown_address accepted accepted" \
	"address references"
jb '.results[5].message' | grep -q delivery_address || fail "the message does not name the member"
ok "async address refs: accepted, same batch, unknown_address, address_mismatch (other customer, no customer)"

# The statement waits for the customer and its addresses.
list='["S0001-R01-000001","S0001-R01-000004"]' sid=$(uuid) key=$(uuid)
st=$(statement "$sid" $D "$list" 2 5196 '{"cash": 5196}')
post "$(statements S0001-R01)" S0001-R01 "$st" "$key"
expect_error 409 unsynced_references "unsynced customer and addresses"
eq "$(jb '.error.customers | join(" ")')" "$c1" "customers"
eq "$(jb '.error.addresses | join(" ")')" "$a1 $a3" "addresses (once each, in order)"
admin assign >/dev/null
post "$(statements S0001-R01)" S0001-R01 "$st" "$key"
expect_status 201 "posted once synced"
ok "409 unsynced_references with customers and addresses, then 201"

# By address_id once known; still checked against the customer.
aid1=$(state ".address_records[] | select(.async_id == \"$a1\") | .address_id")
aid2=$(state ".address_records[] | select(.async_id == \"$a2\") | .address_id")
post "$(batches S0001-R01)" S0001-R01 "$(batch \
	"$(txn S0001-R01-000010 "$c1" $D | jq -c ".invoice_address = {address_id: \"$aid1\"}")" \
	"$(txn S0001-R01-000011 "" $D '.customer = {account: "C000001"}' | da "address_id: \"$aid1\"")" \
	"$(txn S0001-R01-000012 "$c1" $D | da "address_id: \"$aid2\"")" \
	"$(txn S0001-R01-000013 "$c1" $D | jq -c '.invoice_address = null | .delivery_address = null')")"
eq "$(jb '[.results[] | .code // .status] | join(" ")')" "accepted accepted address_mismatch accepted" "by address_id"
ok "references by address_id"

# Kept as accepted: an address_update does not rewrite the sale.
post "$(batches S0001-R01)" S0001-R01 "$(batch "$(jq -nc --arg u "$(uuid)" --arg a "$a1" \
	'{type: "address_update", update_id: $u, created_at: "2026-11-25T11:00:00Z", address: {async_id: $a}, fields: {line1: "Rua Augusta 99"}}')")"
eq "$(jb '.results[0].status')" accepted "address update"
admin record '{"txn_id":"S0001-R01-000001"}' >"$DIR/rec.json"
eq "$(jq -r '.addresses.delivery_address | "\(.async_id) \(.line1)"' "$DIR/rec.json")" "$a1 Rua Augusta 1" "delivery address as accepted"
eq "$(jq -r '.addresses.invoice_address.line1' "$DIR/rec.json")" "Rua Augusta 1" "invoice address as accepted"
eq "$(jq -r '.record.delivery_address.async_id' "$DIR/rec.json")" "$a1" "the record as sent"
admin record "{\"async_id\":\"$c1\"}" >"$DIR/cust.json"
eq "$(jq -r ".addresses[] | select(.async_id == \"$a1\") | .line1" "$DIR/cust.json")" "Rua Augusta 99" "the address itself changed"
ok "a transaction keeps its addresses as they were when HQ accepted it"
