#!/bin/bash
# Every fault kind of the reference HQ on the upload: 500, 503 with
# Retry-After in seconds, 429 with an HTTP-date, a garbage body, a reset
# connection, 413, and a delay beyond the request timeout. After each, the
# agent recovers with nothing lost, and the number of requests HQ saw shows
# backoff (or HQ's Retry-After), not a hot loop.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
hq_start
conf_set "$CONF" hq request_timeout 2
BATCHES=/v1/stores/S0001/registers/R01/batches
pr init >/dev/null
n=0

# requests HQ saw to the batches endpoint with a given status ("" = all)
seen() {
	hq_admin state | jq --arg p "POST $BATCHES $1" '[.requests | to_entries[] | select(.key | startswith($p)) | .value] | add // 0'
}

# makes k new customers
more() {
	for _ in $(seq 1 "$1"); do
		n=$((n + 1))
		pr customer create --first-name "F$n" >/dev/null
	done
}

# one fault, then sync: exit 0 and every customer synced
run_fault() {
	local name=$1 fault=$2 before after
	check "$name"
	more 3
	hq_admin reset-stats >/dev/null 2>&1 || true
	before=$(seen "")
	hq_admin fault "$fault" >/dev/null
	start=$(date +%s.%N)
	expect_rc 0 pr sync
	elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{print e-s}')
	after=$(seen "")
	[ "$(sql "SELECT count(*) FROM customer WHERE state<>'synced'")" = 0 ] || fail "$name: customers left unsynced"
	echo "  $name: $((after - before)) batch requests, ${elapsed}s"
	REQS=$((after - before))
	ELAPSED=$elapsed
}

run_fault "500 twice" "{\"path\":\"$BATCHES\",\"kind\":\"status\",\"status\":500,\"count\":2}"
[ "$REQS" -eq 3 ] || fail "expected 3 requests (2 failures, 1 success), saw $REQS"

run_fault "503 with Retry-After: 2" "{\"path\":\"$BATCHES\",\"kind\":\"status\",\"status\":503,\"retry_after\":\"2\",\"count\":1}"
[ "$REQS" -eq 2 ] || fail "expected 2 requests, saw $REQS"
awk -v e="$ELAPSED" 'BEGIN{exit !(e >= 1.9)}' || fail "did not wait for Retry-After (${ELAPSED}s)"

run_fault "429 with an HTTP-date 2 s ahead" "{\"path\":\"$BATCHES\",\"kind\":\"status\",\"status\":429,\"retry_after\":\"date:+2\",\"count\":1}"
[ "$REQS" -eq 2 ] || fail "expected 2 requests, saw $REQS"
awk -v e="$ELAPSED" 'BEGIN{exit !(e >= 0.9)}' || fail "did not wait for the HTTP-date (${ELAPSED}s)"

run_fault "garbage body" "{\"path\":\"$BATCHES\",\"kind\":\"garbage\",\"count\":1}"
[ "$REQS" -eq 2 ] || fail "expected 2 requests, saw $REQS"

run_fault "connection reset" "{\"path\":\"$BATCHES\",\"kind\":\"reset\",\"count\":1}"
[ "$REQS" -eq 2 ] || fail "expected 2 requests, saw $REQS"

run_fault "delay beyond the 2 s timeout" "{\"path\":\"$BATCHES\",\"kind\":\"delay\",\"delay_ms\":2500,\"count\":1}"
[ "$REQS" -ge 2 ] && [ "$REQS" -le 3 ] || fail "expected 2-3 requests, saw $REQS"

run_fault "drop after commit" "{\"path\":\"$BATCHES\",\"kind\":\"drop_after_commit\",\"count\":1}"
[ "$REQS" -eq 2 ] || fail "expected 2 requests, saw $REQS"

check "413: the batch is split in halves under new ids"
more 10
hq_admin fault "{\"path\":\"$BATCHES\",\"kind\":\"status\",\"status\":413,\"count\":1}" >/dev/null
before=$(seen "")
expect_rc 0 pr sync
after=$(seen "")
[ $((after - before)) -eq 3 ] || fail "expected 413 then two halves (3 requests), saw $((after - before))"
[ "$(sql "SELECT count(*) FROM customer WHERE state<>'synced'")" = 0 ] || fail "413: customers left unsynced"

check "HQ failing for good: sync gives up after 3 tries with 69, nothing lost"
more 2
hq_admin fault "{\"path\":\"$BATCHES\",\"kind\":\"status\",\"status\":500,\"count\":100}" >/dev/null
before=$(seen "")
expect_rc 69 pr sync
after=$(seen "")
[ $((after - before)) -eq 3 ] || fail "expected exactly 3 tries, saw $((after - before))"
[ "$(sql "SELECT count(*) FROM customer WHERE state='pending'")" = 2 ] || fail "pending customers lost"

check "the service under a lasting 500: backoff, not a hot loop"
before=$(seen "")
"$POSAGENT_BIN" -c "$CONF" run 2>"$T/run.log" &
pid=$!
sleep 8
kill -TERM "$pid"
wait "$pid" || true
after=$(seen "")
echo "  service made $((after - before)) upload requests in 8 s of failures"
[ $((after - before)) -le 8 ] || fail "hot loop: $((after - before)) requests in 8 s"
[ $((after - before)) -ge 2 ] || fail "the service did not retry"
hq_admin reset-faults >/dev/null
expect_rc 0 pr sync
[ "$(sql "SELECT count(*) FROM customer WHERE state<>'synced'")" = 0 ] || fail "customers left unsynced at the end"
hq_admin state >"$T/state.json"
[ "$(jq '.customers | length' "$T/state.json")" = "$n" ] || fail "HQ holds $(jq '.customers | length' "$T/state.json") customers, not $n"
echo ok
