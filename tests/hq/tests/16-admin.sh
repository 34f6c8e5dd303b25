#!/bin/bash
# The admin interface (/_admin/, tests only): 403 without the secret or
# with a wrong one, on either name; 404 for an unknown verb; 405 for a GET
# of a POST verb; 400 for a body that is not a JSON object; the state
# document's members.
. "$(dirname "$0")/lib.bash"
hq_start
secret=$(cat "$DIR/admin.secret")
a() { curl -sS --cacert "$DIR/ca.pem" -o "$DIR/body" -w '%{http_code}' "$@"; }

eq "$(a "$BASE/_admin/state")" 403 "no secret"
eq "$(a -H 'X-Admin-Secret: wrong' "$BASE/_admin/state")" 403 "wrong secret"
eq "$(a -H "X-Admin-Secret: ${secret}x" "$BASE/_admin/state")" 403 "longer secret"
eq "$(a -H "X-Admin-Secret: ${secret:0:10}" -X POST "$BASE/_admin/assign")" 403 "a prefix of the secret"
eq "$(jq -r .error.code "$DIR/body")" forbidden "403 code"
eq "$(a -H "X-Admin-Secret: $secret" "$BASE/_admin/state")" 200 "the secret, under localhost"
eq "$(a -H "X-Admin-Secret: $secret" "$BASE/_admin/nothing")" 404 "unknown verb"
eq "$(a -H "X-Admin-Secret: $secret" "$BASE/_admin/assign")" 405 "GET assign"
eq "$(a -H "X-Admin-Secret: $secret" -H 'Content-Type: application/json' --data-binary 'nope' "$BASE/_admin/fault")" 400 "not JSON"
ok "403 without the right secret; 404, 405, 400"

admin customer '{"customer":{}}' >/dev/null 2>&1 && fail "customer without store accepted"
admin customer '{"account":"C999999","customer":{}}' >/dev/null 2>&1 && fail "unknown account accepted"
admin revoke '{"store":"S0001"}' >/dev/null 2>&1 && fail "revoke without register accepted"
admin clock '{"offset":"x"}' >/dev/null 2>&1 && fail "bad clock accepted"
admin mode '{"assign":"sometimes"}' >/dev/null 2>&1 && fail "bad mode accepted"
ok "bad admin requests refused"

c=$(uuid)
post "$(batches S0001-R01)" S0001-R01 "$(batch "$(customer "$c")" "$(address "$(uuid)" "$c")" "$(txn S0001-R01-000001 "$c")")"
post "$(batches S0001-R01)" S0001-R01 "$(batch "$(customer "$c")")"
post "$(statements S0001-R01)" S0001-R01 "$(statement "$(uuid)" 2026-11-25 '["S0001-R01-000001"]' 1 2598 '{"cash":2598}')"
admin state >"$DIR/state.json"
for m in customers addresses address_ids transactions txn_ids records_received duplicates_seen \
	statements changes requests faults assign clock_offset pending_customers long_polls_waiting; do
	jq -e "has(\"$m\")" "$DIR/state.json" >/dev/null || fail "state lacks $m"
done
eq "$(jq -c '.customers[0]' "$DIR/state.json")" "{\"async_id\":\"$c\",\"local_number\":\"R01-000001\",\"account\":\"C000001\",\"store\":\"S0001\",\"register\":\"R01\",\"version\":3}" "state customer"
eq "$(jq -r '"\(.addresses) \(.transactions) \(.records_received) \(.duplicates_seen) \(.changes)"' "$DIR/state.json")" "1 1 4 1 3" "state counts"
eq "$(jq -r '.statements[0] | "\(.store) \(.register) \(.business_date) \(.posting_id) \(.transaction_count) \(.sales_minor)"' "$DIR/state.json")" "S0001 R01 2026-11-25 P000001 1 2598" "state statement"
eq "$(jq -r '.requests["POST /v1/stores/S0001/registers/R01/batches 200"]' "$DIR/state.json")" 2 "state requests"
eq "$(jq -r '.requests | keys | map(select(startswith("GET /_admin"))) | length' "$DIR/state.json")" 0 "admin requests not counted"
ok "the state document"

eq "$(admin reset-stats | jq -r '.cleared > 0')" true "reset-stats"
eq "$(state '.requests | length')" 0 "no counters after reset-stats"
ok "reset-stats"
