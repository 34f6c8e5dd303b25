#!/bin/bash
# 18-concurrency: four registers' worth of cashiers at once.
#
# What happens: 4 processes wait for the same signal file, then each runs
# 250 `customer create` one after the other, all 4 at the same moment on
# the same database.
# What must hold: all 1,000 creates exit 0 (none failed with "database is
# locked" or busy), 1,000 customers are stored, each printed async id is
# in the database with the local number it printed, the local numbers are
# R01-000001 to R01-001000 with no gap or repeat, and the database passes
# PRAGMA integrity_check.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
setup
expect_rc 0 pa init

WORKERS=4
EACH=250

worker() { # N: waits for $T/go, then creates $EACH customers
	local w=$1 i rc
	touch "$T/ready$w"
	while [ ! -e "$T/go" ]; do sleep 0.01; done
	for ((i = 1; i <= EACH; i++)); do
		rc=0
		pa customer create --first-name "Worker$w" --last-name "Number$i" --email "w$w.n$i@example.com" \
			>>"$T/w$w.out" 2>>"$T/w$w.err" || rc=$?
		[ "$rc" -eq 0 ] || echo "create $i exited $rc" >>"$T/w$w.failed"
	done
}

check "$WORKERS processes create $EACH customers each at the same moment"
pids=()
for ((w = 1; w <= WORKERS; w++)); do
	worker "$w" &
	pids+=($!)
done
all_ready() { [ "$(find "$T" -maxdepth 1 -name 'ready*' | wc -l)" -eq "$WORKERS" ]; }
wait_until 60 "every worker ready" all_ready
start=$(date +%s.%N)
touch "$T/go"
for p in "${pids[@]}"; do wait "$p"; done
echo "  took $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s"

check "every create exited 0, none was locked out"
for ((w = 1; w <= WORKERS; w++)); do
	if [ -e "$T/w$w.failed" ]; then
		head -5 "$T/w$w.failed" "$T/w$w.err" >&2
		fail "worker $w: $(wc -l <"$T/w$w.failed") creates failed"
	fi
	! grep -Eiq 'locked|busy' "$T/w$w.err" || fail "worker $w: $(grep -Eim1 'locked|busy' "$T/w$w.err")"
	[ "$(grep -c '^created R01-' "$T/w$w.out")" -eq "$EACH" ] || fail "worker $w printed fewer than $EACH creates"
done

check "1,000 customers stored, each printed id with its local number, numbers without gaps"
total=$((WORKERS * EACH))
[ "$(sql 'SELECT count(*) FROM customer')" = "$total" ] || fail "$(sql 'SELECT count(*) FROM customer') customers stored, not $total"
cat "$T"/w*.out | awk '/^created / { print $2 "|" $5 }' | sort >"$T/printed"
sql "SELECT local_number || '|' || async_id FROM customer" | sort >"$T/stored"
cmp -s "$T/printed" "$T/stored" || fail "the printed local numbers and async ids differ from the stored ones"
[ "$(sql "SELECT count(DISTINCT local_number) = $total AND min(local_number) = 'R01-000001'
	AND max(local_number) = printf('R01-%06d', $total) FROM customer")" = 1 ] || fail "local numbers have gaps or repeats"
for ((w = 1; w <= WORKERS; w++)); do
	[ "$(sql "SELECT count(*) FROM customer WHERE first_name = 'Worker$w'")" = "$EACH" ] || fail "worker $w's customers are not all stored"
done
[ "$(sql 'PRAGMA integrity_check')" = ok ] || fail "integrity_check: $(sql 'PRAGMA integrity_check' | head -3)"
expect_rc 0 pa --json customer search worker3
[ "$(jget length)" = 100 ] || fail "search does not find the new customers"

echo "ok"
