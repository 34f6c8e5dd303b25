#!/bin/bash
# 40-status: `posagent status`, text and --json, on a register with a bit
# of everything, read from the local database only.
#
# What happens: with HQ assigning accounts by hand, customers are made and
# synced (one posted end of day), one is rejected by HQ (a bad email an
# older agent let through), one is uploaded and waits for its account, one
# is made while HQ is down; transactions fall on two business dates; then
# HQ is stopped and a sync fails. status runs with HQ down, with a broken
# [hq] section, and on a missing database.
# What must hold: counts by state for customers, addresses and
# transactions; the oldest waiting record with its kind, id and age; last
# upload and download; the last HQ error with its time and the next retry;
# each rejected record with its code; each open business date (not the
# posted one) with its transactions and unsynced customers; AGENT.md's
# JSON shape; exit 0 without HQ and whatever [hq] holds; 74 without a
# database.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
hq_start --assign manual
pr init >/dev/null
RFC='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'

# txn N DATE CUSTOMER_JSON: records a 1.00 cash sale.
txn() {
	printf '{"txn_id":"S0001-R01-%06d","kind":"cash_and_carry","business_date":"%s","currency":"EUR","customer":%s,"lines":[{"sku":"S","qty":1,"unit_price_minor":100}],"tenders":[{"type":"cash","amount_minor":100}],"total_minor":100}' \
		"$1" "$2" "$3" | pr txn record --from-json - >/dev/null
}

pr customer create --first-name Ana --email ana@example.com >/dev/null          # R01-000001
pr customer create --first-name Bruno --email bruno@example.com >/dev/null      # R01-000002, rejected
pr customer create --first-name Carla --email carla@example.com >/dev/null      # R01-000003
pr customer address add R01-000001 --line1 "Rua Augusta 1" --city Lisboa --postal-code 1100-048 --country PT >/dev/null
BAD=$(sql "SELECT async_id FROM customer WHERE local_number = 'R01-000002'")
sql "UPDATE customer SET email = 'no-at-sign' WHERE async_id = '$BAD'"
txn 1 2026-11-24 '{"local_number":"R01-000001"}'
txn 2 2026-11-25 '{"local_number":"R01-000002"}'
txn 3 2026-11-25 null
txn 4 2026-11-25 '{"local_number":"R01-000003"}'
pr sync >/dev/null
hq_admin assign >/dev/null
pr sync --pull >/dev/null
[ "$(sql "SELECT group_concat(state, ',') FROM (SELECT state FROM customer ORDER BY id)")" = synced,rejected,synced ] ||
	fail "setup: customers are $(sql "SELECT group_concat(state) FROM customer")"
pr eod --date 2026-11-24 --timeout 10 >/dev/null 2>&1 || fail "setup: eod of 2026-11-24 did not post"
pr customer create --first-name Dora --email dora@example.com >/dev/null        # R01-000004, uploaded
pr sync >/dev/null
hq_stop
pr customer create --first-name Eva --email eva@example.com >/dev/null          # R01-000005, pending
expect_rc 69 pr sync
# The rejected customer's transaction has waited two hours.
sql "UPDATE txn SET waiting_since = unixepoch() - 7200 WHERE txn_id = 'S0001-R01-000002'"

check "--json: AGENT.md's shape and the numbers, with HQ down"
expect_rc 0 pr --json status
jq -e '(keys | sort) == (["store","register","customers","addresses","transactions","oldest_waiting",
	"last_upload","last_download","last_error","next_retry","rejected","open_dates","flagged_batches",
	"database"] | sort)' \
	"$T/out" >/dev/null || fail "status keys differ from AGENT.md: $(jq -c keys "$T/out")"
jq -e '.store == "S0001" and .register == "R01"
	and .customers == {"pending":1,"uploaded":1,"synced":2,"rejected":1}
	and .addresses == {"pending":0,"uploaded":0,"synced":1,"rejected":0}
	and .transactions == {"pending":1,"uploaded":3,"rejected":0}' "$T/out" >/dev/null ||
	fail "counts by state are wrong: $(jq -c '[.customers, .addresses, .transactions]' "$T/out")"
jq -e '.oldest_waiting.kind == "transaction" and .oldest_waiting.id == "S0001-R01-000002"
	and .oldest_waiting.age_seconds >= 7200 and .oldest_waiting.age_seconds < 7300
	and .oldest_waiting.customer_state == "rejected"' "$T/out" >/dev/null ||
	fail "oldest waiting is wrong: $(jq -c .oldest_waiting "$T/out")"
for k in last_upload last_download; do
	[[ $(jget ".$k") =~ $RFC ]] || fail "$k is not an RFC 3339 time: $(jget ".$k")"
done
[[ $(jget .last_error.time) =~ $RFC ]] || fail "last_error.time is not a time"
jget .last_error.message | grep -qi "connect" || fail "last_error.message does not say HQ could not be reached"
[[ $(jget .next_retry) =~ $RFC ]] || fail "next_retry is not a time after a failure"
jq -e --arg bad "$BAD" '.rejected == [{"kind":"customer","id":$bad,"code":"invalid_email","local_number":"R01-000002"}]' \
	"$T/out" >/dev/null || fail "rejected is wrong: $(jq -c .rejected "$T/out")"
jq -e '[.open_dates[] | {business_date, transactions, unsynced_customers}]
	== [{"business_date":"2026-11-25","transactions":3,"unsynced_customers":1}]' "$T/out" >/dev/null ||
	fail "open dates are wrong (2026-11-24 is posted): $(jq -c .open_dates "$T/out")"
jq -e '.open_dates[0].transactions_not_uploaded == 1 and .open_dates[0].statement == null
	and .flagged_batches == []' "$T/out" >/dev/null || fail "open date details are wrong"

check "text: one line per fact, records by id only"
expect_rc 0 pr status
grep -Eq '^customers +pending 1  uploaded 1  synced 2  rejected 1$' "$T/out" || fail "customers line"
grep -Eq '^addresses +pending 0  uploaded 0  synced 1  rejected 0$' "$T/out" || fail "addresses line"
grep -Eq '^transactions +pending 1  uploaded 3  rejected 0$' "$T/out" || fail "transactions line"
grep -Eq '^oldest waiting +transaction S0001-R01-000002 \(customer R01-000002\), pending for 2 h 0[0-9] min: waiting for its customer, whom HQ rejected' "$T/out" ||
	fail "oldest waiting line"
grep -Eq '^last upload +20[0-9-]+T[0-9:]+Z \([0-9]+ s ago\)$' "$T/out" || fail "last upload line"
grep -Eq '^last HQ error +20.*cannot connect' "$T/out" || fail "last HQ error line"
grep -Eq '^next retry +20[0-9-]+T[0-9:]+Z \((in [0-9]+|[0-9]+ s ago)' "$T/out" || fail "next retry line"
grep -Eq "^  customer R01-000002 \(async id $BAD\): invalid_email" "$T/out" || fail "rejected line"
grep -Eq '^  2026-11-25  3 transactions \(1 not uploaded\), 1 customer not synced$' "$T/out" || fail "open date line"
grep -q 2026-11-24 "$T/out" && fail "the posted date is listed as open"
[ ! -s "$T/err" ] || fail "status wrote to stderr"

check "never needs HQ: a broken [hq] section changes nothing"
sed -i -e 's|^url = .*|url = http://not-https.example|' -e 's|^token_file = .*|token_file = /nonexistent/token|' "$CONF"
expect_rc 0 pr --json status
[ "$(jget .customers.pending)" = 1 ] || fail "status with a broken [hq]"

check "no database: 74, and nothing is created"
sed -i "s|^database = .*|database = $T/none.db|" "$CONF"
expect_rc 74 pr status
expect_err 'posagent init'
[ ! -e "$T/none.db" ] || fail "status created a database"
expect_rc 74 pr --json status
expect_json_err database_missing
echo ok
