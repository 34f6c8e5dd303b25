#!/bin/bash
# A NUL inside a JSON text (the escape \u0000, or a raw NUL byte) in any
# --from-json input is refused 65 invalid_text, like \u0001, and nothing is
# stored. Before the fix cJSON cut the text at the NUL: "Ana\u0000Evil"
# was stored as "Ana", and an sku "SKU\u0000X" went to HQ as "SKU".
set -euo pipefail
. "$(dirname "$0")/lib.sh"
setup
expect_rc 0 pa init
before=$(db_sum)

refused() { # CMD... (input in $T/in.json): 65 invalid_text, nothing stored
	expect_rc 65 "$@"
	expect_err "NUL"
	expect_rc 65 "$@" --json
	expect_json_err invalid_text
	[ "$(db_sum)" = "$before" ] || fail "something was stored"
}

check "customer create --from-json: \\u0000 and a raw NUL byte in a name"
printf '{"kind":"person","first_name":"Ana\\u0000Evil"}' >"$T/in.json"
refused pa customer create --from-json "$T/in.json"
printf '{"kind":"person","first_name":"Ana\000Evil"}' >"$T/in.json"
refused pa customer create --from-json "$T/in.json"
printf '{"kind":"person","first_name":"Ana","attributes":{"k\\u0000":"v"}}' >"$T/in.json"
refused pa customer create --from-json "$T/in.json"
check "from stdin too"
printf '{"kind":"person","first_name":"Ana\\u0000Evil"}' | { expect_rc 65 pa customer create --from-json -; }
expect_err "NUL"

sale() { # SKU-JSON-TEXT
	printf '{"txn_id":"S0001-R01-000001","kind":"cash_and_carry","business_date":"2026-11-25","currency":"EUR","customer":null,"lines":[{"sku":"%b","qty":1,"unit_price_minor":100}],"tenders":[{"type":"cash","amount_minor":100}],"total_minor":100}' "$1" >"$T/in.json"
}
check "txn record --from-json: \\u0000 and a raw NUL byte in an sku"
sale 'SKU\\u0000X'
refused pa txn record --from-json "$T/in.json"
sale 'SKU\0X'
refused pa txn record --from-json "$T/in.json"

check "a backslash followed by u0000 is text, not a NUL: accepted whole"
printf '{"kind":"person","first_name":"Ana\\\\u0000"}' >"$T/in.json"
expect_rc 0 pa --json customer create --from-json "$T/in.json"
[ "$(jget .first_name)" = 'Ana\u0000' ] || fail "the name was not kept whole: $(jget .first_name)"
sale 'SKU-1'
expect_rc 0 pa txn record --from-json "$T/in.json"
echo ok
