#!/bin/bash
# A refused edit after upload (issue 12). HQ rejects a synced customer's
# update: the change stays applied here, shown "Needs attention" with HQ's
# code (update_error), and status and doctor list it (kind
# customer_update, the customer's id, the update_id). The next edit
# merges into it and it goes up again under the same update_id; HQ then
# holds the union. A second refused update is dropped with
# --discard-update, which shows HQ's values again. Then: an edit queued
# while the customer's create was in flight, when HQ rejects that create,
# is folded into the record: the correction resends the customer with
# every edit, and no update goes up for it. A refused update never holds
# up end of day.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
hq_start
hqsql() { sqlite3 -batch -cmd '.timeout 10000' "$H/hq.db" "$@"; }
BATCHES=/v1/stores/S0001/registers/R01/batches
reject() { hq_admin fault "{\"path\":\"$BATCHES\",\"kind\":\"reject\",\"record\":\"$1\",\"code\":\"$2\"}" >/dev/null; }

pr init >/dev/null
pr customer create --first-name Ana --email ana@example.com >/dev/null
expect_rc 0 pr sync

check "HQ rejects the update: applied here, Needs attention, listed by status and doctor"
expect_rc 0 pr customer edit R01-000001 --email ana.silva@example.com
reject customer_update invalid_email
expect_rc 0 pr --json sync
[ "$(jget .rejected)" = 1 ] || fail "sync does not count the rejected update"
UID1=$(sql "SELECT update_id FROM record_update")
expect_rc 0 pr --json customer show R01-000001
jq -e '.email == "ana.silva@example.com" and .state == "synced" and .update_error.code == "invalid_email"' \
	"$T/out" >/dev/null || fail "the refused change is not kept applied and shown with HQ's code"
expect_rc 0 pr customer show R01-000001
head -n 1 "$T/out" | grep -q "Needs attention" || fail "text does not say Needs attention"
expect_rc 0 pr --json status
jq -e --arg u "$UID1" '.rejected | any(.kind == "customer_update" and .update_id == $u and .code == "invalid_email"
	and (.id | length) == 36)' "$T/out" >/dev/null || fail "status does not list the rejected update"
expect_rc 0 pr status
grep -q "customer_update" "$T/out" || fail "status text does not list the rejected update"
rc=0
pr --json doctor >"$T/out" 2>"$T/err" || rc=$?
jq -e '.checks[] | select(.name == "rejected") | .result == "WARN" and (.detail | test("customer_update"))' \
	"$T/out" >/dev/null || fail "doctor does not list the rejected update"

check "a refused update never holds up end of day"
printf '{"txn_id":"S0001-R01-000001","kind":"cash_and_carry","business_date":"2026-11-25","currency":"EUR","customer":{"account":"C000001"},"lines":[{"sku":"S","qty":1,"unit_price_minor":100}],"tenders":[{"type":"cash","amount_minor":100}],"total_minor":100}' |
	pr txn record --from-json - >/dev/null
expect_rc 0 pr --json eod --date 2026-11-25 --timeout 60
[ "$(jget .result)" = posted ] || fail "eod did not post with a refused update pending a person"

check "the next edit merges into it; it goes up again under the same update_id"
expect_rc 0 pr customer edit R01-000001 --phone "+351 911 234 567"
[ "$(sql "SELECT update_id, state, fields FROM record_update")" = \
	"$UID1|pending|{\"email\":\"ana.silva@example.com\",\"phone\":\"+351 911 234 567\"}" ] ||
	fail "the edit did not merge into the rejected update"
expect_rc 0 pr --json sync
[ "$(jget .rejected)" = 0 ] || fail "the corrected update was rejected again"
rec=$(hqsql "SELECT record FROM customers WHERE account = 'C000001'")
[ "$(jq -r '.email + " " + .phone' <<<"$rec")" = "ana.silva@example.com +351 911 234 567" ] ||
	fail "HQ does not hold the merged update: $rec"
[ "$(hqsql "SELECT count(*) FROM updates WHERE update_id = '$UID1'")" = 1 ] || fail "HQ does not hold it under its update_id"
expect_rc 0 pr --json customer show R01-000001
jq -e '.update_error == null and .pending_update == false' "$T/out" >/dev/null || fail "still shown as refused"

check "--discard-update drops a refused change and shows HQ's values again"
expect_rc 0 pr customer edit R01-000001 --first-name Anna
reject customer_update invalid_name
expect_rc 0 pr sync
expect_rc 0 pr --json customer edit R01-000001 --discard-update
jq -e '.first_name == "Ana" and .update_error == null and .pending_update == false' "$T/out" >/dev/null ||
	fail "discard did not restore HQ's value"
[ "$(sql "SELECT count(*) FROM record_update") $(sql "SELECT count(*) FROM record_base")" = "0 0" ] ||
	fail "discard left the update behind"
expect_rc 65 pr --json customer edit R01-000001 --discard-update
expect_json_err no_update
expect_rc 64 pr customer edit R01-000001 --discard-update --email x@example.com

check "an edit queued while the create was in flight is folded when HQ rejects the create"
pr customer create --first-name Bo --email bo@example.com >/dev/null
hq_admin fault "{\"path\":\"$BATCHES\",\"kind\":\"status\",\"status\":500,\"count\":3}" >/dev/null
expect_rc 69 pr sync
expect_rc 0 pr customer edit R01-000002 --phone "+351 222 333 444"
[ "$(sql "SELECT count(*) FROM record_update")" = 1 ] || fail "the edit of a customer in flight was not queued"
reject customer invalid_email
expect_rc 0 pr sync
[ "$(sql "SELECT state FROM customer WHERE local_number = 'R01-000002'")" = rejected ] || fail "the create was not rejected"
[ "$(sql "SELECT count(*) FROM record_update")" = 0 ] || fail "the queued edit was not folded into the record"
expect_rc 0 pr customer edit R01-000002 --first-name Bob
expect_rc 0 pr sync
[ "$(sql "SELECT state FROM customer WHERE local_number = 'R01-000002'")" = synced ] || fail "the corrected customer is not synced"
rec=$(hqsql "SELECT record FROM customers WHERE local_number = 'R01-000002'")
[ "$(jq -r '.first_name + " " + .phone' <<<"$rec")" = "Bob +351 222 333 444" ] ||
	fail "HQ does not hold the customer with every edit: $rec"
[ "$(hqsql "SELECT count(*) FROM updates u JOIN customers c ON c.id = u.customer_id WHERE c.local_number = 'R01-000002'")" = 0 ] ||
	fail "an update went up for a folded edit"
echo ok
