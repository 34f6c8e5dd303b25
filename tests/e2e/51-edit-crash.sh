#!/bin/bash
# Updates are applied at HQ exactly once (issue 12), whatever happens to
# the register. HQ stores a batch of updates and drops its reply; HQ then
# answers 503, and the service uploading it is killed with SIGKILL while
# it retries. A new edit made meanwhile never changes the update inside
# the frozen batch: it becomes a second update. After a clean sync, HQ
# holds each update once (its version went up by exactly two) and the
# last value of each field; the register keeps nothing of them.
# Then 20 more kills at random moments while 20 edits travel, with
# drop-after-commit faults mixed in: still each update once, last values.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
hq_start
hqsql() { sqlite3 -batch -cmd '.timeout 10000' "$H/hq.db" "$@"; }
BATCHES=/v1/stores/S0001/registers/R01/batches

pr init >/dev/null
pr customer create --first-name Ana --email ana@example.com >/dev/null
expect_rc 0 pr sync
V0=$(hqsql "SELECT version FROM customers WHERE account = 'C000001'")

check "HQ commits the update and drops its reply, then answers 503; the service is killed while it retries"
expect_rc 0 pr customer edit R01-000001 --email ana1@example.com
hq_admin fault "{\"path\":\"$BATCHES\",\"kind\":\"drop_after_commit\",\"count\":1}" >/dev/null
hq_admin fault "{\"path\":\"$BATCHES\",\"kind\":\"status\",\"status\":503,\"count\":1000}" >/dev/null
"$POSAGENT_BIN" -c "$CONF" run 2>>"$T/run.log" &
pid=$!
for _ in $(seq 1 200); do
	[ "$(hqsql "SELECT count(*) FROM updates")" = 1 ] && break
	sleep 0.05
done
[ "$(hqsql "SELECT count(*) FROM updates")" = 1 ] || fail "HQ never stored the update"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
[ "$(sql "SELECT count(*) FROM record_update WHERE batch_id IS NOT NULL AND state = 'pending'")" = 1 ] ||
	fail "the update is not still in its frozen batch"

check "an edit meanwhile becomes a second update; the frozen one is unchanged"
body=$(sql "SELECT body FROM batch")
expect_rc 0 pr customer edit R01-000001 --email ana2@example.com --phone "+351 911 234 567"
[ "$(sql "SELECT body FROM batch")" = "$body" ] || fail "the frozen batch changed"
[ "$(sql "SELECT count(*) FROM record_update")" = 2 ] || fail "the new edit did not become a second update"

check "HQ back to normal: a clean sync; each update once, the last values"
hq_admin reset-faults >/dev/null
expect_rc 0 pr --json sync
[ "$(jget .pending)" = 0 ] || fail "updates still waiting"
[ "$(hqsql "SELECT count(*) FROM updates")" = 2 ] || fail "HQ holds $(hqsql "SELECT count(*) FROM updates") updates, not 2"
[ "$(hqsql "SELECT version FROM customers WHERE account = 'C000001'")" = $((V0 + 2)) ] ||
	fail "HQ applied an update more than once (version)"
rec=$(hqsql "SELECT record FROM customers WHERE account = 'C000001'")
[ "$(jq -r '.email + " " + .phone' <<<"$rec")" = "ana2@example.com +351 911 234 567" ] || fail "HQ's values: $rec"
[ "$(sql "SELECT count(*) FROM record_update")" = 0 ] || fail "the register still keeps updates"

check "20 kills at random moments while 20 edits travel"
V1=$(hqsql "SELECT version FROM customers WHERE account = 'C000001'")
for k in $(seq 1 20); do
	pr customer edit R01-000001 --email "ana.k$k@example.com" >/dev/null
	if [ $((k % 3)) -eq 0 ]; then
		hq_admin fault "{\"path\":\"$BATCHES\",\"kind\":\"drop_after_commit\",\"count\":1}" >/dev/null
	fi
	"$POSAGENT_BIN" -c "$CONF" run 2>>"$T/run.log" &
	pid=$!
	sleep "0.$((RANDOM % 3))$((RANDOM % 10))"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
done
hq_admin reset-faults >/dev/null
expect_rc 0 pr --json sync
[ "$(jget .pending)" = 0 ] || fail "updates still waiting after the kills"
n=$(hqsql "SELECT count(*) FROM updates")
[ "$(hqsql "SELECT version FROM customers WHERE account = 'C000001'")" = $((V1 + n - 2)) ] ||
	fail "HQ's version does not match its $n updates: one was applied twice"
[ "$(jq -r .email <<<"$(hqsql "SELECT record FROM customers WHERE account = 'C000001'")")" = ana.k20@example.com ] ||
	fail "HQ does not hold the last email"
[ "$(pr --json customer show R01-000001 | jq -r '.email + " " + (.pending_update | tostring)')" = \
	"ana.k20@example.com false" ] || fail "the register does not show the last email as plain data"
echo "HQ holds $n updates for 22 edits (edits before an upload merge), each once"
echo ok
