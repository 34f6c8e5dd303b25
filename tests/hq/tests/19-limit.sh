#!/bin/bash
# The capacity limit (issue 17): with --max-rate, requests over the rate
# are answered 503 "unavailable" with Retry-After (--limit-retry-after),
# unhandled (a batch refused so is not stored); /v1/health is never
# limited; with --max-inflight, requests beyond N handled at once are
# refused the same way while a GET of changes (a long poll) is not
# counted. Without the options nothing is limited.
. "$(dirname "$0")/lib.bash"

check_burst() { # N PATH AS: fires N GETs at once; prints the statuses sorted
	local n=$1 path=$2 as=$3 i
	for i in $(seq 1 "$n"); do
		curl_as "$as" -s -o /dev/null -w '%{http_code}\n' "$BASE$path" &
	done
	wait
}

HQ_EXTRA_ARGS="--max-rate 1 --limit-retry-after 7" hq_start
chg="/v1/stores/S0001/changes?after=&limit=10&wait=0"
t0=$(now)
codes=$(check_burst 12 "$chg" S0001-R01 | sort | uniq -c)
took=$(elapsed "$t0")
grep -q ' 503$' <<<"$codes" || fail "no 503 in a burst of 12 at rate 1: $codes"
grep -q ' 200$' <<<"$codes" || fail "no 200 in a burst of 12 at rate 1: $codes"
n200=$(awk '$2 == 200 {print $1}' <<<"$codes")
# at most the bucket (1) plus what refilled while the burst ran
max=$(awk -v t="$took" 'BEGIN{printf "%d", 1 + t + 1}')
[ "$n200" -le "$max" ] || fail "$n200 answered 200 in a burst of $took s at rate 1 (at most $max)"
ok "a burst over --max-rate: at most the bucket answered, the rest 503 ($(echo $codes))"

sleep 1.1 # the bucket refills (a rate is time)
for i in $(seq 1 5); do get /v1/health ""; expect_status 200 "health $i under the limit"; done
ok "health is never limited"

held=$(state '.customers | length')
tok S0001-R01 >/dev/null
args=()
for i in $(seq 1 8); do # one curl, 8 transfers at once: more than the bucket holds
	batch "$(customer "$(uuid)")" >"$DIR/b$i.json"
	[ $i = 1 ] || args+=(--next)
	args+=(-sS --cacert "$DIR/ca.pem" -H "Authorization: Bearer $(tok S0001-R01)" -H 'Content-Type: application/json'
		-H "Idempotency-Key: $(uuid)" --data-binary "@$DIR/b$i.json" -o "$DIR/b$i.body" -D "$DIR/b$i.headers"
		"$BASE$(batches S0001-R01)")
done
curl --parallel --parallel-immediate "${args[@]}"
n200=0 n503=0
for i in $(seq 1 8); do
	st=$(head -1 "$DIR/b$i.headers" | awk '{print $2}')
	case $st in
	200) n200=$((n200 + 1)) ;;
	503) n503=$((n503 + 1))
		eq "$(jq -r .error.code "$DIR/b$i.body")" unavailable "503 code"
		eq "$(tr -d '\r' <"$DIR/b$i.headers" | sed -n 's/^retry-after: //Ip')" 7 "Retry-After" ;;
	*) fail "batch $i: status $st" ;;
	esac
done
[ $n503 -gt 0 ] || fail "no batch of 8 at once refused at rate 1"
eq "$(state '.customers | length')" $((held + n200)) "customers held: only the batches answered 200"
ok "503 unavailable with Retry-After 7, the batch not handled"

HQ_EXTRA_ARGS="--max-inflight 1" hq_start
admin fault '{"method": "POST", "path": "'"$(batches S0001-R01)"'", "kind": "delay", "delay_ms": 8000}' >/dev/null
batch "$(customer "$(uuid)")" >"$DIR/slow.json"
second=$(batch "$(customer "$(uuid)")") # made before: the machine may be slow
curl_as S0001-R01 -o "$DIR/slow.body" -w '%{http_code}' -H 'Content-Type: application/json' \
	-H "Idempotency-Key: $(uuid)" --data-binary "@$DIR/slow.json" "$BASE$(batches S0001-R01)" >"$DIR/slow.status" &
slow=$!
for i in $(seq 1 100); do # the fault is taken when the POST is dispatched
	[ "$(admin faults | jq '.faults | length')" = 0 ] && break
	sleep 0.05
done
post "$(batches S0001-R02)" S0001-R02 "$second"
expect_error 503 unavailable "a second batch while one is handled at --max-inflight 1"
get "/v1/stores/S0001/changes?after=&limit=10&wait=0" S0001-R02
expect_status 200 "changes (not counted in flight) while one is handled"
get /v1/health ""
expect_status 200 "health while one is in flight"
wait $slow
eq "$(cat "$DIR/slow.status")" 200 "the slow batch"
get "/v1/stores/S0001/changes?after=&limit=10&wait=0" S0001-R02
expect_status 200 "after the slow one"
ok "--max-inflight 1: a request while another is handled is 503"

hq_start
codes=$(check_burst 12 "$chg" S0001-R01 | sort | uniq -c)
eq "$(echo $codes)" "12 200" "a burst without limit"
ok "no limit: every request handled"
