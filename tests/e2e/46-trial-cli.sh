#!/bin/bash
# 46-trial-cli: what a new user's trial found wrong in the cashier's and
# technician's commands (issue 13), each reproduced.
#
# What happens: a customer gets an address without a purpose; sales are
# recorded for a customer, then for one HQ rejected; an address and a
# transaction are marked rejected as HQ would; an old HQ error is followed
# by later successes in the bookkeeping; an attribute and the email are
# cleared by edit.
# What must hold: an address without purpose is shown as "no purpose",
# never "address, primary"; `txn record` names the customer by local
# number; a sale naming a rejected customer is recorded (0) with a warning
# on stderr and "warnings": [{"code", "message"}] in JSON (empty when none);
# status's rejected lines each say the right command (customer edit,
# customer address edit, txn record) and the old HQ error is shown with its
# time and the later success; doctor suggests `customer address edit` for a
# rejected address; "1 record"; `--attr KEY=` removes the attribute and
# `--email ""` clears the email, as the man page says.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
setup
expect_rc 0 pa init

expect_rc 0 pa customer create --first-name Ana --last-name Silva --email ana@example.com --attr tier=gold \
	--attr loyalty=yes
expect_rc 0 pa --json customer create --first-name Rui --email rui@example.com
RUI=$(jget .async_id)

check "an address without purpose is shown as such"
expect_rc 0 pa --json customer address add R01-000001 --line1 "Rua A 1" --city Lisboa --postal-code 1000-001 --country PT
ADDR=$(jget .async_id)
expect_rc 0 pa customer show R01-000001
grep -q "$ADDR  no purpose  Rua A 1" "$T/out" || fail "the address is not shown without purpose: $(cat "$T/out")"
! grep -q 'address, primary' "$T/out" || fail "an address without purpose is shown as primary"

# txn N CUSTOMER_JSON: writes S0001-R01-N to $T/txn.json
txn() {
	printf '{"txn_id":"S0001-R01-%06d","kind":"cash_and_carry","business_date":"2026-11-25","currency":"EUR","customer":%s,"lines":[{"sku":"SKU-1","qty":1,"unit_price_minor":500}],"tenders":[{"type":"cash","amount_minor":500}],"total_minor":500}' \
		"$1" "$2" >"$T/txn.json"
}
check "txn record names the customer by local number; warnings empty when none"
txn 1 "{\"async_id\":\"$RUI\"}"
expect_rc 0 pa txn record --from-json "$T/txn.json"
grep -q '^recorded S0001-R01-000001  pending  customer R01-000002$' "$T/out" || fail "txn record: $(cat "$T/out")"
[ ! -s "$T/err" ] || fail "a warning for a customer in good standing"
txn 2 '{"local_number":"R01-000002"}'
expect_rc 0 pa --json txn record --from-json "$T/txn.json"
jq -e '.warnings == []' "$T/out" >/dev/null || fail "warnings is not an empty array: $(cat "$T/out")"

check "a sale naming a rejected customer: recorded, with a warning"
sql "UPDATE customer SET state = 'rejected', last_code = 'invalid_email', last_message = 'mailbox unknown'
	WHERE async_id = '$RUI'"
txn 3 '{"local_number":"R01-000002"}'
expect_rc 0 pa txn record --from-json "$T/txn.json"
grep -q '^recorded S0001-R01-000003 ' "$T/out" || fail "the sale was not recorded"
grep -Eq '^posagent: warning: customer R01-000002 was rejected by HQ \(invalid_email\).*end of day' \
	"$T/err" || fail "no warning on stderr: $(cat "$T/err")"
txn 4 '{"local_number":"R01-000002"}'
expect_rc 0 pa --json txn record --from-json "$T/txn.json"
jq -e '(.warnings | length) == 1 and .warnings[0].code == "customer_rejected"
	and (.warnings[0] | has("code") and has("message")) and (.warnings[0].message | test("R01-000002"))' "$T/out" \
	>/dev/null || fail "txn record --json warnings: $(cat "$T/out")"
[ "$(sql "SELECT count(*) FROM txn")" = 4 ] || fail "not every sale was stored"

check "status: the right command for each rejected kind; an old HQ error with its time and the later success"
sql "UPDATE address SET state = 'rejected', last_code = 'invalid_address', last_message = 'no such street'
	WHERE async_id = '$ADDR';
	UPDATE txn SET state = 'rejected', last_code = 'invalid_line', last_message = 'bad sku' WHERE txn_id = 'S0001-R01-000001';
	INSERT OR REPLACE INTO meta(key, value) VALUES ('last_error', 'cannot connect to HQ: trial'),
	('last_error_at', '2026-11-20T08:00:00Z'), ('last_upload', '2026-11-21T09:00:00Z')"
expect_rc 0 pa status
! grep -q 'customer show` says why):' "$T/out" || fail "the header sends every kind to customer show"
grep -Eq "^  customer R01-000002 .*customer edit R01-000002" "$T/out" || fail "customer line: $(cat "$T/out")"
grep -Eq "^  address $ADDR .*customer address edit $ADDR" "$T/out" || fail "address line"
grep -Eq "^  transaction S0001-R01-000001 .*txn record" "$T/out" || fail "transaction line"
grep -Eq '^last HQ error +2026-11-20T08:00:00Z \(.* ago\): cannot connect to HQ: trial$' "$T/out" || fail "last HQ error line"
grep -Eq '^ +HQ has answered since: last success 2026-11-21T09:00:00Z' "$T/out" || fail "no later success shown"
sql "UPDATE meta SET value = '2026-11-19T09:00:00Z' WHERE key = 'last_upload'"
expect_rc 0 pa status
grep -Eq '^ +no success since \(last success: 2026-11-19T09:00:00Z' "$T/out" || fail "no 'no success since'"

check "doctor: customer address edit for a rejected address"
expect_rc 1 pa --json doctor
jq -e '.checks[] | select(.name == "rejected") | .hint | test("customer address edit") and test("txn record")
	and test("customer edit")' "$T/out" >/dev/null || fail "doctor's rejected hint: $(jq -c '.checks[] | select(.name == "rejected")' "$T/out")"
sql "UPDATE customer SET state = 'pending' WHERE async_id = '$RUI'; UPDATE txn SET state = 'pending'"
expect_rc 1 pa --json doctor
jq -e '.checks[] | select(.name == "rejected") | (.hint | test("customer address edit")) and (.detail | test("^1 record HQ rejected"))
	and (.hint | test("customer edit CUSTOMER") | not)' "$T/out" >/dev/null ||
	fail "doctor with only a rejected address: $(jq -c '.checks[] | select(.name == "rejected")' "$T/out")"

check "--attr KEY= removes an attribute, --email \"\" clears the email, as documented"
expect_rc 0 pa --json customer edit R01-000001 --attr tier= --email ""
jq -e '.attributes == {"loyalty": "yes"} and .email == null' "$T/out" >/dev/null || fail "edit: $(cat "$T/out")"
sed 's/\\-/-/g; s/\\(dq/"/g' "$TOP/packaging/posagent.1" | tr '\n' ' ' >"$T/man.txt"
grep -q -- '--attr KEY= .*removes' "$T/man.txt" && grep -q -- 'empty value .*clears' "$T/man.txt" ||
	fail "the man page does not say that --attr KEY= removes and an empty value clears"

echo "ok"
