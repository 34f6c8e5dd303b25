#!/bin/bash
# 13-customer-edit: `posagent customer edit` and the states it allows.
#
# What happens: customers are edited while pending, while held by an
# upload batch not yet sent and by one already sent, after HQ rejected
# them, after HQ accepted them (uploaded, synced); states, batches and
# HQ's answers are set with sqlite3 as the sync engine would set them.
# What must hold: pending (not in a sent batch) and rejected are editable;
# a rejected customer becomes pending again with the same async id and
# local number and no last error; an unsent batch holding it is released;
# a sent batch, uploaded and synced are 65 saying why, changing nothing;
# `--email ""` clears the email; bad values are 65 naming the field; a
# CUSTOMER matching several customers is 65 naming them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
setup
expect_rc 0 pa init

new_customer() { # ARGS: create, print the async id
	expect_rc 0 pa --json customer create "$@"
	jget .async_id
}
ANA=$(new_customer --first-name Ana --last-name Silva --email ana@example.com --phone "+351 911 234 567" --attr tier=gold)

check "a pending customer is edited by local number and by async id; text shows it, JSON is the customer shape"
expect_rc 0 pa customer edit R01-000001 --last-name Sousa --language pt-PT
grep -q "name: *Ana Sousa" "$T/out" || fail "edit does not show the new name"
grep -q "Pending sync" "$T/out" || fail "edit does not show the state"
expect_rc 0 pa --json customer edit "$ANA" --phone "+351 911 000 000"
jq -e --arg a "$ANA" '.async_id == $a and .local_number == "R01-000001" and .state == "pending"
	and .last_name == "Sousa" and .phone == "+351 911 000 000" and .language == "pt-PT"
	and .email == "ana@example.com" and .attributes == {"tier": "gold"} and .addresses == [] and .last_error == null' \
	"$T/out" >/dev/null || fail "edit --json shows the wrong customer"
expect_rc 0 pa customer edit R01-000001 --json --first-name Ana
[ "$(jget .first_name)" = Ana ] || fail "--json after edit's options gave no JSON"
[ "$(sql "SELECT last_name || ' ' || phone_digits FROM customer WHERE async_id = '$ANA'")" = "Sousa 351911000000" ] ||
	fail "the edit was not stored (or phone digits not updated)"

check "the search index follows an edit"
expect_rc 0 pa customer edit R01-000001 --last-name Quaresma
expect_rc 0 pa --json customer search quaresm
[ "$(jget length)" = 1 ] || fail "search does not find the new name"
expect_rc 0 pa --json customer search sousa
[ "$(jget length)" = 0 ] || fail "search still finds the old name"
expect_rc 0 pa --json customer search 911000
[ "$(jget length)" = 1 ] || fail "search does not find the new phone"

check "--email \"\" clears the email; other fields stay"
expect_rc 0 pa --json customer edit R01-000001 --email ""
jq -e '.email == null and .phone == "+351 911 000 000" and .first_name == "Ana"' "$T/out" >/dev/null ||
	fail "--email \"\" did not clear the email (or touched other fields)"
[ "$(sql "SELECT email IS NULL FROM customer WHERE async_id = '$ANA'")" = 1 ] || fail "the email is still stored"
expect_rc 0 pa --json customer edit R01-000001 --email ana@example.com

check "bad edits are 65 naming the field and change nothing"
before=$(db_sum)
expect_rc 65 pa customer edit R01-000001 --email nope
expect_err "email"
expect_rc 65 pa --json customer edit R01-000001 --phone 123
expect_json_err invalid_phone phone
expect_rc 65 pa --json customer edit R01-000001 --kind organization
expect_json_err missing_name organization_name
expect_rc 65 pa --json customer edit R01-000001 --first-name "" --last-name ""
expect_json_err missing_name first_name
expect_rc 65 pa customer edit R01-000001 --attr "Bad Key=1"
expect_err "attributes"
expect_rc 65 pa --json customer edit R01-999999 --first-name Zed
expect_json_err unknown_customer customer
expect_err "R01-999999"
[ "$(db_sum)" = "$before" ] || fail "a refused edit changed the database"

check "usage mistakes are 64"
expect_rc 64 pa customer edit R01-000001
expect_err "nothing to change"
expect_rc 64 pa customer edit --first-name Zed
expect_err "missing CUSTOMER"
expect_rc 64 pa customer edit R01-000001 R01-000002 --first-name Zed
expect_err "unexpected argument"
expect_rc 64 pa customer edit R01-000001 --nickname Zed
expect_err "unknown option.*--nickname"
expect_rc 64 pa --json customer edit R01-000001 --first-name
expect_json_err usage
expect_rc 0 pa customer edit --help
[ "$(db_sum)" = "$before" ] || fail "a usage mistake changed the database"

check "edit --from-json takes a partial record; a local_number in it is 65"
printf '{"last_name": "Silva", "attributes": {"tier": "silver"}}' >"$T/e.json"
expect_rc 0 pa --json customer edit R01-000001 --from-json "$T/e.json"
jq -e '.last_name == "Silva" and .attributes.tier == "silver" and .first_name == "Ana"' "$T/out" >/dev/null ||
	fail "edit --from-json did not apply the record"
printf '{"local_number": "R01-000042"}' >"$T/e.json"
before=$(db_sum)
expect_rc 65 pa --json customer edit R01-000001 --from-json "$T/e.json"
expect_json_err invalid_record local_number
[ "$(db_sum)" = "$before" ] || fail "edit with a local_number changed the database"

check "a rejected customer is editable: pending again, same async id, last error cleared"
sql "UPDATE customer SET state = 'rejected', last_code = 'invalid_email', last_message = 'HQ says no',
	waiting_since = NULL WHERE async_id = '$ANA'"
expect_rc 0 pa customer show R01-000001
grep -q "Needs attention" "$T/out" && grep -q "last HQ error: invalid_email: HQ says no" "$T/out" ||
	fail "show does not flag the rejected customer"
expect_rc 65 pa customer edit R01-000001 --email "still bad"
[ "$(sql "SELECT state || ' ' || last_code FROM customer WHERE async_id = '$ANA'")" = "rejected invalid_email" ] ||
	fail "a refused edit changed the rejected customer"
expect_rc 0 pa --json customer edit R01-000001 --email ana.silva@example.com
jq -e --arg a "$ANA" '.async_id == $a and .local_number == "R01-000001" and .state == "pending"
	and .last_error == null and .email == "ana.silva@example.com"' "$T/out" >/dev/null ||
	fail "the rejected customer did not become pending with the same ids"
[ "$(sql "SELECT state, last_code IS NULL, last_message IS NULL, waiting_since IS NOT NULL FROM customer
	WHERE async_id = '$ANA'")" = "pending|1|1|1" ] || fail "the stored state after editing a rejected customer is wrong"
[ "$(sql 'SELECT count(*) FROM customer')" = 1 ] || fail "editing a rejected customer made another customer"

check "a pending customer in a batch not yet sent is editable; the batch is released"
BO=$(new_customer --first-name Bo)
sql "INSERT INTO batch(id, batch_id, idem_key, body, records, sent, created_at, members)
	VALUES (7, 'b-7', 'k-7', 'x', 2, 0, 0, '[[\"customer\",1,\"$ANA\"],[\"customer\",2,\"$BO\"]]');
	UPDATE customer SET batch_id = 7"
expect_rc 0 pa customer edit "$ANA" --first-name Anabela
[ "$(sql "SELECT count(*) FROM batch WHERE id = 7")" = 0 ] ||
	fail "the unsent batch was not dropped"
[ "$(sql "SELECT count(*) FROM customer WHERE batch_id IS NOT NULL")" = 0 ] || fail "the batch's members still point at it"

check "a pending customer in a batch already sent: the edit applies here and is queued as an update"
sql "INSERT INTO batch(id, batch_id, idem_key, body, records, sent, created_at, members)
	VALUES (8, 'b-8', 'k-8', 'x', 1, 1, 0, '[[\"customer\",2,\"$BO\"]]');
	UPDATE customer SET batch_id = 8 WHERE async_id = '$BO'"
expect_rc 0 pa customer edit "$BO" --first-name Bob
grep -q "Changes pending sync" "$T/out" || fail "the travelling edit is not shown"
[ "$(sql "SELECT first_name, state, batch_id FROM customer WHERE async_id = '$BO'")" = "Bob|pending|8" ] ||
	fail "the edit is not applied here, or the customer left its sent batch"
[ "$(sql "SELECT kind, fields, state, batch_id IS NULL FROM record_update")" = \
	'customer_update|{"first_name":"Bob"}|pending|1' ] || fail "the update record is wrong"
expect_rc 0 pa --json customer show "$BO"
jget '.pending_update' | grep -qx true || fail "pending_update is not true"
sql "DELETE FROM record_update; DELETE FROM record_base; DELETE FROM batch;
	UPDATE customer SET batch_id = NULL"

check "uploaded and synced customers: the edit is queued as an update; --kind is 65, nothing queued"
sql "UPDATE customer SET state = 'uploaded', waiting_since = NULL WHERE async_id = '$BO'"
expect_rc 0 pa customer edit "$BO" --first-name Bo
[ "$(sql "SELECT count(*) FROM record_update")" = 1 ] || fail "no update queued for an uploaded customer"
sql "UPDATE customer SET state = 'synced', account = 'C000123' WHERE async_id = '$BO'"
expect_rc 0 pa customer edit C000123 --email bob@example.com
[ "$(sql "SELECT count(*), fields FROM record_update")" = '1|{"first_name":"Bo","email":"bob@example.com"}' ] ||
	fail "a second edit before the upload is not merged into the first update"
before=$(db_sum)
expect_rc 65 pa --json customer edit C000123 --kind organization --organization X
expect_json_err invalid_record kind
expect_rc 65 pa --json customer edit C000123 --email not-an-email
expect_json_err invalid_email email
[ "$(db_sum)" = "$before" ] || fail "a refused edit of a synced customer changed the database"
sql "DELETE FROM record_update; DELETE FROM record_base"

check "a CUSTOMER matching several customers is 65 naming them"
CY=$(new_customer --first-name Cy)
CY_LOCAL=$(sql "SELECT local_number FROM customer WHERE async_id = '$CY'")
sql "UPDATE customer SET state = 'synced', account = '$CY_LOCAL' WHERE async_id = '$ANA'"
before=$(db_sum)
expect_rc 65 pa customer edit "$CY_LOCAL" --first-name Cyrus
expect_err "more than one customer.*(R01-000001.*$CY_LOCAL|$CY_LOCAL.*R01-000001)"
expect_rc 65 pa --json customer edit "$CY_LOCAL" --first-name Cyrus
expect_json_err ambiguous_customer customer
[ "$(db_sum)" = "$before" ] || fail "an ambiguous edit changed the database"
expect_rc 0 pa customer edit "$CY" --first-name Cyrus

echo "ok"
