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

# ---- the reference HQ (same helpers in every 3x-eod script) -------------
H=$T/hq
hq() { "$TOP/tests/hq/$1" "$H" "${@:2}"; }
trap 'rc=$?; "$TOP/tests/hq/stop" "$H" >/dev/null 2>&1 || true
	[ $rc -eq 0 ] || { [ -f "$H/hq.log" ] && tail -15 "$H/hq.log" | sed "s/^/  hq.log| /" >&2; }
	chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT
pa() { "$POSAGENT_BIN" -c "$H/S0001-R01.conf" "$@"; }
# pa_bg OUT ERR ARGS...: the agent in the background (its own pid in $pid).
pa_bg() {
	local out=$1 err=$2
	shift 2
	"$POSAGENT_BIN" -c "$H/S0001-R01.conf" "$@" >"$out" 2>"$err" &
	pid=$!
}
DB=$H/S0001-R01.db
D=2026-11-25
# sale N CUSTOMER_JSON TOTAL [TENDER] [DATE] [KIND]: records S0001-R01-N
# (a return when TOTAL is negative).
sale() {
	local n=$1 cust=$2 total=$3 tender=${4:-cash} date=${5:-$D} kind=${6:-cash_and_carry} qty=1 price
	price=$total
	if [ "$total" -lt 0 ]; then qty=-1 price=$((-total)); fi
	printf '{"txn_id":"S0001-R01-%06d","kind":"%s","business_date":"%s","currency":"EUR","customer":%s,"lines":[{"sku":"SKU-1","qty":%d,"unit_price_minor":%d}],"tenders":[{"type":"%s","amount_minor":%d}],"total_minor":%d}' \
		"$n" "$kind" "$date" "$cust" "$qty" "$price" "$tender" "$total" "$total" >"$T/txn.json"
	expect_rc 0 pa txn record --from-json "$T/txn.json"
}
# wait_for FILE ERE SECONDS: until FILE holds a line matching ERE.
wait_for() {
	local i=0
	until grep -Eq -- "$2" "$1" 2>/dev/null; do
		sleep 0.05
		i=$((i + 1))
		[ $i -lt $(($3 * 20)) ] || { cat "$1" >&2; fail "no line /$2/ in $1 after $3 s"; }
	done
}
secs_since() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.3f", e - s }'; }
# expect_msg ERE: after eod's progress lines, stderr ends with its one
# "posagent: " line, matching ERE (grep -Ei).
expect_msg() {
	[ "$(grep -c '^posagent: ' "$T/err" || true)" -eq 1 ] || fail "expected one 'posagent: ' line on stderr"
	tail -n 1 "$T/err" | grep -q '^posagent: ' || fail "stderr does not end with the 'posagent: ' line"
	tail -n 1 "$T/err" | grep -Eiq -- "$1" || fail "stderr message does not match /$1/"
}


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
