#!/bin/bash
# tests/hq/start and stop: what start leaves in DIR (CA, wrong CA, server
# certificate, tokens 0600 in a 0700 folder, the agent configs with
# exactly AGENT.md's keys and a database inside DIR), that it returns only
# once HQ answers, that a second start restarts HQ, and that start fails
# loudly, with the log, when HQ cannot run.
. "$(dirname "$0")/lib.bash"
hq_start
get /v1/health ""
expect_status 200 "HQ answers as soon as start returns"

for f in ca.pem wrong-ca.pem server.pem server-key.pem admin.secret hq.pid port hq.log \
	tokens/S0001-R01.token tokens/S0001-R02.token tokens/S0002-R01.token \
	S0001-R01.conf S0001-R02.conf S0002-R01.conf; do
	[ -s "$DIR/$f" ] || fail "start did not make $f"
done
eq "$(stat -c %a "$DIR/tokens")" 700 "tokens folder mode"
for t in "$DIR"/tokens/*.token "$DIR/admin.secret" "$DIR/server-key.pem" "$DIR/ca-key.pem"; do
	eq "$(stat -c %a "$t")" 600 "mode of $(basename "$t")"
done
eq "$(for t in "$DIR"/tokens/*.token; do cat "$t"; echo; done | sort -u | wc -l)" 3 "three distinct tokens"
[ "$(wc -c <"$DIR/tokens/S0001-R01.token")" -ge 32 ] || fail "short token"
ok "CA, certificates, tokens (0600 in 0700), secret"

for reg in S0001-R01 S0001-R02 S0002-R01; do
	conf=$DIR/$reg.conf
	cat >"$DIR/expected" <<EOT
[agent]
store = ${reg%-*}
register = ${reg#*-}
database = $DIR/$reg.db
currency = EUR

[hq]
url = https://localhost:$PORT
ca_file = $DIR/ca.pem
token_file = $DIR/tokens/$reg.token

[sync]
long_poll = 5
EOT
	diff -u "$DIR/expected" "$conf" || fail "$reg.conf"
done
ok "agent configs: AGENT.md keys, own database inside DIR, this HQ's port"

pid=$(cat "$DIR/hq.pid")
hq_start
[ "$(cat "$DIR/hq.pid")" != "$pid" ] || fail "second start did not restart"
[ -s "/proc/$pid/cmdline" ] && fail "old HQ still running"
hq_stop
[ ! -f "$DIR/hq.pid" ] || fail "stop left hq.pid"
[ -s "/proc/$pid/cmdline" ] && fail "stop left HQ running"
curl -s --max-time 2 --cacert "$DIR/ca.pem" "$BASE/v1/health" >/dev/null && fail "HQ answers after stop"
hq_stop
ok "a second start restarts; stop stops (twice is fine)"

set +e
out=$(HQ_BIN=/bin/false "$HQD/start" "$DIR" 2>&1)
rc=$?
set -e
[ $rc -ne 0 ] || fail "start succeeded with a broken binary"
echo "$out" | grep -q "hq.log" || fail "start failed without pointing at the log: $out"
mv "$DIR/server.pem" "$DIR/server.pem.saved"
echo garbage >"$DIR/server.pem"
printf 'assign=immediate\ncert=valid\nclock_offset=0\n' >"$DIR/hq.opts"
set +e
out=$("$HQD/start" "$DIR" 2>&1)
rc=$?
set -e
[ $rc -ne 0 ] || fail "start succeeded with a broken certificate"
echo "$out" | grep -qi "certificate" || fail "the log tail does not say why: $out"
mv "$DIR/server.pem.saved" "$DIR/server.pem"
hq_start
ok "start fails loudly, with the log tail, when HQ cannot run"
