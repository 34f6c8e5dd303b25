#!/bin/bash
# An address HQ holds (synced, with HQ's address id) is corrected (issue
# 12): the change applies here at once and travels as an address_update
# naming HQ's address id; HQ then holds the new city once and the
# customer's version went up. The edit is accepted by address id too; a
# second address made primary for the same purpose demotes the first here
# without any update for the demotion; HQ's record of the change keeps
# both right. An address edit that breaks a rule is 65, nothing queued.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
hq_start
hqsql() { sqlite3 -batch -cmd '.timeout 10000' "$H/hq.db" "$@"; }

check "a customer with a delivery address, both synced"
pr init >/dev/null
pr customer create --first-name Ana >/dev/null
A1=$(pr --json customer address add R01-000001 --line1 "Rua Augusta 1" --city Lisbon --postal-code 1100-048 \
	--country PT --purpose delivery --primary | jq -r .async_id)
expect_rc 0 pr sync
[ "$(sql "SELECT state FROM address WHERE async_id = '$A1'")" = synced ] || fail "the address is not synced"
AID=$(sql "SELECT address_id FROM address WHERE async_id = '$A1'")
V0=$(hqsql "SELECT version FROM customers WHERE account = 'C000001'")

check "the edit applies here and is shown as travelling"
expect_rc 0 pr --json customer address edit "$AID" --city Lisboa --line2 "2 Esq"
jq -e '.city == "Lisboa" and .line2 == "2 Esq" and .state == "synced" and .pending_update == true' "$T/out" \
	>/dev/null || fail "the address edit is not applied with pending_update"
expect_rc 0 pr customer show R01-000001
grep -q "Lisboa.*Changes pending sync" "$T/out" || fail "show does not mark the address as travelling"
before=$(db_sum)
expect_rc 65 pr --json customer address edit "$A1" --country Portugal
expect_json_err invalid_address country
[ "$(db_sum)" = "$before" ] || fail "a refused address edit changed the database"

check "sync: HQ holds the new city once, version bumped; nothing left here"
expect_rc 0 pr sync
rec=$(hqsql "SELECT record FROM addresses WHERE address_id = '$AID'")
[ "$(jq -r '.city + "/" + .line2' <<<"$rec")" = "Lisboa/2 Esq" ] || fail "HQ does not hold the edited address: $rec"
[ "$(hqsql "SELECT count(*) FROM updates")" = 1 ] || fail "HQ does not hold the address update once"
[ "$(hqsql "SELECT version FROM customers WHERE account = 'C000001'")" = $((V0 + 1)) ] || fail "version not bumped"
[ "$(sql "SELECT count(*) FROM record_update")" = 0 ] || fail "the accepted update is still kept"
expect_rc 0 pr --json customer show R01-000001
jq -e '.addresses[0].city == "Lisboa" and .addresses[0].pending_update == false' "$T/out" >/dev/null ||
	fail "after the sync the address does not show HQ's record"

check "a second primary delivery address demotes the first here only"
A2=$(pr --json customer address add R01-000001 --line1 "Rua do Ouro 9" --city Lisboa --postal-code 1100-060 \
	--country PT --purpose delivery | jq -r .async_id)
expect_rc 0 pr sync
expect_rc 0 pr customer address edit "$A2" --primary
[ "$(sql "SELECT is_primary FROM address WHERE async_id = '$A1'")" = 0 ] || fail "the old primary was not demoted here"
[ "$(sql "SELECT count(*) FROM record_update")" = 1 ] || fail "a demotion was queued as an update"
expect_rc 0 pr sync
expect_rc 0 pr --json customer show R01-000001
jq -e --arg a1 "$A1" --arg a2 "$A2" '[.addresses[] | select(.primary) | .async_id] == [$a2]' "$T/out" >/dev/null ||
	fail "after HQ's record, the primary delivery address is not the second one only"
echo ok
