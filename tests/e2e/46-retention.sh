#!/bin/bash
# 46-retention: [retention] keep_days drops old posted days, nothing else.
#
# What happens: with keep_days = 90, two customers and sales on three
# dates: 120 days ago (posted with eod), 100 days ago (uploaded, never
# posted) and 10 days ago (posted). `status` is read, then the service
# runs until retention has done its work (it runs at start, then hourly).
# Then a copy of a database without auto_vacuum goes through `init`.
# What must hold: status (and doctor) show the database size and that retention would
# free the 3 sales of 1 posted day, with a cutoff 90 days back; the service
# drops exactly those sales and their tenders, and keeps the customers,
# the unposted day's sales and the recent day's; the old day's statement
# stays posted with its posting id (its body emptied), so the date stays
# closed to new sales; HQ receives nothing; no free page is left in the
# file (incremental vacuum); status then has nothing to free; keep_days = 0
# plans nothing; init converts a database without auto_vacuum, once, with
# its rows intact.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
setup
. "$(dirname "$0")/eodlib.sh"
hq start --assign immediate >/dev/null
printf '[retention]\nkeep_days = 90\n' >>"$H/S0001-R01.conf"
expect_rc 0 pa init
day() { date -d "$1 days ago" +%F; }
OLD=$(day 120) MID=$(day 100) NEW=$(day 10) CUT=$(day 90)

check "sales on $OLD (posted), $MID (not posted) and $NEW (posted)"
expect_rc 0 pa customer create --first-name Ana
expect_rc 0 pa customer create --first-name Rui
sale 1 '{"local_number":"R01-000001"}' 1500 cash "$OLD"
sale 2 '{"local_number":"R01-000002"}' 2500 card "$OLD"
sale 3 null 700 cash "$OLD"
sale 4 '{"local_number":"R01-000001"}' 900 cash "$MID"
sale 5 '{"local_number":"R01-000002"}' 800 card "$NEW"
expect_rc 0 pa sync
expect_rc 0 pa eod --date "$OLD" --timeout 60
expect_rc 0 pa eod --date "$NEW" --timeout 60
POSTING=$(sql "SELECT posting_id FROM statement WHERE business_date = '$OLD'")
[ -n "$POSTING" ] || fail "$OLD was not posted"
received=$(hq admin state | jq .records_received)

check "status shows the size and what retention would free"
expect_rc 0 pa --json status
jget '.database' >/dev/null
[ "$(jget '.database.bytes')" -gt 0 ] || fail "no database size"
[ "$(jget '.database.retention.keep_days')" = 90 ] || fail "keep_days is $(jget '.database.retention.keep_days')"
[ "$(jget '.database.retention.cutoff')" = "$CUT" ] || fail "cutoff $(jget '.database.retention.cutoff'), not $CUT"
[ "$(jget '.database.retention.days')" = 1 ] || fail "retention would free $(jget '.database.retention.days') days"
[ "$(jget '.database.retention.transactions')" = 3 ] || fail "retention would free $(jget '.database.retention.transactions') sales"
[ "$(jget '.database.retention.bytes')" -gt 0 ] || fail "no bytes to free"
expect_rc 0 pa status
grep -E "^database +[0-9.]+ [kM]?B .*retention keeps 90 days: would free about .* \(3 transactions of 1 posted days before $CUT\)" "$T/out" ||
	fail "status has no database line: $(grep database "$T/out")"
rc=0
pa doctor >"$T/out" 2>&1 || rc=$?
grep -E "^PASS  database .*passes quick_check; .* retention keeps 90 days: would free about" "$T/out" ||
	fail "doctor does not show the size and what retention would free: $(grep database "$T/out")"

check "the service drops the 3 old posted sales, and only them"
"$POSAGENT_BIN" -c "$H/S0001-R01.conf" run 2>"$T/run.log" &
pid=$!
t0=$(date +%s)
until [ "$(sql "SELECT count(*) FROM txn WHERE business_date = '$OLD'")" = 0 ]; do
	[ $(($(date +%s) - t0)) -lt 30 ] || { cat "$T/run.log" >&2; fail "retention did not run within 30 s"; }
	sleep 0.2
done
kill -TERM "$pid"
wait "$pid" || fail "the service exited non-zero"
grep -q "retention: dropped 3 transactions of 1 posted days before $CUT" "$T/run.log" || fail "retention is not logged"
[ "$(sql "SELECT group_concat(txn_id) FROM (SELECT txn_id FROM txn ORDER BY id)")" = S0001-R01-000004,S0001-R01-000005 ] ||
	fail "left: $(sql "SELECT group_concat(txn_id) FROM txn")"
[ "$(sql "SELECT count(*) FROM tender WHERE txn NOT IN (SELECT id FROM txn)")" = 0 ] || fail "orphan tenders"
[ "$(sql "SELECT count(*) FROM tender")" = 2 ] || fail "$(sql "SELECT count(*) FROM tender") tenders left"
[ "$(sql "SELECT count(*) FROM customer")" = 2 ] || fail "customers were dropped"
[ "$(sql "SELECT state || ' ' || posting_id || ' ' || body FROM statement WHERE business_date = '$OLD'")" = "posted $POSTING {}" ] ||
	fail "the old statement is: $(sql "SELECT state, posting_id, body FROM statement WHERE business_date = '$OLD'")"
[ "$(sql "SELECT length(body) > 2 FROM statement WHERE business_date = '$NEW'")" = 1 ] || fail "the recent statement lost its body"
[ "$(hq admin state | jq .records_received)" = "$received" ] || fail "retention sent something to HQ"
[ "$(sql "PRAGMA auto_vacuum")" = 2 ] || fail "a new database has auto_vacuum $(sql "PRAGMA auto_vacuum")"
[ "$(sql "PRAGMA freelist_count")" = 0 ] || fail "$(sql "PRAGMA freelist_count") free pages left in the file"
expect_rc 0 pa --json status
[ "$(jget '.database.retention.days')" = 0 ] || fail "status still has days to free"

check "the old day stays closed: a sale on it is refused, nothing stored"
before=$(db_sum)
printf '{"txn_id":"S0001-R01-000009","kind":"cash_and_carry","business_date":"%s","currency":"EUR","customer":null,"lines":[{"sku":"SKU-1","qty":1,"unit_price_minor":100}],"tenders":[{"type":"cash","amount_minor":100}],"total_minor":100}' \
	"$OLD" >"$T/late.json"
rc=0
pa txn record --from-json "$T/late.json" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -ne 0 ] || fail "a sale on the dropped posted day was recorded"
[ "$(db_sum)" = "$before" ] || fail "the refused sale changed the database"

check "keep_days = 0 plans nothing"
sed 's/^keep_days = 90/keep_days = 0/' "$H/S0001-R01.conf" >"$T/keep0.conf"
expect_rc 0 "$POSAGENT_BIN" -c "$T/keep0.conf" --json status
[ "$(jget '.database.retention.days')" = 0 ] && [ "$(jget '.database.retention.cutoff')" = null ] ||
	fail "keep_days 0: $(jq -c .database.retention "$T/out")"

check "init converts a database without auto_vacuum, once, rows intact"
cp "$DB" "$T/old.db"
sqlite3 "$T/old.db" "PRAGMA auto_vacuum = NONE; VACUUM;"
[ "$(sqlite3 "$T/old.db" "PRAGMA auto_vacuum")" = 0 ] || fail "could not make a database without auto_vacuum"
sed "s|^database = .*|database = $T/old.db|" "$H/S0001-R01.conf" >"$T/old.conf"
expect_rc 0 "$POSAGENT_BIN" -c "$T/old.conf" init
grep -q 'now gives freed space back' "$T/out" || fail "init did not say it converted the database"
[ "$(sqlite3 "$T/old.db" "PRAGMA auto_vacuum")" = 2 ] || fail "init did not convert it"
[ "$(sqlite3 "$T/old.db" "SELECT count(*) FROM customer") $(sqlite3 "$T/old.db" "SELECT count(*) FROM txn")" = "2 2" ] ||
	fail "the conversion lost rows"
expect_rc 0 "$POSAGENT_BIN" -c "$T/old.conf" init
if grep -q 'now gives freed space back' "$T/out"; then fail "init converted it twice"; fi
echo ok
