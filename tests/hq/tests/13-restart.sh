#!/bin/bash
# A second start on the same DIR restarts HQ with its data kept: records,
# accounts, changes and cursors, stored replies (replayed after the
# restart), postings, revocations, tokens and port. When the recorded port
# is taken HQ takes another and the configs follow it. --prepare-only
# makes an HQ that is down until `start DIR` starts it on the port it
# recorded.
. "$(dirname "$0")/lib.bash"
hq_start
P=$(batches S0001-R01) F=/v1/stores/S0001/changes
c=$(uuid) key=$(uuid) body=$(batch "$(customer "$c")" "$(txn S0001-R01-000001 "$c")")
post "$P" S0001-R01 "$body" "$key"
first=$BODY
get "$F" S0001-R01
cur=$(jb .next) feed=$(jq -c .changes <<<"$BODY")
sid=$(uuid)
post "$(statements S0001-R01)" S0001-R01 "$(statement "$sid" 2026-11-25 '["S0001-R01-000001"]' 1 2598 '{"cash":2598}')"
expect_status 201 posted
admin revoke '{"store":"S0001","register":"R02"}' >/dev/null
port=$PORT pid=$(cat "$DIR/hq.pid") tok=$(tok S0001-R01) ca=$(sha256sum <"$DIR/ca.pem")

hq_start
[ "$(cat "$DIR/hq.pid")" != "$pid" ] || fail "not restarted"
[ -s "/proc/$pid/cmdline" ] && fail "the old HQ still runs" # (a zombie has none)
eq "$PORT" "$port" "port kept"
eq "$(tok S0001-R01)" "$tok" "token kept"
eq "$(sha256sum <"$DIR/ca.pem")" "$ca" "CA kept"
post "$P" S0001-R01 "$body" "$key"
expect_status 200 "replay after restart"
eq "$BODY" "$first" "stored reply after restart"
eq "$(header Idempotent-Replayed)" true "replayed after restart"
post "$P" S0001-R01 "$body"
eq "$(jb '[.results[].status] | join(" ")')" "duplicate duplicate" "records held after restart"
get "$F" S0001-R01
eq "$(jq -c .changes <<<"$BODY")" "$feed" "feed after restart"
get "$F?after=$cur" S0001-R01
eq "$(jb '.changes | length')" 0 "cursor after restart"
post "$(statements S0001-R01)" S0001-R01 "$(statement "$sid" 2026-11-25 '["S0001-R01-000001"]' 1 2598 '{"cash":2598}')"
eq "$(jb .posting_id)" P000001 "posting after restart"
get "$F" S0001-R02
expect_status 401 "revocation after restart"
c2=$(uuid)
post "$P" S0001-R01 "$(batch "$(customer "$c2")")"
eq "$(state "[.customers[] | select(.async_id == \"$c2\")][0].account")" C000002 "numbers go on"
ok "restart keeps records, accounts, feed, cursors, replies, postings, revocations, port"

# The recorded port is taken (by another HQ): this one moves, configs follow.
hq_stop
mkdir "$DIR/other"
"$HQD/start" "$DIR/other" --prepare-only
echo "$port" >"$DIR/other/port"
"$HQD/start" "$DIR/other"
trap '"$HQD/stop" "$DIR/other"; cleanup' EXIT
hq_start
[ "$PORT" != "$port" ] || fail "port $port taken, yet HQ reports it"
grep -q "^url = https://localhost:$PORT\$" "$DIR/S0001-R01.conf" || fail "configs not rewritten: $(grep url "$DIR/S0001-R01.conf")"
get /v1/health ""
expect_status 200 "health on the new port"
"$HQD/stop" "$DIR/other"
ok "a taken port: HQ moves from $port to $PORT and rewrites the configs"

# --prepare-only: down at first, started later on the recorded port.
P2=$DIR/prep
"$HQD/start" "$P2" --prepare-only
[ ! -f "$P2/hq.pid" ] || fail "--prepare-only started HQ"
pport=$(cat "$P2/port")
grep -q "^url = https://localhost:$pport\$" "$P2/S0002-R01.conf" || fail "prepared config"
curl -s --cacert "$P2/ca.pem" "https://localhost:$pport/v1/health" >/dev/null && fail "prepared HQ answers"
"$HQD/start" "$P2"
trap '"$HQD/stop" "$P2"; cleanup' EXIT
eq "$(cat "$P2/port")" "$pport" "started on the prepared port"
curl -sf --cacert "$P2/ca.pem" "https://localhost:$pport/v1/health" >/dev/null || fail "started HQ does not answer"
"$HQD/stop" "$P2"
[ ! -f "$P2/hq.pid" ] || fail "stop left hq.pid"
ok "--prepare-only, then start on the same port"
