#!/bin/bash
# Edits after upload (issue 12). A customer HQ holds (synced, with its
# account) is corrected while HQ is down: the till, search and show see the
# new email at once, marked "Changes pending sync", and the customer stays
# synced with its account. Once HQ is back, one sync sends the update: HQ
# holds the new email, the update once, and the customer's version went up
# by one; the register forgets the update once HQ's record of that version
# came down. An edit that breaks a create rule is 65 with nothing queued,
# and --kind is refused once HQ holds the customer.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
hq_start
hqsql() { sqlite3 -batch -cmd '.timeout 10000' "$H/hq.db" "$@"; }

check "a customer synced with a typo in the email"
pr init >/dev/null
pr customer create --first-name Ana --last-name Silva --email ana@exmaple.com --phone "+351 911 234 567" \
	--attr loyalty_opt_in=yes >/dev/null
expect_rc 0 pr sync
[ "$(sql "SELECT state, account FROM customer")" = "synced|C000001" ] || fail "the customer is not synced"
V0=$(hqsql "SELECT version FROM customers WHERE account = 'C000001'")

check "HQ down: the edit is applied here at once and shown as travelling"
hq_stop
expect_rc 0 pr customer edit R01-000001 --email ana@example.com --phone ""
grep -q "Changes pending sync" "$T/out" || fail "text does not say Changes pending sync"
expect_rc 0 pr --json customer show C000001
jq -e '.email == "ana@example.com" and .phone == null and .state == "synced" and .account == "C000001"
	and .pending_update == true and .update_error == null' "$T/out" >/dev/null ||
	fail "show does not give the new value with the customer still synced and pending_update true"
expect_rc 0 pr --json customer search ana@example.com
[ "$(jget 'length')" = 1 ] || fail "search does not find the new email"
expect_rc 0 pr customer list
grep -q "Changes pending sync" "$T/out" || fail "list does not show Changes pending sync"
[ "$(sql "SELECT fields FROM record_update")" = '{"email":"ana@example.com","phone":null}' ] ||
	fail "the update does not carry only the changed fields (a cleared one as null)"
expect_rc 0 pr customer edit R01-000001 --attr tier=gold
[ "$(sql "SELECT json_extract(fields, '$.attributes') FROM record_update")" = '{"loyalty_opt_in":"yes","tier":"gold"}' ] ||
	fail "changed attributes do not travel as the whole map, merged into the unsent update"

check "refused edits: 65, nothing queued"
before=$(db_sum)
expect_rc 65 pr --json customer edit R01-000001 --email nope
expect_json_err invalid_email email
expect_rc 65 pr --json customer edit R01-000001 --kind organization --organization X
expect_json_err invalid_record kind
expect_rc 65 pr --json customer edit R01-000001 --first-name "" --last-name ""
expect_json_err missing_name first_name
[ "$(db_sum)" = "$before" ] || fail "a refused edit changed the database"

check "sync while HQ is down: 69, the update waits"
expect_rc 69 pr sync
[ "$(sql "SELECT state FROM record_update")" = pending ] || fail "the update moved while HQ was down"

check "HQ up: one sync sends it; HQ holds the new value once, version bumped"
hq_start
expect_rc 0 pr --json sync
[ "$(jget .pending)" = 0 ] || fail "something is still pending after the sync"
rec=$(hqsql "SELECT record FROM customers WHERE account = 'C000001'")
[ "$(jq -r .email <<<"$rec")" = ana@example.com ] || fail "HQ does not hold the new email: $rec"
[ "$(jq -r .phone <<<"$rec")" = null ] || fail "HQ did not clear the phone: $rec"
[ "$(jq -r .first_name <<<"$rec")" = Ana ] || fail "HQ lost a field the update did not name: $rec"
[ "$(jq -c .attributes <<<"$rec")" = '{"loyalty_opt_in":"yes","tier":"gold"}' ] || fail "HQ's attributes: $rec"
[ "$(hqsql "SELECT count(*) FROM updates")" = 1 ] || fail "HQ does not hold the update exactly once"
[ "$(hqsql "SELECT version FROM customers WHERE account = 'C000001'")" = $((V0 + 1)) ] ||
	fail "HQ's version did not go up by one"
[ "$(sql "SELECT count(*) FROM record_update") $(sql "SELECT count(*) FROM record_base")" = "0 0" ] ||
	fail "the register still holds the update after HQ's record of its version came down"
[ "$(sql "SELECT version FROM customer")" = $((V0 + 1)) ] || fail "the register did not keep HQ's version"
expect_rc 0 pr --json customer show R01-000001
jq -e '.email == "ana@example.com" and .pending_update == false and .state == "synced"' "$T/out" >/dev/null ||
	fail "after the sync the customer is not shown plainly synced with the new value"

check "a second sync sends nothing more"
expect_rc 0 pr --json sync
[ "$(jget .uploaded)" = 0 ] || fail "the second sync uploaded again"
[ "$(hqsql "SELECT count(*) FROM updates")" = 1 ] || fail "HQ holds the update twice"
echo ok
