#!/bin/bash
# customer_update / address_update (revision 2026-11-30): an update names
# a customer ({async_id} or {account}, with no account yet too) or an
# address ({async_id} or {address_id}); `fields` names only changeable
# fields (anything else, or none, is invalid_record; null clears); the
# record as it would be after must pass the create rules (their codes); an
# update_id HQ holds is `duplicate` before any other check; updates apply
# field by field in acceptance order; every change bumps the customer's
# version, which accepted and duplicate results carry; a customer with an
# account gets a `customer` change, one without gets its latest version in
# the change that follows its account_assigned; an address promoted to
# primary, or a primary whose purpose changes, demotes the earlier one.
. "$(dirname "$0")/lib.bash"
hq_start --assign manual
F=/v1/stores/S0001/changes
c1=$(uuid) a1=$(uuid) a2=$(uuid) a3=$(uuid)
# cu ID REF_JSON FIELDS_JSON / au ID REF_JSON FIELDS_JSON
cu() { jq -nc --arg u "$1" --argjson r "$2" --argjson f "$3" '{type: "customer_update", update_id: $u,
	created_at: "2026-11-25T11:00:00Z", customer: $r, fields: $f}'; }
au() { jq -nc --arg u "$1" --argjson r "$2" --argjson f "$3" '{type: "address_update", update_id: $u,
	created_at: "2026-11-25T11:00:00Z", address: $r, fields: $f}'; }
C="{\"async_id\":\"$c1\"}"

post "$(batches S0001-R01)" S0001-R01 "$(batch "$(customer "$c1")" "$(address "$a1" "$c1")" \
	"$(address "$a2" "$c1" '.primary = false')" "$(address "$a3" "$c1" '.purpose = "home"')")"
eq "$(jb '[.results[].status] | unique | join(" ")')" accepted "records"
v0=$(state '.customers[0].version')

u1=$(uuid) u2=$(uuid) u3=$(uuid)
post "$(batches S0001-R01)" S0001-R01 "$(batch "$(cu "$u1" "$C" '{"email":"ana.silva@example.com","phone":"+351 911 000 111"}')" \
	"$(cu "$u2" "$C" '{"phone":"+351 922 000 222","last_name":null}')" "$(cu "$u1" "$C" '{"email":"x@example.com"}')")"
expect_status 200 "updates of an async customer"
eq "$(jb '[.results[].status] | join(" ")')" "accepted accepted duplicate" "statuses"
eq "$(jb '[.results[].version] | join(" ")')" "$((v0 + 1)) $((v0 + 2)) $((v0 + 1))" "versions (duplicate: the version after it)"
get "$F" S0001-R01
eq "$(jb '.changes | length')" 0 "nothing published without an account"
ok "updates of an async customer: applied, versions, duplicate in the same batch"

# Duplicates first: a held update_id is duplicate whatever it carries now.
post "$(batches S0001-R01)" S0001-R01 "$(batch "$(cu "$u2" '{"async_id":"00000000-0000-0000-0000-000000000000"}' '{"kind":"organization"}' | jq -c '.extra = 1')")"
eq "$(jb '.results[0] | "\(.status) \(.version)"')" "duplicate $((v0 + 2))" "duplicate first"

# Rules: the create rules on the record as it would be after, fields rules.
post "$(batches S0001-R01)" S0001-R01 "$(batch \
	"$(cu "$(uuid)" "$C" '{}')" "$(cu "$(uuid)" "$C" '{"kind":"organization"}')" \
	"$(cu "$(uuid)" "$C" '{"async_id":"x"}')" "$(cu "$(uuid)" "$C" '{"local_number":"R01-9"}')" \
	"$(cu "$(uuid)" "$C" '{"created_at":"2026-11-25T09:14:03Z"}')" "$(cu "$(uuid)" "$C" '{"nickname":"A"}')" \
	"$(cu "$(uuid)" "$C" '{"email":"not-an-email"}')" "$(cu "$(uuid)" "$C" '{"first_name":null}')" \
	"$(cu "$(uuid)" "$C" '{"attributes":{"Bad Key":"x"}}')" "$(cu "$(uuid)" "$C" '{"phone":"12"}')" \
	"$(cu "$(uuid)" "{\"async_id\":\"$(uuid)\"}" '{"email":"a@b.pt"}')" \
	"$(cu "$(uuid)" '{"account":"C999999"}' '{"email":"a@b.pt"}')" \
	"$(cu "$(uuid)" 'null' '{"email":"a@b.pt"}')" "$(cu not-a-uuid "$C" '{"email":"a@b.pt"}')" \
	"$(cu "$(uuid)" "$C" '{"email":"a@b.pt"}' | jq -c '.note = "x"')" \
	"$(cu "$(uuid)" "$C" '"email"')" \
	"$(au "$(uuid)" "{\"async_id\":\"$(uuid)\"}" '{"city":"Porto"}')" \
	"$(au "$(uuid)" '{"address_id":"A999999"}' '{"city":"Porto"}')" \
	"$(au "$(uuid)" "{\"async_id\":\"$a1\"}" '{"line1":null}')" \
	"$(au "$(uuid)" "{\"async_id\":\"$a1\"}" '{"purpose":null}')" \
	"$(au "$(uuid)" "{\"async_id\":\"$a1\"}" '{"country":"pt"}')" \
	"$(au "$(uuid)" "{\"async_id\":\"$a1\"}" '{"customer":{"async_id":"x"}}')" \
	"$(au "$(uuid)" "{\"async_id\":\"$a1\"}" '{"primary":"yes"}')")"
expect_status 200 "bad updates"
eq "$(jb '[.results[] | .code // .status] | join(" ")')" \
	"invalid_record invalid_record invalid_record invalid_record invalid_record invalid_record invalid_email missing_name invalid_attribute invalid_phone unknown_customer unknown_account invalid_record invalid_record invalid_record invalid_record unknown_address unknown_address invalid_address invalid_address invalid_address invalid_record invalid_record" \
	"codes"
eq "$(state '.customers[0].version')" "$((v0 + 2))" "no version bump for rejected updates"
ok "update rules: fields, create rules as applied, references"

# The job: the customer change carries the latest version and the edits.
admin assign >/dev/null
get "$F" S0001-R01
eq "$(jb '[.changes[].type] | join(" ")')" "account_assigned address_assigned address_assigned address_assigned customer" "feed"
eq "$(jb '.changes[4].customer | "\(.email) \(.phone) \(.last_name) \(.first_name)"')" \
	"ana.silva@example.com +351 922 000 222 null Ana" "edits applied field by field"
v=$(jb '.changes[4].version')
eq "$v" "$(state '.customers[0].version')" "the change carries the latest version"
[ "$v" -gt "$((v0 + 2))" ] || fail "the job did not bump the version"
cur=$(jb .next)
ok "the change after account_assigned carries the latest version"

# With an account: by account, a customer change per batch; address updates.
u4=$(uuid) u5=$(uuid) u6=$(uuid)
post "$(batches S0001-R02)" S0001-R02 "$(batch "$(cu "$u4" '{"account":"C000001"}' '{"language":"en-GB","attributes":{"vip":"yes"}}')" \
	"$(au "$u5" "{\"async_id\":\"$a2\"}" '{"primary":true,"line1":"Rua Augusta 2"}')" \
	"$(au "$u6" '{"address_id":"A000002"}' '{"purpose":"home"}')")"
eq "$(jb '[.results[].status] | join(" ")')" "accepted accepted accepted" "updates with an account"
eq "$(jb '[.results[].version] | join(" ")')" "$((v + 1)) $((v + 2)) $((v + 3))" "versions"
get "$F?after=$cur" S0001-R01
eq "$(jb '[.changes[].type] | join(" ")')" customer "one customer change"
eq "$(jb '.changes[0].version')" "$((v + 3))" "its version"
eq "$(jb '.changes[0].customer | "\(.language) \(.attributes | tojson)"')" 'en-GB {"vip":"yes"}' "attributes replaced whole"
eq "$(jb '[.changes[0].addresses[] | "\(.purpose):\(.primary)"] | join(" ")')" "delivery:false home:true home:false" \
	"a2 promoted (a1 demoted), then moved to home (a3 demoted)"
eq "$(jb '.changes[0].addresses[1].line1')" "Rua Augusta 2" "address field"
ok "updates by account and address_id: change published, primary per purpose on promotion and purpose change"

post "$(batches S0001-R02)" S0001-R02 "$(batch "$(cu "$u4" '{"account":"C000001"}' '{"language":"en-GB"}')")"
eq "$(jb '.results[0] | "\(.status) \(.version)"')" "duplicate $((v + 1))" "duplicate in a later batch"
admin state >"$DIR/state.json"
eq "$(jq '.updates' "$DIR/state.json")" 5 "updates held once each"
ok "duplicate update in a later batch carries its version"
