#!/bin/bash
# HQ staff edit a customer (admin `customer` with "account" or
# "async_id"): its fields are merged (null clears), an address named by
# address_id (or async_id) is changed, another one added (it gets its id
# at once when the customer has an account; primary per purpose holds);
# the version is bumped once and a `customer` change is published for a
# customer with an account; for one without, its latest version comes in
# the change after its account_assigned. Edits are stored unchecked.
. "$(dirname "$0")/lib.bash"
hq_start --assign manual
F=/v1/stores/S0001/changes
c1=$(uuid) c2=$(uuid) a1=$(uuid)
post "$(batches S0001-R01)" S0001-R01 "$(batch "$(customer "$c1")" "$(address "$a1" "$c1")" "$(customer "$c2" '.local_number = "R01-000002"')")"
admin assign '{"count":1}' >/dev/null
get "$F" S0001-R01
v=$(jb '.changes[-1].version') cur=$(jb .next)

admin customer '{"account":"C000001","customer":{"email":"hq-fixed@example.com","phone":null},
	"addresses":[{"address_id":"A000001","line1":"Rua do Ouro 7"},
	             {"purpose":"delivery","primary":true,"line1":"Av. Nova 1","city":"Lisboa","postal_code":"1000-001","country":"PT"}]}' >"$DIR/r.json"
eq "$(jq -r .account "$DIR/r.json")" C000001 "reply"
get "$F?after=$cur" S0001-R02
eq "$(jb '[.changes[].type] | join(" ")')" customer "one customer change, no address_assigned for an HQ address"
eq "$(jb '.changes[0].version')" "$((v + 1))" "version bumped once"
eq "$(jb '.changes[0].customer | "\(.email) \(.phone) \(.async_id)"')" "hq-fixed@example.com null $c1" "fields merged, null clears"
eq "$(jb '[.changes[0].addresses[] | "\(.address_id) \(.async_id) \(.line1) \(.primary)"] | join(",")')" \
	"A000001 $a1 Rua do Ouro 7 false,A000002 null Av. Nova 1 true" "address changed, one added with its id, earlier primary demoted"
cur=$(jb .next)
ok "staff edit of a customer with an account"

admin customer "{\"async_id\":\"$c2\",\"customer\":{\"first_name\":\"Rita\"}}" >"$DIR/r.json"
eq "$(jq -r .account "$DIR/r.json")" null "no account yet"
get "$F?after=$cur" S0001-R01
eq "$(jb '.changes | length')" 0 "nothing published without an account"
vb=$(state ".customers[] | select(.async_id == \"$c2\") | .version")
admin assign >/dev/null
get "$F?after=$cur" S0001-R01
eq "$(jb '[.changes[].type] | join(" ")')" "account_assigned customer" "after the job"
eq "$(jb '.changes[1].customer.first_name')" Rita "the staff edit"
[ "$(jb '.changes[1].version')" -gt "$vb" ] || fail "version $(jb '.changes[1].version') after $vb"
ok "staff edit of an async customer reaches the feed with its account"

admin customer '{"account":"C999999","customer":{}}' >/dev/null 2>&1 && fail "unknown account accepted"
admin customer '{"account":"C000001","addresses":[{"address_id":"A999999","city":"x"}]}' >/dev/null 2>&1 &&
	fail "unknown address_id accepted"
ok "400 for an unknown account or address id"
