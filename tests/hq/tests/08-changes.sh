#!/bin/bash
# GET /v1/stores/{store}/changes: one ordered feed per store, shared by its
# registers; account_assigned then customer (full record with async_id and
# addresses) per assignment; a customer change again when an address is
# added to a synced customer, or when HQ creates or changes a customer (no
# async_id); paging with after/limit/next/more; 400 for a bad cursor, limit
# or wait.
. "$(dirname "$0")/lib.bash"
hq_start
F=/v1/stores/S0001/changes
c1=$(uuid) c2=$(uuid) a1=$(uuid) a2=$(uuid)

post "$(batches S0001-R01)" S0001-R01 "$(batch "$(customer "$c1")" "$(address "$a1" "$c1")")"
post "$(batches S0001-R02)" S0001-R02 "$(batch "$(customer "$c2" '.local_number = "R02-000001" | .first_name = "Rui"')")"
get "$F" S0001-R01
expect_status 200 changes
eq "$(jb '[.changes[].type] | join(" ")')" "account_assigned address_assigned customer account_assigned customer" "types"
eq "$(jb '.changes[0] | "\(.async_id) \(.account)"')" "$c1 C000001" "first assignment"
eq "$(jb '.changes[3] | "\(.async_id) \(.account)"')" "$c2 C000002" "second assignment"
eq "$(jb '.changes[1] | "\(.async_id) \(.address_id) \(.account)"')" "$a1 A000001 C000001" "address_assigned"
eq "$(jb '.changes[2].account')" C000001 "customer change account"
eq "$(jb '.changes[2].customer.async_id')" "$c1" "customer change async_id"
eq "$(jb '.changes[2].customer.local_number')" R01-000001 "customer change local_number"
eq "$(jb '.changes[2].customer.email')" ana@example.com "customer change fields"
eq "$(jb '.changes[2].customer.attributes.loyalty_opt_in')" yes "customer change attributes"
eq "$(jb '.changes[2].addresses | length')" 1 "customer change addresses"
eq "$(jb '.changes[2].addresses[0] | "\(.async_id) \(.address_id) \(.customer.account) \(.city)"')" "$a1 A000001 C000001 Lisboa" "address fields"
eq "$(jb '.changes[4].addresses | length')" 0 "no addresses"
eq "$(jb '.changes[2].version | type')" number "customer change version"
eq "$(jb .more)" false more
all=$(jq -c .changes <<<"$BODY")
end=$(jb .next)
ok "account_assigned then customer, in acceptance order"

get "$F" S0001-R02
eq "$(jq -c .changes <<<"$BODY")" "$(jq -c . <<<"$all")" "R02 sees the same feed"
get /v1/stores/S0002/changes S0002-R01
eq "$(jb '.changes | length')" 0 "S0002 feed"
ok "one feed per store, shared by its registers"

# Paging one by one.
cur="" got="[]"
for i in 1 2 3 4 5; do
	get "$F?limit=1&after=$cur" S0001-R01
	expect_status 200 "page $i"
	eq "$(jb '.changes | length')" 1 "page $i size"
	[ $i -lt 5 ] && eq "$(jb .more)" true "page $i more"
	got=$(jq -c --argjson p "$(jq -c .changes <<<"$BODY")" '. + $p' <<<"$got")
	cur=$(jb .next)
done
eq "$(jb .more)" false "last page more"
eq "$got" "$(jq -c . <<<"$all")" "pages add up to the feed"
eq "$cur" "$end" "last cursor"
get "$F?after=$cur" S0001-R01
eq "$(jb '.changes | length')" 0 "nothing after the end"
eq "$(jb .next)" "$cur" "same cursor when nothing follows"
eq "$(jb .more)" false "more at the end"
ok "paging with limit, next and more"

for q in "after=zzz" "after=c-1" "limit=0" "limit=1001" "limit=abc" "wait=61" "wait=-1" "wait=x"; do
	get "$F?$q" S0001-R01
	expect_status 400 "query $q"
done
ok "400 for a bad cursor, limit or wait"

# An address for a synced customer republishes the customer.
post "$(batches S0001-R02)" S0001-R02 "$(batch "$(address "$a2" "$c1" '.city = "Porto"')")"
eq "$(jb '.results[0].status')" accepted "address for a synced customer"
get "$F?after=$cur" S0001-R01
v0=$(jq -r '.[2].version' <<<"$all")
eq "$(jb '[.changes[].type] | join(" ")')" "address_assigned customer" "address id at once, then a customer change"
eq "$(jb '.changes[0] | "\(.async_id) \(.address_id) \(.account)"')" "$a2 A000002 C000001" "address_assigned at once"
eq "$(jb '.changes[1].customer.async_id')" "$c1" "with its async_id"
eq "$(jb '[.changes[1].addresses[].city] | join(" ")')" "Lisboa Porto" "with both addresses"
[ "$(jb '.changes[1].version')" -gt "$v0" ] || fail "the version did not grow"
eq "$(jb '[.changes[1].addresses[].primary] | join(" ")')" "false true" "the new primary delivery address demoted the earlier one"
cur=$(jb .next)
ok "customer change when a synced customer gets an address"

# HQ creates a customer, then changes it.
acct=$(admin customer '{"store":"S0001","customer":{"kind":"organization","organization_name":"Loja HQ","email":"hq@example.com"},"addresses":[{"async_id":"'"$(uuid)"'","purpose":"invoice","line1":"Av. 1","city":"Braga","postal_code":"4700-000","country":"PT"}]}' | jq -r .account)
eq "$acct" C000003 "HQ customer account"
admin customer "{\"account\":\"$acct\",\"customer\":{\"email\":\"new@example.com\"}}" >/dev/null
get "$F?after=$cur" S0001-R02
eq "$(jb '[.changes[].type] | join(" ")')" "customer customer" "two customer changes"
eq "$(jb '.changes[0].customer.async_id')" null "async_id null for an HQ customer"
eq "$(jb '.changes[0] | "\(.account) \(.customer.organization_name) \(.addresses[0].city)"')" "C000003 Loja HQ Braga" "HQ customer"
eq "$(jb '.changes[1].customer.email')" new@example.com "changed at HQ"
ok "customer changes for customers made or changed at HQ"
