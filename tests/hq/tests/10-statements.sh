#!/bin/bash
# POST .../statements: 201 with posting_id P000001 upwards; the same
# statement_id again (any key) 201 with the original posting_id; 409
# unsynced_references (customers, addresses), unknown_transactions (txn_ids: not
# uploaded, another register's, another date's), already_posted
# (statement_id of the posted one); 422 totals_mismatch (count, sales,
# by_tender, a transaction left out or listed twice); 400 for a malformed
# statement. A refused statement posts later under the same key.
. "$(dirname "$0")/lib.bash"
hq_start --assign manual
S1=$(statements S0001-R01) S2=$(statements S0001-R02)
D=2026-11-25 D2=2026-11-26
c1=$(uuid)
card() { jq -c '.tenders = [{type: "card", amount_minor: .total_minor}]'; }
ret=$(txn S0001-R01-000003 "" $D '.lines[0].qty = -1 | .total_minor = -1299 | .tenders[0].amount_minor = -1299')
post "$(batches S0001-R01)" S0001-R01 "$(batch "$(customer "$c1")" "$(txn S0001-R01-000001 "$c1" $D)" \
	"$(txn S0001-R01-000002 "" $D | card)" "$ret" "$(txn S0001-R01-000004 "" $D2)")"
eq "$(jb '[.results[].status] | unique | join(" ")')" accepted "uploads"
post "$(batches S0001-R02)" S0001-R02 "$(batch "$(txn S0001-R02-000001 "" $D)" "$(txn S0001-R02-000002 "" $D)")"
eq "$(jb '[.results[].status] | unique | join(" ")')" accepted "R02 uploads"

list='["S0001-R01-000001","S0001-R01-000002","S0001-R01-000003"]'
sid=$(uuid) key=$(uuid)
good=$(statement "$sid" $D "$list" 3 3897 '{"cash": 1299, "card": 2598}')
post "$S1" S0001-R01 "$good" "$key"
expect_error 409 unsynced_references "customer without account"
eq "$(jb '.error.customers | join(" ")')" "$c1" "unsynced customers"
eq "$(jb '.error.addresses | length')" 0 "unsynced addresses"
ok "409 unsynced_references"

admin assign >/dev/null
post "$S1" S0001-R01 "$good" "$key"
expect_status 201 "posted under the same key once synced"
eq "$(jb '"\(.statement_id) \(.posting_id)"')" "$sid P000001" "posting"
[ -z "$(header Idempotent-Replayed)" ] || fail "first post marked replayed"
post "$S1" S0001-R01 "$good" "$key"
expect_status 201 "replay"
eq "$(header Idempotent-Replayed)" true "replay header"
eq "$(jb .posting_id)" P000001 "replayed posting"
post "$S1" S0001-R01 "$good"
expect_status 201 "same statement_id, new key"
eq "$(jb .posting_id)" P000001 "original posting_id"
post "$S1" S0001-R01 "$(statement "$sid" $D '[]' 0 0 '{}')"
expect_status 201 "same statement_id, other body"
eq "$(jb .posting_id)" P000001 "original posting_id whatever the body"
ok "201 P000001; replay; same statement_id under any key"

post "$S1" S0001-R01 "$(statement "$(uuid)" $D "$list" 3 3897 '{"cash": 1299, "card": 2598}')"
expect_error 409 already_posted "another statement for the date"
eq "$(jb .error.statement_id)" "$sid" "already_posted statement_id"
ok "409 already_posted"

post "$S1" S0001-R01 "$(statement "$(uuid)" $D2 '["S0001-R01-000004","S0001-R01-NOPE","S0001-R02-000001","S0001-R01-000001"]' 4 10392 '{"cash": 10392}')"
expect_error 409 unknown_transactions "unknown transactions"
eq "$(jb '.error.txn_ids | join(" ")')" "S0001-R01-NOPE S0001-R02-000001 S0001-R01-000001" "unknown txn_ids"
ok "409 unknown_transactions: not uploaded, another register's, another date's"

one='["S0001-R01-000004"]'
for bad in "2 2598 {\"cash\":2598}" "1 2599 {\"cash\":2598}" "1 2598 {\"cash\":2597}" \
	"1 2598 {\"card\":2598}" "1 2598 {\"cash\":2598,\"card\":1}"; do
	read -r n m b <<<"$bad"
	post "$S1" S0001-R01 "$(statement "$(uuid)" $D2 "$one" "$n" "$m" "$b")"
	expect_error 422 totals_mismatch "totals $bad"
done
post "$S2" S0001-R02 "$(statement "$(uuid)" $D '["S0001-R02-000001"]' 1 2598 '{"cash": 2598}')"
expect_error 422 totals_mismatch "a transaction left out"
eq "$(jb .error.expected.transaction_count)" 2 "HQ's expected count"
post "$S2" S0001-R02 "$(statement "$(uuid)" $D '["S0001-R02-000001","S0001-R02-000001"]' 2 5196 '{"cash": 5196}')"
expect_error 422 totals_mismatch "a transaction listed twice"
post "$S1" S0001-R01 "$(statement "$(uuid)" $D2 "$one" 1 2598 '{"cash": 2598}' | jq -c '.currency = "USD"')"
expect_error 422 totals_mismatch "another currency"
ok "422 totals_mismatch: count, sales, by_tender, left out, twice, currency"

post "$S1" S0001-R01 "$(statement "$(uuid)" $D2 "$one" 1 2598 '{"cash": 2598, "voucher": 0}')"
expect_status 201 "a zero tender entry is a sum of nothing"
eq "$(jb .posting_id)" P000002 "second posting"
post "$S2" S0001-R02 "$(statement "$(uuid)" $D '["S0001-R02-000002","S0001-R02-000001"]' 2 5196 '{"cash": 5196}')"
expect_status 201 "R02, listed in any order"
eq "$(jb .posting_id)" P000003 "third posting"
ok "postings P000002, P000003"

for bad in '{}' 'nope' "$(statement "$(uuid)" 2026-02-30 '[]' 0 0 '{}')" \
	"$(statement x $D '[]' 0 0 '{}')" "$(statement "$(uuid)" $D '[1]' 1 0 '{}')" \
	"$(statement "$(uuid)" $D '[]' 0 0 '{}' | jq -c 'del(.totals)')" \
	"$(statement "$(uuid)" $D '[]' 0 0 '{}' | jq -c '.totals.by_tender = {"cash": "1"}')" \
	"$(statement "$(uuid)" $D '[]' 0 0 '{}' | sed 's/"sales_minor":0/"sales_minor":0.0/')"; do
	post "$S1" S0001-R01 "$bad"
	expect_error 400 invalid_request "malformed statement: $bad"
done
ok "400 invalid_request for a malformed statement"

eq "$(state '[.statements[] | "\(.register) \(.business_date) \(.posting_id) \(.transaction_count) \(.sales_minor)"] | join(", ")')" \
	"R01 $D P000001 3 3897, R01 $D2 P000002 1 2598, R02 $D P000003 2 5196" "statements held"
ok "one posting per register and date"
