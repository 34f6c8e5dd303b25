#!/bin/bash
# Bearer tokens: each maps to one (store, register). Missing or unknown
# token: 401 on every endpoint but health. A token on another register's
# or store's path: 403. The changes feed is per store: any register of the
# store may read it. A revoked token (admin "revoke") is 401 until restored.
. "$(dirname "$0")/lib.bash"
hq_start
body=$(batch "$(customer "$(uuid)")")
stmt=$(statement "$(uuid)" 2026-11-25 '[]' 0 0 '{}')

for as in "" bad; do
	post "$(batches S0001-R01)" "$as" "$body"
	expect_error 401 unauthorized "batches, token '$as'"
	[ "$(header WWW-Authenticate)" = Bearer ] || fail "401 without WWW-Authenticate"
	post "$(statements S0001-R01)" "$as" "$stmt"
	expect_error 401 unauthorized "statements, token '$as'"
	get /v1/stores/S0001/changes "$as"
	expect_error 401 unauthorized "changes, token '$as'"
done
STATUS=$(curl_as "" -H 'Authorization: Basic dXNlcjpwYXNz' -o "$DIR/body" -w '%{http_code}' "$BASE/v1/stores/S0001/changes")
eq "$STATUS" 401 "Basic auth"
ok "401 without a token, with an unknown one, with another scheme"

post "$(batches S0001-R02)" S0001-R01 "$body"
expect_error 403 forbidden "R01 token on R02 batches"
post "$(batches S0002-R01)" S0001-R01 "$body"
expect_error 403 forbidden "S0001 token on S0002 batches"
post "$(statements S0001-R02)" S0001-R01 "$stmt"
expect_error 403 forbidden "R01 token on R02 statements"
get /v1/stores/S0002/changes S0001-R01
expect_error 403 forbidden "S0001 token on S0002 changes"
get /v1/stores/S9999/changes S0001-R01
expect_error 403 forbidden "unknown store"
ok "403 on another register's or store's path"

get /v1/stores/S0001/changes S0001-R02
expect_status 200 "R02 reads its store's feed"
get /v1/stores/S0002/changes S0002-R01
expect_status 200 "S0002 reads its feed"
post "$(batches S0001-R02)" S0001-R02 "$body"
expect_status 200 "R02 posts its own batch"
ok "a token works on its own paths; changes per store"

eq "$(admin revoke '{"store":"S0001","register":"R01"}' | jq -r .revoked)" 1 "revoke"
get /v1/stores/S0001/changes S0001-R01
expect_error 401 unauthorized "revoked token"
get /v1/stores/S0001/changes S0001-R02
expect_status 200 "another register's token is not revoked"
admin unrevoke '{"store":"S0001","register":"R01"}' >/dev/null
get /v1/stores/S0001/changes S0001-R01
expect_status 200 "restored token"
ok "revoke and unrevoke"

eq "$(state '.requests["GET /v1/stores/S0001/changes 401"]')" 4 "401s counted"
ok "requests counted by endpoint and status"
