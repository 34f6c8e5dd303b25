#!/bin/bash
# 57-fleet-smoke: `make fleet`'s outage scenario (c), small: 10 registers,
# each a real `posagent run`, against one reference HQ with a tight capacity
# limit (--max-rate 10 --max-inflight 2: 503 with Retry-After 1 above it).
# HQ is down for 10 s while every register makes 2 customers, then comes
# back.
#
# What must hold: HQ holds each of the 20 customers exactly once; every
# register's backlog is drained (a generous bound, 120 s after HQ's return:
# a behaviour check, not a timing); and the registers obey Retry-After with
# jitter instead of hammering a busy HQ: at most 2 answers 503 per register
# per second of the drain (one upload and one feed poll each, at most one a
# second each). A register that retried at once would earn dozens.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
setup

command -v curl >/dev/null || skip "curl is needed by tests/fleet/run"
out=$T/fleet/out/fleet.json
check "10 registers, HQ down 10 s, then back with a capacity limit"
FLEET_DIR=$T/fleet FLEET_M=10 FLEET_ONLY=c FLEET_OUTAGE=10 FLEET_OUT_N=2 FLEET_RATE=10 FLEET_INFLIGHT=2 \
	"$TOP/tests/fleet/run" >"$T/fleet.log" 2>&1 || { tail -30 "$T/fleet.log" >&2; fail "tests/fleet/run failed"; }
[ -s "$out" ] || fail "no $out"

check "HQ holds every customer, and no more (held is counted 5 s after the last arrived)"
held=$(jq .outage.customers_at_hq "$out")
want=$(jq .outage.customers_expected "$out")
[ "$held" = "$want" ] || fail "HQ holds $held customers, expected $want"
[ "$want" = 20 ] || fail "expected 20 customers in all, the scenario made $want"

check "every register drained, within 120 s of HQ's return"
drained=$(wc -l <"$T/fleet/out/c.drain")
[ "$drained" = 10 ] || fail "$drained of 10 registers had a batch accepted after HQ's return"
secs=$(jq .outage.seconds_until_all_drained "$out")
awk -v s="$secs" 'BEGIN{exit !(s <= 120)}' || fail "the backlogs took $secs s to drain"

check "a busy HQ is not hammered: at most 2 answers 503 per register per second of the drain"
s503=$(jq .outage.s503_sent "$out")
awk -v n="$s503" -v s="$secs" 'BEGIN{d = s < 1 ? 1 : s; exit !(n / 10 / d <= 2)}' ||
	fail "$s503 answers 503 to 10 registers in $secs s"
echo "  drained in $secs s; $s503 answers 503 in all"
