#!/bin/bash
# Addresses (revision 2026-11-30): HQ gives each address an id of its own
# (A000001 upwards) in the synchronization job that gives its customer an
# account, published as address_assigned (with the account) between the
# customer's account_assigned and its customer change; an address of a
# customer that already has an account gets its id at once, published
# before the batch's reply; the customer change carries each address with
# address_id and async_id, and a version that every change bumps; primary
# is per purpose (a new primary demotes the earlier one of that purpose
# only); the admin `reject` fault rejects the next address (or customer).
# What happens: manual assignment; a customer with two primary delivery
# addresses and one invoice address; admin assign; then an address for
# the synced customer; then reject faults.
. "$(dirname "$0")/lib.bash"
hq_start --assign manual
F=/v1/stores/S0001/changes
c1=$(uuid) a1=$(uuid) a2=$(uuid) a3=$(uuid) a4=$(uuid)

post "$(batches S0001-R01)" S0001-R01 "$(batch "$(customer "$c1")" "$(address "$a1" "$c1")" \
	"$(address "$a2" "$c1" '.line1 = "Rua Nova 2"')" "$(address "$a3" "$c1" '.purpose = "invoice"')")"
eq "$(jb '[.results[].status] | join(" ")')" "accepted accepted accepted accepted" "customer and addresses"
eq "$(state '[.address_records[] | "\(.primary)"] | join(" ")')" "false true true" "a2 demoted a1, not the invoice one"
eq "$(state '[.address_records[] | .address_id] | map(tostring) | join(" ")')" "null null null" "no address ids before the job"
get "$F" S0001-R01
eq "$(jb '.changes | length')" 0 "nothing published for a customer without account"
ok "addresses of an async customer wait for the job; one primary per purpose"

admin assign >"$DIR/assign.json"
eq "$(jq -r '.assigned[0] | "\(.async_id) \(.account)"' "$DIR/assign.json")" "$c1 C000001" "assign reply"
eq "$(jq -r '[.assigned[0].addresses[] | "\(.async_id)=\(.address_id)"] | join(" ")' "$DIR/assign.json")" \
	"$a1=A000001 $a2=A000002 $a3=A000003" "assign reply covers the addresses"
get "$F" S0001-R02
eq "$(jb '[.changes[].type] | join(" ")')" "account_assigned address_assigned address_assigned address_assigned customer" "feed"
eq "$(jb '[.changes[1,2,3] | "\(.async_id) \(.address_id) \(.account)"] | join(",")')" \
	"$a1 A000001 C000001,$a2 A000002 C000001,$a3 A000003 C000001" "address_assigned changes"
eq "$(jb '[.changes[4].addresses[] | "\(.address_id) \(.async_id) \(.primary)"] | join(",")')" \
	"A000001 $a1 false,A000002 $a2 true,A000003 $a3 true" "customer change addresses"
v1=$(jb '.changes[4].version')
[ "$v1" -ge 2 ] || fail "version $v1"
eq "$(state ".customers[0].version")" "$v1" "state version"
cur=$(jb .next)
ok "the job gives address ids with the account: address_assigned, then customer"

# An address for a customer that has an account: its id at once, before the reply.
post "$(batches S0001-R02)" S0001-R02 "$(batch "$(address "$a4" x '.customer = {account: "C000001"} | .line1 = "Rua 4"')")"
eq "$(jb '.results[0].status')" accepted "address by account"
get "$F?after=$cur" S0001-R01
eq "$(jb '[.changes[].type] | join(" ")')" "address_assigned customer" "at once"
eq "$(jb '.changes[0] | "\(.async_id) \(.address_id) \(.account)"')" "$a4 A000004 C000001" "address_assigned at once"
[ "$(jb '.changes[1].version')" -gt "$v1" ] || fail "a new address did not bump the version"
eq "$(jb '[.changes[1].addresses[] | .primary] | map(tostring) | join(" ")')" "false false true true" "a4 demoted a2"
ok "an address of a synced customer gets its id at once; version bumped"

# Reject faults: the next address is rejected with the code asked; the
# one after is accepted; a fault for one id waits for that id.
admin fault '{"kind":"reject","record":"address"}' >/dev/null
admin fault "{\"kind\":\"reject\",\"record\":\"customer\",\"id\":\"$c1\",\"code\":\"invalid_phone\"}" >/dev/null
c2=$(uuid) b1=$(uuid) b2=$(uuid)
post "$(batches S0001-R01)" S0001-R01 "$(batch "$(customer "$c2")" "$(address "$b1" "$c2")" "$(address "$b2" "$c2")")"
eq "$(jb '[.results[] | .code // .status] | join(" ")')" "accepted invalid_address accepted" "address rejected by the fault"
eq "$(state '[.faults[] | .record] | join(" ")')" customer "the customer fault waits for its id"
c3=$(uuid)
post "$(batches S0001-R01)" S0001-R01 "$(batch "$(customer "$c3")" "$(address "$b1" "$c2")")"
eq "$(jb '[.results[] | .code // .status] | join(" ")')" "accepted accepted" "the same address again, accepted"
admin reset-faults >/dev/null
admin fault '{"kind":"reject","record":"customer","code":"invalid_email","count":2}' >/dev/null
post "$(batches S0001-R01)" S0001-R01 "$(batch "$(customer "$(uuid)")" "$(customer "$(uuid)")" "$(customer "$(uuid)")")"
eq "$(jb '[.results[] | .code // .status] | join(" ")')" "invalid_email invalid_email accepted" "customers rejected by the fault"
ok "reject faults for addresses and customers"
