#!/bin/bash
# Injected faults (admin "fault"), each for the next `count` requests whose
# path starts with `path` (and of `method`, when given): status with or
# without Retry-After (seconds, or an HTTP-date measured from HQ's own
# Date), delay, reset (no reply, not handled), garbage (200 with a body
# that is not JSON, not handled), drop_after_commit (handled and stored,
# then no reply: the same key then replays). reset-faults empties the queue.
. "$(dirname "$0")/lib.bash"
hq_start
P=$(batches S0001-R01)
fault() { admin fault "$1" >/dev/null; }

fault "{\"path\":\"$P\",\"kind\":\"status\",\"status\":503,\"retry_after\":\"2\",\"count\":2}"
body=$(batch "$(customer "$(uuid)")") key=$(uuid)
for i in 1 2; do
	post "$P" S0001-R01 "$body" "$key"
	expect_status 503 "status fault $i"
	eq "$(header Retry-After)" 2 "Retry-After seconds"
done
eq "$(state .records_received)" 0 "a status fault is not handled"
post "$P" S0001-R01 "$body" "$key"
expect_status 200 "after the fault's count"
[ -z "$(header Idempotent-Replayed)" ] || fail "handled for the first time, yet replayed"
eq "$(state '.requests["POST '"$P"' 503"]')" 2 "503s counted"
ok "status 503 with Retry-After: 2, twice, then handled"

admin clock '{"offset":-7200}' >/dev/null
fault '{"path":"/v1/health","kind":"status","status":429,"retry_after":"date:+30"}'
get /v1/health ""
expect_status 429 "429 fault"
d=$(date -u -d "$(header Date)" +%s) ra=$(date -u -d "$(header Retry-After)" +%s)
eq "$((ra - d))" 30 "Retry-After HTTP-date - Date"
[ $((d - $(date +%s))) -lt -7000 ] || fail "Date not shifted"
admin clock '{"offset":0}' >/dev/null
fault '{"path":"/v1/health","kind":"status","status":500,"body":"{\"oops\":1}"}'
get /v1/health ""
expect_status 500 "500 fault"
eq "$BODY" '{"oops":1}' "fault body"
[ -z "$(header Retry-After)" ] || fail "Retry-After without retry_after"
ok "Retry-After as an HTTP-date against HQ's shifted Date; a status with a body and no Retry-After"

fault '{"path":"/v1/stores/S0001","method":"GET","kind":"status","status":502}'
post "$P" S0001-R01 "$(batch "$(customer "$(uuid)")")"
expect_status 200 "POST not matched by a GET fault"
get /v1/stores/S0001/changes S0001-R01
expect_status 502 "GET matched"
ok "faults match by path prefix and method"

fault '{"path":"/v1/health","kind":"delay","delay_ms":1000}'
t0=$(now)
get /v1/health ""
e=$(elapsed "$t0")
expect_status 200 "delayed"
awk -v e="$e" 'BEGIN{exit !(e >= 0.95)}' || fail "delay of 1000 ms took $e s"
ok "delay ($e s), then handled"

n=$(state .records_received)
fault "{\"path\":\"$P\",\"kind\":\"reset\"}"
post "$P" S0001-R01 "$(batch "$(customer "$(uuid)")")" 2>"$DIR/curl.err"
[ $CURL_RC -ne 0 ] || fail "reset: curl succeeded with $STATUS"
grep -qiE 'reset|empty reply|closed|recv failure|SSL_read|unexpected eof' "$DIR/curl.err" || fail "reset: $(cat "$DIR/curl.err")"
eq "$(state .records_received)" "$n" "a reset request is not handled"
eq "$(state '.requests["POST '"$P"' reset"]')" 1 "reset counted"
ok "reset: no reply ($(head -c 80 "$DIR/curl.err")), not handled"

fault "{\"path\":\"$P\",\"kind\":\"garbage\"}"
post "$P" S0001-R01 "$(batch "$(customer "$(uuid)")")"
expect_status 200 garbage
! jq . <<<"$BODY" >/dev/null 2>&1 || fail "garbage body is JSON"
eq "$(state .records_received)" "$n" "a garbage reply is not handled"
ok "garbage: 200 with a body that is not JSON, not handled"

c=$(uuid) key=$(uuid) body=$(batch "$(customer "$c")")
fault "{\"path\":\"$P\",\"kind\":\"drop_after_commit\"}"
post "$P" S0001-R01 "$body" "$key" 2>"$DIR/curl.err"
[ $CURL_RC -ne 0 ] || fail "drop_after_commit: curl got $STATUS"
eq "$(state "[.customers[] | select(.async_id == \"$c\")] | length")" 1 "stored despite the drop"
eq "$(state '.requests["POST '"$P"' dropped"]')" 1 "dropped counted"
post "$P" S0001-R01 "$body" "$key"
expect_status 200 "retry after the drop"
eq "$(header Idempotent-Replayed)" true "the retry replays the stored reply"
eq "$(jb '.results[0].status')" accepted "the stored reply"
post "$P" S0001-R01 "$(batch "$(customer "$c")")"
eq "$(jb '.results[0].status')" duplicate "resent under a new key: duplicate"
ok "drop_after_commit: stored, no reply ($(head -c 60 "$DIR/curl.err")), the same key replays"

fault "{\"path\":\"/v1/\",\"kind\":\"status\",\"status\":503,\"count\":100}"
get /_admin/state ""
eq "$(admin faults | jq -r '.faults[0].count')" 100 "queued"
admin state >/dev/null
eq "$(admin reset-faults | jq -r .cleared)" 1 "reset-faults"
get /v1/health ""
expect_status 200 "no fault after reset-faults"
ok "admin requests are never faulted; reset-faults"

bad=0
for f in '{"kind":"status"}' '{"path":"/v1/","kind":"explode"}' '{"path":"/v1/","kind":"status","status":99}' \
	'{"path":"/v1/","kind":"status","retry_after":"soon"}' '{"path":"/v1/","kind":"delay","delay_ms":-1}'; do
	admin fault "$f" >/dev/null 2>&1 && fail "fault accepted: $f"
	bad=$((bad + 1))
done
ok "$bad malformed faults refused"
