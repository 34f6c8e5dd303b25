#!/bin/bash
# The service is woken by events, not by polling (issue 14). With
# idle_interval at an hour, so that its periodic pass never comes during the
# test: a customer created by the CLI reaches HQ at once (the command's
# commit wakes it through the socket DATABASE-wake, mode 0660, the
# database's group); a stopped service (SIGSTOP), a dead one and a stale
# socket never block or fail a create; and when HQ comes back after a
# failure, the downloader wakes the uploader out of a 120 s Retry-After,
# also with a 60 s long poll (its probe after a failure asks with wait 0).
# Bounds are generous (30 s against an hour, 60 s against 120 s): they only
# tell "woken" from "waited for the timer".
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
hq_start
BATCHES=/v1/stores/S0001/registers/R01/batches
conf_set "$CONF" sync idle_interval 3600
conf_set "$CONF" sync retry_max 300
conf_set "$CONF" sync long_poll 2
pr init >/dev/null
SOCK=$DB-wake
pid=
# on any exit, the service too (hq_start sets its own trap: call after it)
own_trap() {
	trap '[ -n "$pid" ] && kill -CONT "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null; hq_stop_quiet; chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT
}
own_trap

# at_hq ASYNC_ID: HQ holds that customer
at_hq() {
	hq_admin state | jq -e --arg a "$1" 'any(.customers[]; .async_id == $a)' >/dev/null
}

# wait_for SECONDS WHAT CMD...: polls CMD every 50 ms until it succeeds
wait_for() {
	local bound=$1 what=$2 t0
	shift 2
	t0=$(date +%s)
	until "$@"; do
		[ $(($(date +%s) - t0)) -lt "$bound" ] || fail "$what: not within $bound s"
		sleep 0.05
	done
}

start_service() {
	"$POSAGENT_BIN" -c "$CONF" run 2>>"$T/run.log" &
	pid=$!
	wait_for 10 "the wake-up socket" test -S "$SOCK"
}

check "the service binds DATABASE-wake, mode 0660, the database's group"
start_service
[ "$(stat -c %a "$SOCK")" = 660 ] || fail "socket mode $(stat -c %a "$SOCK"), want 660"
[ "$(stat -c %g "$SOCK")" = "$(stat -c %g "$DB")" ] || fail "socket group differs from the database's"

check "customers created by the CLI reach HQ without the periodic pass (idle_interval 3600)"
for i in 1 2 3; do
	aid=$(pr --json customer create --first-name "Wake$i" | jq -r .async_id)
	wait_for 30 "customer $i at HQ" at_hq "$aid"
done
grep -q "no wake-up socket" "$T/run.log" && fail "the service fell back to polling"

check "a stopped service (SIGSTOP) never blocks a create; it catches up when it runs again"
kill -STOP "$pid"
for i in $(seq 1 30); do
	expect_rc 0 timeout 10 "$POSAGENT_BIN" -c "$CONF" customer create --first-name "Stopped$i"
done
last=$(sql "SELECT async_id FROM customer WHERE first_name='Stopped30'")
kill -CONT "$pid"
wait_for 30 "the 30 customers made while stopped at HQ" at_hq "$last"

check "a killed service leaves a stale socket: creates still succeed, a new service replaces it"
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
[ -S "$SOCK" ] || fail "expected the stale socket to stay after SIGKILL"
expect_rc 0 timeout 10 "$POSAGENT_BIN" -c "$CONF" customer create --first-name Stale
start_service
grep -q "another service was listening" "$T/run.log" && fail "a stale socket was taken for a live service"
aid=$(pr --json customer create --first-name AfterRestart | jq -r .async_id)
wait_for 30 "the customer made after the restart at HQ" at_hq "$aid"

check "HQ back after a failure: the downloader wakes the uploader out of a 120 s Retry-After"
hq_admin fault "{\"path\":\"$BATCHES\",\"method\":\"POST\",\"kind\":\"status\",\"status\":503,\"retry_after\":\"120\",\"count\":1}" >/dev/null
aid=$(pr --json customer create --first-name Backoff | jq -r .async_id)
t0=$(date +%s)
wait_for 30 "the upload's 120 s wait (plus its jitter)" grep -Eq "upload: retrying in (1[2-9][0-9]|2[0-3][0-9]|240)\." "$T/run.log"
hq_stop
wait_for 30 "the downloader's failure" grep -q "download: retrying in" "$T/run.log"
hq_start
own_trap
wait_for 60 "the customer at HQ after HQ came back" at_hq "$aid"
[ $(($(date +%s) - t0)) -lt 100 ] || fail "the upload waited for its Retry-After"
grep -q "upload: HQ answers again: retrying now" "$T/run.log" || fail "no wake from the downloader logged"

check "HQ back, with a 60 s long poll: the downloader's probe asks without waiting, so the wake comes at once"
# (a probe that long-polled would tell of HQ's return only when its poll
# ended: 60 s later, and the upload would sleep out its 120 s meanwhile)
kill -TERM "$pid"
wait "$pid" || fail "the service exited non-zero on SIGTERM"
conf_set "$CONF" sync long_poll 60
start_service
hq_admin fault "{\"path\":\"$BATCHES\",\"method\":\"POST\",\"kind\":\"status\",\"status\":503,\"retry_after\":\"120\",\"count\":1}" >/dev/null
aid=$(pr --json customer create --first-name Probe | jq -r .async_id)
wait_for 30 "the upload's 120 s wait" grep -Eq "upload: retrying in (1[2-9][0-9]|2[0-3][0-9]|240)\." "$T/run.log"
fails=$(grep -c "download: retrying in" "$T/run.log" || true)
hq_stop
wait_for 30 "the downloader's failure" test "$(grep -c "download: retrying in" "$T/run.log")" -gt "$fails"
hq_start
own_trap
wait_for 40 "the customer at HQ (the probe's wait is at most 10 s; a long poll would take 60)" at_hq "$aid"

check "SIGTERM removes the socket"
kill -TERM "$pid"
wait "$pid" || fail "the service exited non-zero on SIGTERM"
[ ! -e "$SOCK" ] || fail "the socket is left after a clean stop"
expect_rc 0 pr customer create --first-name NoService
echo ok
