#!/bin/bash
# The envelope of a POST: 400 invalid_request when the body is not JSON or
# lacks batch_id/records (HQ-API.md), 400 missing_idempotency_key without
# the header, 422 invalid_batch for no records, 413 too_many_records for
# more than 500 (so that the agent halves the batch), 415 without
# Content-Type application/json. None of these is stored: the same key
# then works with a good body.
. "$(dirname "$0")/lib.bash"
hq_start
P=$(batches S0001-R01)
good=$(batch "$(customer "$(uuid)")")

post "$P" S0001-R01 "$good" none
expect_error 400 missing_idempotency_key "no Idempotency-Key"
post "$P" S0001-R01 "$good" empty
expect_error 400 missing_idempotency_key "empty Idempotency-Key"
post "$P" S0001-R01 "$good" "not-a-uuid"
expect_error 400 invalid_idempotency_key "Idempotency-Key not a UUID"
post "$(statements S0001-R01)" S0001-R01 "$(statement "$(uuid)" 2026-11-25 '[]' 0 0 '{}')" none
expect_error 400 missing_idempotency_key "statement without a key"
ok "400 missing_idempotency_key on both POSTs"

key=$(uuid)
for body in 'not json' '{"batch_id":' '[]' '"x"' '{"records":[]}' \
	"{\"batch_id\":\"$(uuid)\"}" "{\"batch_id\":\"$(uuid)\",\"records\":{}}" \
	'{"batch_id":42,"records":[{}]}' '{"batch_id":"not-a-uuid","records":[{}]}' ''; do
	post "$P" S0001-R01 "$body" "$key"
	expect_error 400 invalid_request "envelope '$body'"
done
ok "400 invalid_request for a bad envelope"

post "$P" S0001-R01 "{\"batch_id\":\"$(uuid)\",\"records\":[]}" "$key"
expect_error 422 invalid_batch "no records"
ok "422 invalid_batch for an empty batch"

# many N: a batch of N small valid customers.
many() {
	jq -nc --arg b "$(uuid)" --argjson n "$1" '{batch_id: $b, records: [range($n) |
	  {type: "customer", async_id: ("00000000-0000-4000-8000-" + ("000000000000\(.)" | .[-12:])),
	   kind: "person", first_name: "A"}]}'
}
post "$P" S0001-R01 "$(many 501)" "$key"
expect_error 413 too_many_records "501 records"
post "$P" S0001-R01 "$(many 500)" "$key"
expect_status 200 "500 records"
eq "$(jb '[.results[] | select(.status == "accepted")] | length')" 500 "500 accepted"
ok "413 over 500 records, 500 accepted, under the same key (errors are not stored)"

STATUS=$(curl_as S0001-R01 -o "$DIR/body" -w '%{http_code}' -H "Idempotency-Key: $(uuid)" \
	-H 'Content-Type: text/plain' --data-binary "$good" "$BASE$P")
BODY=$(cat "$DIR/body")
expect_error 415 unsupported_media_type "text/plain"
STATUS=$(curl_as S0001-R01 -o "$DIR/body" -w '%{http_code}' -H "Idempotency-Key: $(uuid)" \
	-H 'Content-Type: application/json; charset=utf-8' --data-binary "$good" "$BASE$P")
eq "$STATUS" 200 "application/json with charset"
ok "415 without application/json"
