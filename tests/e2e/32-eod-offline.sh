#!/bin/bash
# 32-eod-offline: end of day while HQ is down, then back.
#
# What happens: HQ's directory is prepared but HQ is not started; the
# register has two customers and three sales. `eod --timeout 5` runs while
# HQ is down; `eod --check` and `eod --json` look at it; then `eod` runs
# with a long timeout, HQ starts while it waits.
# What must hold: `eod --timeout 5` exits 75 (never 69) after about 5 s and
# says HQ is unreachable, with the last error, naming the waiting customers
# by local number; nothing is frozen; --check is 75; --json's blocking
# reasons are hq_unreachable with the error and its result "timeout"; the
# waiting `eod` shows HQ unreachable, then posts by itself once HQ is up
# (exit 0, one statement at HQ).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
setup

. "$(dirname "$0")/eodlib.sh"


hq start --prepare-only >/dev/null
expect_rc 0 pa init
expect_rc 0 pa customer create --first-name Ana --email ana@example.com
expect_rc 0 pa customer create --organization "Loja Azul" --kind organization
sale 1 '{"local_number":"R01-000001"}' 1500 cash
sale 2 '{"local_number":"R01-000002"}' 2500 card
sale 3 null 700 cash

check "HQ down: eod --timeout 5 exits 75 after about 5 s, saying HQ is unreachable and naming who waits"
t0=$(date +%s.%N)
expect_rc 75 pa eod --timeout 5
el=$(secs_since "$t0")
echo "  eod --timeout 5 took ${el} s"
awk -v e="$el" 'BEGIN { exit !(e >= 5 && e < 9) }' || fail "eod --timeout 5 took ${el} s"
expect_msg 'timed out.*HQ unreachable: R01-000001, R01-000002 \(.+\)'
grep -q 'HQ unreachable' <(grep -v '^posagent: ' "$T/err") || fail "the progress lines do not say HQ is unreachable"
[ "$(sql "SELECT count(*) FROM statement")" = 0 ] || fail "a statement was frozen while HQ was down"
[ "$(sql "SELECT count(*) FROM customer WHERE state = 'pending'")" = 2 ] || fail "customers left pending"

check "--check (local only) is 75 and says why; --json gives reason hq_unreachable with the error"
expect_rc 75 pa eod --check
expect_msg 'not ready.*HQ unreachable.*R01-000001'
expect_rc 75 pa --json eod --timeout 1
jq -e '.result == "timeout" and .business_date == "2026-11-25" and .referenced_customers == 2 and .synced == 0
	and .posting_id == null and ([.blocking[] | .reason] == ["hq_unreachable", "hq_unreachable"])
	and ([.blocking[] | .local_number] == ["R01-000001", "R01-000002"])
	and (.blocking[0].last_error | length > 0) and .error.code == "hq_unreachable"' "$T/out" >/dev/null ||
	fail "eod --json while HQ is down: $(cat "$T/out")"

check "eod waits patiently while HQ is down and posts by itself once HQ is up"
pa_bg "$T/eod.out" "$T/eod.err" eod --timeout 60
wait_for "$T/eod.err" 'HQ unreachable' 10
kill -0 $pid 2>/dev/null || fail "eod did not keep waiting while HQ was down"
hq start --assign immediate >/dev/null
t0=$(date +%s.%N)
rc=0
wait $pid || rc=$?
[ $rc -eq 0 ] || { cat "$T/eod.err" >&2; fail "eod exited $rc once HQ was up"; }
echo "  posted $(secs_since "$t0") s after HQ came up"
grep -q 'posting P' "$T/eod.out" || fail "no posting id printed: $(cat "$T/eod.out")"
[ "$(hq admin state | jq '.statements | length')" = 1 ] || fail "HQ does not hold one statement"
[ "$(sql "SELECT state FROM statement")" = posted ] || fail "the local statement is not posted"
echo "ok"
