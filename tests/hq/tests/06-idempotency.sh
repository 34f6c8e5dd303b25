#!/bin/bash
# Idempotency-Key: a 2xx reply is stored; the same key and body again gets
# it back (same status, same body) with Idempotent-Replayed: true; the same
# key with another body is 422 idempotency_key_reused; the same request
# while the first is still being handled is 409 request_in_progress (the
# first is held by an injected delay). Keys belong to a register.
. "$(dirname "$0")/lib.bash"
hq_start
P=$(batches S0001-R01)
key=$(uuid) c=$(uuid)
body=$(batch "$(customer "$c")" "$(txn S0001-R01-000001 "$c")")

post "$P" S0001-R01 "$body" "$key"
expect_status 200 first
first=$BODY
[ -z "$(header Idempotent-Replayed)" ] || fail "first reply marked replayed"
post "$P" S0001-R01 "$body" "$key"
expect_status 200 replay
eq "$BODY" "$first" "replayed body"
eq "$(header Idempotent-Replayed)" true "Idempotent-Replayed"
eq "$(state .records_received)" 2 "a replay is not handled again"
ok "replay: same status and body, Idempotent-Replayed: true"

post "$P" S0001-R01 "$(batch "$(customer "$c")")" "$key"
expect_error 422 idempotency_key_reused "same key, other body"
ok "422 idempotency_key_reused"

# The same body gzipped is the same request.
printf '%s' "$body" | gzip -c >"$DIR/body.gz"
STATUS=$(curl_as S0001-R01 -o "$DIR/body" -D "$DIR/headers" -w '%{http_code}' -H "Idempotency-Key: $key" \
	-H 'Content-Type: application/json' -H 'Content-Encoding: gzip' --data-binary "@$DIR/body.gz" "$BASE$P")
BODY=$(cat "$DIR/body")
expect_status 200 "gzip replay"
eq "$BODY" "$first" "gzip replay body"
eq "$(header Idempotent-Replayed)" true "gzip replay header"
ok "the same body gzipped replays"

# Keys are per register: R02 may use the same key for its own request.
post "$(batches S0001-R02)" S0001-R02 "$(batch "$(customer "$(uuid)" '.local_number = "R02-000001"')")" "$key"
expect_status 200 "same key at another register"
[ -z "$(header Idempotent-Replayed)" ] || fail "another register's key replayed"
ok "keys belong to their register"

# In flight: the first request waits 1.5 s (injected delay) holding its key.
admin fault "{\"path\":\"$P\",\"kind\":\"delay\",\"delay_ms\":1500}" >/dev/null
key2=$(uuid) body2=$(batch "$(customer "$(uuid)")")
printf '%s' "$body2" >"$DIR/body2.json"
curl_as S0001-R01 -o "$DIR/slow.out" -w '%{http_code}' -H "Idempotency-Key: $key2" \
	-H 'Content-Type: application/json' --data-binary "@$DIR/body2.json" "$BASE$P" >"$DIR/slow.status" &
slow=$!
sleep 0.5
post "$P" S0001-R01 "$body2" "$key2"
expect_error 409 request_in_progress "replay in flight"
post "$P" S0001-R01 "$body" "$key2"
expect_error 422 idempotency_key_reused "other body in flight"
wait $slow
eq "$(cat "$DIR/slow.status")" 200 "the delayed first request"
post "$P" S0001-R01 "$body2" "$key2"
expect_status 200 "replay after"
eq "$BODY" "$(cat "$DIR/slow.out")" "replay after the first finished"
eq "$(header Idempotent-Replayed)" true "replayed after the first finished"
ok "409 request_in_progress while the first is handled, then the stored reply"

# A non-2xx reply is not stored: the same key is handled afresh.
key3=$(uuid)
post "$P" S0001-R01 "{\"batch_id\":\"$(uuid)\",\"records\":[]}" "$key3"
expect_status 422 "empty batch"
post "$P" S0001-R01 "{\"batch_id\":\"$(uuid)\",\"records\":[]}" "$key3"
expect_error 422 invalid_batch "a non-2xx reply is handled afresh, even with another body"
post "$P" S0001-R01 "$(batch "$(customer "$(uuid)")")" "$key3"
expect_status 200 "after a non-2xx reply under that key"
ok "non-2xx replies are not stored"
