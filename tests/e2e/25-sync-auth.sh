#!/bin/bash
# A token of another store: HQ answers 403; sync reports it and exits 69,
# nothing is lost, and the service does not storm HQ with retries.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
hq_start
pr init >/dev/null
pr customer create --first-name Ana >/dev/null
tok=$(sed -n 's/^token_file *= *//p' "$CONF")
sed -i "s#^token_file *=.*#token_file = $H/tokens/S0002-R01.token#" "$CONF"

check "sync with another store's token: 69, 403 named"
expect_rc 69 pr sync
grep -q "403" "$T/err" || fail "403 not reported"
[ "$(sql "SELECT state FROM customer")" = pending ] || fail "the customer changed state"

check "the service with that token: no retry storm"
before=$(hq_admin state | jq '[.requests | to_entries[] | select(.key | test(" 40[13]$")) | .value] | add // 0')
"$POSAGENT_BIN" -c "$CONF" run 2>"$T/run.log" &
pid=$!
sleep 5
kill -TERM "$pid"
wait "$pid" || true
after=$(hq_admin state | jq '[.requests | to_entries[] | select(.key | test(" 40[13]$")) | .value] | add // 0')
echo "  $((after - before)) refused requests in 5 s"
[ $((after - before)) -le 3 ] || fail "retry storm: $((after - before)) refused requests in 5 s"
grep -q "403" "$T/run.log" || fail "the service log does not report 403"
if grep -q "$(cat "$tok")" "$T/run.log" "$T/err"; then fail "a token leaked into the output"; fi

check "the right token: it syncs"
sed -i "s#^token_file *=.*#token_file = $tok#" "$CONF"
expect_rc 0 pr sync
[ "$(sql "SELECT state FROM customer")" = synced ] || fail "did not sync"
echo ok
