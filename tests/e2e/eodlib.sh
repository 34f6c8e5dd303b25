# tests/e2e/eodlib.sh: what the end-of-day scripts (3x) share. Source
# after lib.sh and setup. The reference HQ lives in $H (start it with
# `hq start [ARGS]`, stopped on exit, its log tail shown when the script
# fails); `pa` runs the agent of S0001/R01 on $DB; `pa_bg OUT ERR ARGS`
# runs it in the background with its own pid in $pid; `sale` records a
# transaction; `wait_for`, `secs_since` and `expect_msg` help with eod's
# progress output. D is the default business date.
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
