#!/bin/bash
# 47-restore-numbers: a register restored from a backup never hands out a
# local number it had already given, offline and after any number of
# restores (AGENT.md "Restored copies"; issue 15's scenario).
#
# What happens: customers R01-000001..3 reach HQ, R01-000004 is pending;
# `backup` is taken; R01-000005..7 are made and reach HQ; the database is
# lost and the copy restored by the README's procedure while HQ is down;
# a customer is made offline, then HQ comes back and sync runs. Then the
# same copy is restored a second time and a customer is made offline again.
# What must hold: the offline customers get numbers 10,000 past anything
# given before (R01-010005, then past that again), HQ never holds two
# customers under one number, `customer search R01-000007` finds the
# customer HQ sent back (the right person, with its number kept), the
# copy's pending customer is marked possibly sent (maybe_sent) and reaches
# HQ once (an edit of it travels as an update and HQ ends with the edited
# value), and a copy not yet restored is marked while the live database
# is not. Before the fix the offline customer got R01-000005 again.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
hq_start
pr init >/dev/null
mk() { expect_rc 0 pr --json customer create --first-name "$1" --last-name "$2"; jget .local_number; }

check "three customers reach HQ, a fourth waits; backup"
for i in 1 2 3; do mk "Early$i" Person >/dev/null; done
expect_rc 0 pr sync
hq_stop
[ "$(mk Waiting Person)" = R01-000004 ] || fail "unexpected number"
expect_rc 0 pr backup "$T/copy.db"
[ "$(sqlite3 "$T/copy.db" "SELECT value LIKE 'R01 %' FROM meta WHERE key='backup_mark'")" = 1 ] ||
	fail "the copy is not marked"
[ -z "$(sql "SELECT value FROM meta WHERE key='backup_mark'")" ] || fail "the live database got the mark"
cp "$T/copy.db" "$T/copy2.db"

check "after the backup: R01-000005..7 reach HQ"
hq_start
for i in 5 6 7; do mk "Late$i" Person >/dev/null; done
expect_rc 0 pr sync
[ "$(sql "SELECT count(*) FROM customer WHERE state <> 'synced'")" = 0 ] || fail "not all synced"

check "the database is lost; the copy is restored (README) while HQ is down"
hq_stop
mkdir "$T/damaged" && mv "$DB"* "$T/damaged/"
install -m 0660 "$T/copy.db" "$DB"
expect_rc 0 pr status
[ -z "$(sql "SELECT value FROM meta WHERE key='backup_mark'")" ] || fail "the mark stayed after the first open"
[ -n "$(sql "SELECT value FROM meta WHERE key='restored_at'")" ] || fail "restored_at not recorded"
[ "$(sql "SELECT maybe_sent FROM customer WHERE local_number='R01-000004'")" = 1 ] ||
	fail "the copy's pending customer is not marked possibly sent"
[ "$(sql "SELECT count(*) FROM customer WHERE maybe_sent = 1")" = 1 ] || fail "synced customers marked possibly sent"

check "an edit of the possibly-sent customer travels as an update (the lost database may have sent it)"
expect_rc 0 pr customer edit R01-000004 --email waiting.fixed@example.com
grep -q "Changes pending sync" "$T/out" || fail "the edit is not shown as travelling"
[ "$(sql "SELECT fields FROM record_update")" = '{"email":"waiting.fixed@example.com"}' ] ||
	fail "no update queued for the possibly-sent customer: $(sql "SELECT kind, fields FROM record_update")"

check "a customer made offline gets a number never given: 10,000 past the copy's counter"
n1=$(mk Offline One)
[ "$n1" = R01-010005 ] || fail "the offline customer got $n1"

check "HQ back: sync; no number twice at HQ; search finds the right R01-000007"
hq_start
expect_rc 0 pr sync
hq_admin state >"$T/state.json"
[ "$(jq '[.customers[] | select(.register == "R01") | .local_number] | (length == (unique | length))' "$T/state.json")" = true ] ||
	fail "HQ holds two customers under one number: $(jq -c '[.customers[].local_number]' "$T/state.json")"
[ "$(jq '[.customers[] | select(.local_number == "R01-000004")] | length' "$T/state.json")" = 1 ] ||
	fail "the possibly-sent customer is not at HQ exactly once"
aid4=$(jq -r '.customers[] | select(.local_number == "R01-000004") | .async_id' "$T/state.json")
[ "$(hq_admin record "{\"async_id\":\"$aid4\"}" | jq -r '.customer.email // .email')" = waiting.fixed@example.com ] ||
	fail "HQ does not hold the edit of the possibly-sent customer"
[ "$(jq '.customers | length' "$T/state.json")" = 8 ] || fail "HQ holds $(jq '.customers | length' "$T/state.json") customers, not 8"
expect_rc 0 pr --json customer search R01-000007
[ "$(jget 'length')" = 1 ] && [ "$(jget '.[0].first_name')" = Late7 ] ||
	fail "search R01-000007 found $(jq -c '[.[] | .first_name]' "$T/out")"
for n in R01-000005 R01-000006 R01-000007; do
	[ "$(sql "SELECT count(*) FROM customer WHERE local_number='$n'")" = 1 ] || fail "$n is not back with its number"
done

check "the same copy restored a second time: numbers move on past the first restore's"
hq_stop
rm -f "$DB"*
install -m 0660 "$T/copy2.db" "$DB"
n2=$(mk Offline Two)
[ "$n2" = R01-020005 ] || fail "the second restore's customer got $n2 (first restore gave $n1)"
hq_start
expect_rc 0 pr sync
hq_admin state >"$T/state.json"
[ "$(jq '[.customers[] | .local_number] | (length == (unique | length))' "$T/state.json")" = true ] ||
	fail "HQ holds two customers under one number after the second restore"
[ "$(jq '.customers | length' "$T/state.json")" = 9 ] || fail "HQ holds $(jq '.customers | length' "$T/state.json") customers, not 9"

check "a backup of a restored database, restored: the counter still moves on"
expect_rc 0 pr backup "$T/copy3.db"
rm -f "$DB"*
install -m 0660 "$T/copy3.db" "$DB"
n3=$(mk Offline Three)
[ "${n3#R01-}" -gt "${n2#R01-}" ] && [ "${n3#R01-}" -gt 30000 ] || fail "the third restore's customer got $n3"
echo ok
