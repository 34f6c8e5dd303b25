#!/bin/bash
# Edits travel to every register of the store (issue 12). R01 makes a
# customer; R02 learns it from HQ's feed. HQ staff change its email: both
# registers show the new email after their next sync. R02 then corrects
# the phone of the customer it only knows from HQ (by account): R01 sees
# R02's phone after its next sync, and R02 keeps no update once HQ's
# record of that version came down.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
hq_start
DB2=$(sed -n 's/^database *= *//p' "$H/S0001-R02.conf")
sql2() { sqlite3 -batch -cmd '.timeout 10000' "$DB2" "$@"; }
email_of() { "$POSAGENT_BIN" -c "$1" --json customer show C000001 | jq -r "$2"; }

check "R01 makes a customer; R02 learns it from HQ"
pr init >/dev/null
pr2 init >/dev/null
pr customer create --first-name Ana --email ana@example.com --phone "+351 911 234 567" >/dev/null
expect_rc 0 pr sync
expect_rc 0 pr2 sync
[ "$(email_of "$H/S0001-R02.conf" .email)" = ana@example.com ] || fail "R02 does not know the customer"

check "an HQ-side edit reaches both registers"
hq_admin customer '{"account":"C000001","customer":{"email":"ana.silva@example.com"}}' >/dev/null
expect_rc 0 pr sync
expect_rc 0 pr2 sync
[ "$(email_of "$CONF" .email)" = ana.silva@example.com ] || fail "R01 does not show HQ's new email"
[ "$(email_of "$H/S0001-R02.conf" .email)" = ana.silva@example.com ] || fail "R02 does not show HQ's new email"

check "R02 edits the customer it only knows from HQ; R01 sees it after its sync"
expect_rc 0 pr2 customer edit C000001 --phone "+351 999 888 777"
grep -q "Changes pending sync" "$T/out" || fail "R02 does not show the travelling edit"
[ "$(sql2 "SELECT kind, fields FROM record_update")" = 'customer_update|{"phone":"+351 999 888 777"}' ] ||
	fail "R02 did not queue the update"
expect_rc 0 pr2 sync
expect_rc 0 pr sync
[ "$(email_of "$CONF" .phone)" = "+351 999 888 777" ] || fail "R01 does not show R02's phone"
[ "$(email_of "$CONF" .email)" = ana.silva@example.com ] || fail "R01 lost HQ's email"
[ "$(sql2 "SELECT count(*) FROM record_update")" = 0 ] || fail "R02 still keeps its accepted update"
[ "$(email_of "$H/S0001-R02.conf" .pending_update)" = false ] || fail "R02 still shows the edit as pending"

check "an address HQ staff add is found by both registers without its accents"
hq_admin customer '{"account":"C000001","addresses":[{"purpose":"delivery","primary":true,
	"line1":"Rua São João 5","city":"Évora","postal_code":"7000-001","country":"PT"}]}' >/dev/null
expect_rc 0 pr sync
expect_rc 0 pr2 sync
for c in "$CONF" "$H/S0001-R02.conf"; do
	[ "$("$POSAGENT_BIN" -c "$c" --json customer search "sao joao evora" | jq -r '.[0].account')" = C000001 ] ||
		fail "$c: 'sao joao evora' does not find HQ's address"
done
echo ok
