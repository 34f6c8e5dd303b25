#!/bin/bash
# 15-address: `posagent customer address add|edit`, text and JSON.
#
# What happens: addresses are added to customers in every state (made here
# and pending, uploaded, synced; made at HQ) by each kind of CUSTOMER
# reference, with bad values one at a time; then corrected while pending,
# inside an unsent and a sent batch, after HQ rejected or accepted them
# (states set with sqlite3 as the sync engine would).
# What must hold: an address is stored pending with a fresh async id and
# printed (one text line / the AGENT.md address shape); its customer is
# {"async_id"} for a customer made here and {"account"} for one HQ made;
# bad input is 65 naming the field (64 for usage) and stores nothing; edit
# follows customer edit's rules (pending not in a sent batch, or rejected
# which becomes pending with no last error; else 65).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
setup
expect_rc 0 pa init

mk() { expect_rc 0 pa --json customer create "$@" && jget .async_id; }
ANA=$(mk --first-name Ana)
UPL=$(mk --first-name Ugo)
SYN=$(mk --first-name Sara)
sql "UPDATE customer SET state = 'uploaded' WHERE async_id = '$UPL';
	UPDATE customer SET state = 'synced', account = 'C004242' WHERE async_id = '$SYN';
	INSERT INTO customer(account, origin, state, kind, first_name, search_name, created_at, updated_at)
	VALUES ('C000777', 'hq', 'synced', 'person', 'Hugo', 'Hugo', '2026-01-01T00:00:00Z', 0)"
OK=(--line1 "Rua Augusta 1" --city Lisboa --postal-code 1100-048 --country PT)
ADDR_KEYS='["async_id","address_id","customer","purpose","primary","line1","line2","city","region","postal_code","country","state","last_error","pending_update","update_error"]'

check "add to a pending customer: text line and JSON address shape"
expect_rc 0 pa customer address add R01-000001 "${OK[@]}" --line2 "2 Esq" --region Lisboa --purpose delivery --primary
grep -Eq '^[0-9a-f-]{36}  delivery, primary  Rua Augusta 1, 2 Esq, 1100-048 Lisboa, Lisboa, PT  \[Pending sync\]$' \
	"$T/out" || fail "address add text output is wrong"
A1=$(awk '{print $1}' "$T/out")
expect_rc 0 pa --json customer address add "$ANA" "${OK[@]}"
jq -e --argjson k "$ADDR_KEYS" '(keys | sort) == ($k | sort)' "$T/out" >/dev/null || fail "address JSON keys differ from AGENT.md"
jq -e --arg a "$ANA" '.customer == {"async_id": $a} and .purpose == null and .primary == false and .line2 == null
	and .region == null and .line1 == "Rua Augusta 1" and .city == "Lisboa" and .postal_code == "1100-048"
	and .country == "PT" and .state == "pending" and .last_error == null' "$T/out" >/dev/null ||
	fail "address JSON values are wrong"
A2=$(jget .async_id)
[ "$(sql "SELECT count(*) FROM address a JOIN customer c ON c.id = a.customer_id WHERE c.async_id = '$ANA'
	AND a.state = 'pending' AND a.origin = 'local' AND a.waiting_since IS NOT NULL")" = 2 ] ||
	fail "the addresses are not stored pending on Ana"
[ "$A1" != "$A2" ] || fail "two addresses got the same async id"

check "add to uploaded, synced and HQ-made customers, by local number, async id and account"
expect_rc 0 pa --json customer address add R01-000002 "${OK[@]}" --purpose home
[ "$(jget .customer.async_id)" = "$UPL" ] || fail "address on an uploaded customer is wrong"
expect_rc 0 pa --json customer address add C004242 "${OK[@]}" --purpose invoice
[ "$(jget .customer.async_id)" = "$SYN" ] || fail "address on a synced customer (by account) is wrong"
expect_rc 0 pa --json customer address add C000777 "${OK[@]}"
jq -e '.customer == {"account": "C000777"}' "$T/out" >/dev/null || fail "address on an HQ customer must name its account"
A_HQ=$(jget .async_id)
expect_rc 0 pa customer address add C000777 --json "${OK[@]}"
[ "$(jget .state)" = pending ] || fail "--json after the options gave no JSON"
expect_rc 0 pa --json customer show C000777
[ "$(jget '.addresses | length')" = 2 ] || fail "show does not list the HQ customer's addresses"

check "bad addresses are 65 naming the field and store nothing"
before=$(db_sum)
bad() { # CODE FIELD ARGS...
	local code=$1 field=$2
	shift 2
	expect_rc 65 pa customer address add R01-000001 "$@"
	expect_err "$field"
	expect_rc 65 pa --json customer address add R01-000001 "$@"
	expect_json_err "$code" "$field"
}
bad invalid_address line1 --city Lisboa --postal-code 1100-048 --country PT
bad invalid_address city --line1 "Rua 1" --postal-code 1100-048 --country PT
bad invalid_address postal_code --line1 "Rua 1" --city Lisboa --country PT
bad invalid_address country --line1 "Rua 1" --city Lisboa --postal-code 1100-048
bad invalid_address country "${OK[@]}" --country pt
bad invalid_address country "${OK[@]}" --country PRT
bad invalid_address country "${OK[@]}" --country "P1"
bad invalid_address purpose "${OK[@]}" --purpose work
bad invalid_text line1 "${OK[@]}" --line1 "$(printf 'a%.0s' $(seq 201))"
bad invalid_text region "${OK[@]}" --region "$(printf 'Lis\nboa')"
bad invalid_text city "${OK[@]}" --city "$(printf 'Lis\xc3boa')"
expect_rc 65 pa --json customer address add R01-000099 "${OK[@]}"
expect_json_err unknown_customer customer
[ "$(db_sum)" = "$before" ] || fail "a refused address add changed the database"
sql "UPDATE customer SET account = 'R01-000001' WHERE async_id = '$SYN'"
before=$(db_sum)
expect_rc 65 pa customer address add R01-000001 "${OK[@]}"
expect_err "more than one customer"
expect_rc 65 pa --json customer address add R01-000001 "${OK[@]}"
expect_json_err ambiguous_customer customer
[ "$(db_sum)" = "$before" ] || fail "an ambiguous address add changed the database"
sql "UPDATE customer SET account = 'C004242' WHERE async_id = '$SYN'"
before=$(db_sum)

check "address usage mistakes are 64"
expect_rc 64 pa customer address add "${OK[@]}"
expect_err "missing CUSTOMER"
expect_rc 64 pa customer address add R01-000001 R01-000002 "${OK[@]}"
expect_err "unexpected argument"
expect_rc 64 pa customer address add R01-000001 "${OK[@]}" --street x
expect_err "unknown option.*--street"
expect_rc 64 pa customer address add R01-000001 "${OK[@]}" --country
expect_err "missing value.*--country"
expect_rc 64 pa customer address add R01-000001 "${OK[@]}" --primary=yes
expect_rc 64 pa customer address
expect_err "missing add or edit"
expect_rc 64 pa customer address remove "$A1"
expect_err "unknown address command.*remove"
expect_rc 64 pa customer address edit "$A1"
expect_err "nothing to change"
expect_rc 64 pa customer address edit --city Porto
expect_err "missing ADDRESS"
expect_rc 64 pa --json customer address edit "$A1" --town Porto
expect_json_err usage
expect_rc 0 pa customer address add --help
grep -q -- "--postal-code" "$T/out" || fail "address --help does not list the options"
[ "$(db_sum)" = "$before" ] || fail "an address usage mistake changed the database"

check "edit a pending address: fields change, \"\" clears an optional one, the rest stays"
expect_rc 0 pa customer address edit "$A1" --city Porto --postal-code 4000-001
grep -q "^$A1  delivery, primary  Rua Augusta 1, 2 Esq, 4000-001 Porto" "$T/out" || fail "address edit text output is wrong"
expect_rc 0 pa --json customer address edit "$A1" --line2 "" --region ""
jq -e --arg a "$A1" --arg c "$ANA" '.async_id == $a and .customer == {"async_id": $c} and .line2 == null
	and .region == null and .city == "Porto" and .purpose == "delivery" and .primary == true and .state == "pending"' \
	"$T/out" >/dev/null || fail "address edit --json is wrong"
before=$(db_sum)
expect_rc 65 pa --json customer address edit "$A1" --line1 ""
expect_json_err invalid_address line1
expect_rc 65 pa --json customer address edit "$A1" --country Portugal
expect_json_err invalid_address country
expect_rc 65 pa --json customer address edit R01-000001 --city Porto
expect_json_err unknown_address address
expect_rc 65 pa customer address edit 00000000-0000-4000-8000-000000000000 --city Porto
expect_err "00000000-0000-4000-8000-000000000000"
[ "$(db_sum)" = "$before" ] || fail "a refused address edit changed the database"

check "edit a rejected address: pending again, same async id, last error cleared"
sql "UPDATE address SET state = 'rejected', last_code = 'invalid_address', last_message = 'no such street'
	WHERE async_id = '$A2'"
expect_rc 0 pa customer show R01-000001
grep -q "last HQ error: invalid_address: no such street" "$T/out" || fail "show does not give the address's HQ error"
expect_rc 0 pa --json customer address edit "$A2" --line1 "Rua Augusta 10"
jq -e --arg a "$A2" '.async_id == $a and .state == "pending" and .last_error == null and .line1 == "Rua Augusta 10"' \
	"$T/out" >/dev/null || fail "the rejected address did not become pending"
[ "$(sql "SELECT state, last_code IS NULL FROM address WHERE async_id = '$A2'")" = "pending|1" ] ||
	fail "the rejected address is not stored pending"

check "edit an address in an unsent batch releases it; in a sent batch, or uploaded, is 65"
sql "INSERT INTO batch(id, batch_id, idem_key, body, records, sent, created_at, members)
	VALUES (3, 'b-3', 'k-3', 'x', 1, 0, 0, json_array(json_array('address', (SELECT id FROM address WHERE async_id = '$A1'), '$A1')));
	UPDATE address SET batch_id = 3 WHERE async_id = '$A1'"
expect_rc 0 pa customer address edit "$A1" --city Braga
[ "$(sql "SELECT count(*) FROM batch") $(sql "SELECT count(*) FROM address WHERE batch_id IS NOT NULL")" = "0 0" ] ||
	fail "the unsent batch was not released"
sql "INSERT INTO batch(id, batch_id, idem_key, body, records, sent, created_at, members)
	VALUES (4, 'b-4', 'k-4', 'x', 1, 1, 0, json_array(json_array('address', (SELECT id FROM address WHERE async_id = '$A1'), '$A1')));
	UPDATE address SET batch_id = 4 WHERE async_id = '$A1'"
expect_rc 0 pa --json customer address edit "$A1" --city Faro
jq -e '.city == "Faro" and .state == "pending" and .pending_update == true and .update_error == null' "$T/out" \
	>/dev/null || fail "an edit of an address in a sent batch is not applied and shown as travelling"
[ "$(sql "SELECT kind, fields FROM record_update")" = 'address_update|{"city":"Faro"}' ] ||
	fail "the address update record is wrong"
sql "UPDATE address SET state = 'uploaded' WHERE async_id = '$A_HQ'"
expect_rc 0 pa customer address edit "$A_HQ" --city Faro --no-primary
grep -q "Changes pending sync" "$T/out" || fail "the address's travelling edit is not shown"
before=$(db_sum)
expect_rc 65 pa --json customer address edit "$A_HQ" --primary --purpose ""
expect_json_err invalid_address primary
[ "$(db_sum)" = "$before" ] || fail "a refused address edit changed the database"

echo "ok"
