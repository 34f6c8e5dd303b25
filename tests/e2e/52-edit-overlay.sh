#!/bin/bash
# The download's merge rule for edits after upload (issue 12). HQ staff
# change a synced customer's phone while the cashier corrects its email;
# the register downloads HQ's change before its update goes up: the till
# shows HQ's phone and still the cashier's email (the edit stays on top).
# Changes older than the version held (the whole feed replayed from the
# start) are ignored and revert nothing. Once HQ accepts the update, the
# edit is shown as plain data (no longer pending) even before HQ's record
# of that version comes down, and after it nothing of the edit is left
# to keep.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
hq_start
hqsql() { sqlite3 -batch -cmd '.timeout 10000' "$H/hq.db" "$@"; }
show() { pr --json customer show R01-000001 >"$T/out" || fail "customer show failed"; }

check "a synced customer; the register holds HQ's version"
pr init >/dev/null
pr customer create --first-name Ana --email ana@old.example --phone "+351 911 234 567" >/dev/null
expect_rc 0 pr sync
V0=$(hqsql "SELECT version FROM customers WHERE account = 'C000001'")
[ "$(sql "SELECT version FROM customer")" = "$V0" ] || fail "the register did not keep HQ's version $V0"

check "HQ changes the phone; the cashier corrects the email before any sync"
hq_admin customer '{"account":"C000001","customer":{"phone":"+351 222 333 444"}}' >/dev/null
expect_rc 0 pr customer edit R01-000001 --email ana@new.example

check "download first: HQ's phone arrives, the cashier's email stays on top"
expect_rc 0 pr sync --pull
show
jq -e '.email == "ana@new.example" and .phone == "+351 222 333 444" and .pending_update == true' "$T/out" \
	>/dev/null || fail "the download reverted the travelling edit or lost HQ's phone"
[ "$(sql "SELECT version FROM customer")" = $((V0 + 1)) ] || fail "HQ's newer version was not kept"
[ "$(sql "SELECT json_extract(fields, '$.email') FROM record_base")" = ana@old.example ] ||
	fail "HQ's own email is not kept under the edit"

check "the feed replayed from the start: older changes are ignored"
sql "DELETE FROM meta WHERE key = 'cursor'"
expect_rc 0 pr sync --pull
show
jq -e '.email == "ana@new.example" and .phone == "+351 222 333 444"' "$T/out" >/dev/null ||
	fail "an older change reverted the till's values"

check "upload only: HQ accepts; the edit is plain data here before HQ's record comes down"
expect_rc 0 pr sync --push
[ "$(sql "SELECT state, version FROM record_update")" = "accepted|$((V0 + 2))" ] ||
	fail "the accepted update does not wait for HQ's version $((V0 + 2))"
show
jq -e '.email == "ana@new.example" and .pending_update == false' "$T/out" >/dev/null ||
	fail "an accepted edit is not shown as plain data"
rec=$(hqsql "SELECT record FROM customers WHERE account = 'C000001'")
[ "$(jq -r '.email + " " + .phone' <<<"$rec")" = "ana@new.example +351 222 333 444" ] ||
	fail "HQ does not hold both changes: $rec"

check "the feed replayed again, then HQ's record of the update's version: nothing flickers, nothing is left"
sql "DELETE FROM meta WHERE key = 'cursor'"
expect_rc 0 pr sync --pull
show
jq -e '.email == "ana@new.example" and .phone == "+351 222 333 444" and .pending_update == false' "$T/out" \
	>/dev/null || fail "the values changed after HQ's record came down"
[ "$(sql "SELECT count(*) FROM record_update") $(sql "SELECT count(*) FROM record_base")" = "0 0" ] ||
	fail "the update is still kept after HQ's record of its version was applied"
[ "$(sql "SELECT version FROM customer")" = $((V0 + 2)) ] || fail "the register does not hold HQ's latest version"
echo ok
