#!/bin/bash
# The service: with `posagent run` live and HQ assigning at once, a new
# customer is synced within seconds without anyone calling sync; SIGHUP
# re-reads the configuration; SIGTERM in the middle of a long poll stops
# it within 2 seconds; its log names no customer details and no token.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
hq_start
pr init >/dev/null
sed -i 's/^long_poll *=.*/long_poll = 25/' "$CONF"
"$POSAGENT_BIN" -c "$CONF" run 2>"$T/run.log" &
pid=$!
wait_until 30 "the service's start" grep -q "service started" "$T/run.log"

check "20 customers created while the service runs are synced by it"
lat=()
for i in $(seq 1 20); do
	aid=$(pr --json customer create --first-name "Maria$i" --email "maria$i@example.com" --phone "+351 91 000 $i$i" | jq -r .async_id)
	t0=$(date +%s%N)
	until [ "$(pr --json customer show "$aid" | jq -r .state)" = synced ]; do
		[ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 5000 ] || fail "customer $i not synced within 5 s"
		sleep 0.02
	done
	lat+=($(( ($(date +%s%N) - t0) / 1000000 )))
done
printf '%s\n' "${lat[@]}" | sort -n >"$T/lat"
echo "  create -> synced: median $(sed -n 10p "$T/lat") ms, max $(tail -1 "$T/lat") ms (20 customers)"

check "SIGHUP re-reads the configuration"
kill -HUP "$pid"
wait_until 30 "a reload logged" grep -q "configuration reloaded" "$T/run.log"
pr customer create --first-name AfterHup >/dev/null
after_hup_synced() { [ "$(sql "SELECT state FROM customer WHERE first_name='AfterHup'")" = synced ]; }
wait_until 30 "the customer made after SIGHUP synced" after_hup_synced

check "SIGTERM during the long poll stops it within 2 s"
on_long_poll() { [ "$(hq_admin state | jq .long_polls_waiting)" -ge 1 ]; }
wait_until 30 "the service waiting on its long poll" on_long_poll
t0=$(date +%s%N)
kill -TERM "$pid"
wait "$pid" || fail "the service exited non-zero on SIGTERM"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "  stopped in $ms ms"
[ "$ms" -le 2000 ] || fail "took $ms ms to stop"

check "the log has no names, emails, phones or token"
for w in Maria maria@example.com "+351 91" "$(cat "$H/tokens/S0001-R01.token")"; do
	if grep -qF -- "$w" "$T/run.log"; then fail "the log contains '$w'"; fi
done
echo ok
