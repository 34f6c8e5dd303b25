#!/bin/bash
# A 413 for a batch of one record (far below HQ's 4 MiB limit, so halving
# cannot explain it) is transient: the agent keeps the batch, flags it in
# status and doctor, retries with backoff, and never rejects the record.
# Before the fix the sale turned `rejected payload_too_large`, sync exited
# 0 and eod was blocked for good.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
setup
. "$(dirname "$0")/eodlib.sh"
hq start >/dev/null
BATCHES=/v1/stores/S0001/registers/R01/batches
expect_rc 0 pa init
sale 1 null 1250

check "one 413, then HQ takes it: sync exits 0 and the sale is uploaded, not rejected"
"$TOP/tests/hq/admin" "$H" fault "{\"path\":\"$BATCHES\",\"kind\":\"status\",\"status\":413,\"count\":1}" >/dev/null
expect_rc 0 pa sync
[ "$(sql "SELECT state FROM txn WHERE txn_id='S0001-R01-000001'")" = uploaded ] ||
	fail "the sale is $(sql "SELECT state || ' ' || ifnull(last_code,'') FROM txn")"
[ "$("$TOP/tests/hq/admin" "$H" state | jq .transactions)" = 1 ] || fail "HQ does not hold the sale once"

check "413 for every try: sync gives up with 69, the sale stays pending and the batch is flagged"
sale 2 null 990
"$TOP/tests/hq/admin" "$H" fault "{\"path\":\"$BATCHES\",\"kind\":\"status\",\"status\":413,\"count\":100}" >/dev/null
expect_rc 69 pa sync
[ "$(sql "SELECT state FROM txn WHERE txn_id='S0001-R01-000002'")" = pending ] ||
	fail "the sale is $(sql "SELECT state || ' ' || ifnull(last_code,'') FROM txn WHERE txn_id='S0001-R01-000002'")"
expect_rc 0 pa --json status
jget '.flagged_batches | length' | grep -qx 1 || fail "status does not flag the batch"
jget '.flagged_batches[0].reason' | grep -q 413 || fail "the flag does not say 413"
jget '.rejected | length' | grep -qx 0 || fail "status lists a rejected record"
expect_rc 0 pa status
grep -q "413" "$T/out" || fail "status text does not mention the 413"
expect_rc 1 pa --json doctor
jq -e '.checks[] | select(.name == "batches") | .result == "FAIL" and (.detail | test("413"))' "$T/out" >/dev/null ||
	fail "doctor does not FAIL batches naming the 413"

check "HQ takes it again: the same batch goes up, the flag is gone, eod closes the day"
"$TOP/tests/hq/admin" "$H" reset-faults >/dev/null
expect_rc 0 pa sync
[ "$(sql "SELECT count(*) FROM txn WHERE state <> 'uploaded'")" = 0 ] || fail "sales left behind"
[ "$(sql "SELECT count(*) FROM batch")" = 0 ] || fail "a batch is left"
[ "$("$TOP/tests/hq/admin" "$H" state | jq .transactions)" = 2 ] || fail "HQ does not hold both sales once"
expect_rc 0 pa eod --date "$D"
echo ok
