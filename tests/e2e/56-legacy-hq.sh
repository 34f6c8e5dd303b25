#!/bin/bash
# 56-legacy-hq: an HQ of before HQ-API's 2026-11-30 revision (its
# /v1/health names no "revision"). HQ-API.md: such an HQ "predates
# addresses on transactions and updates: the agent sends it neither".
#
# What happens: the reference HQ runs with --revision none (it then also
# refuses, as an older HQ would, update records and a sale's address
# members: invalid_record). A customer with an address is synced; the
# cashier edits the customer (an update); a sale names the address; sync;
# eod. Then HQ is upgraded (restarted with its revision) and sync runs
# again.
# What must hold: the sale reaches HQ accepted, without address members
# (nothing rejected); the update is not sent: it waits, pending, shown as
# "pending_update"; eod posts the day without waiting for the address (an
# old HQ never gives addresses their ids); after the upgrade the update
# goes up and HQ holds the new email.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
setup

. "$(dirname "$0")/eodlib.sh"

hq start --assign immediate --revision none >/dev/null
expect_rc 0 pa init
expect_rc 0 pa --json customer create --first-name Ana --email ana@example.com
ANA=$(jget .async_id)
expect_rc 0 pa --json customer address add R01-000001 --line1 "Rua 1" --city Lisboa --postal-code 1100 \
	--country PT --purpose delivery
A1=$(jget .async_id)
expect_rc 0 pa sync

check "the update waits for an HQ that takes updates"
expect_rc 0 pa --json customer show R01-000001
[ "$(jget .state)" = synced ] || fail "the customer is not synced: $(jget .state)"
expect_rc 0 pa customer edit R01-000001 --email ana.new@example.com
sale 1 "{\"async_id\":\"$ANA\"}" 300
jq '. + {"delivery_address": {"async_id": "'"$A1"'"}, "txn_id": "S0001-R01-000002"}' "$T/txn.json" >"$T/t2.json"
expect_rc 0 pa txn record --from-json "$T/t2.json"
expect_rc 0 pa --json sync
[ "$(jget .rejected)" = 0 ] || fail "HQ rejected $(jget .rejected) records"
expect_rc 0 pa --json customer show R01-000001
[ "$(jget .pending_update)" = true ] || fail "the update is not shown as pending"
[ "$(jget .update_error)" = null ] || fail "the update was sent and refused: $(jget .update_error)"
[ "$(sqlite3 "$H/hq.db" "SELECT count(*) FROM updates")" = 0 ] || fail "an update reached the old HQ"

check "the sale reached HQ as an old HQ knows sales: accepted, without its address"
[ "$(sqlite3 "$DB" "SELECT group_concat(state) FROM txn ORDER BY id")" = "uploaded,uploaded" ] ||
	fail "sales not uploaded: $(sqlite3 "$DB" "SELECT group_concat(state || ':' || ifnull(last_code, '')) FROM txn")"
[ "$(sqlite3 "$H/hq.db" "SELECT count(*) FROM transactions WHERE delivery_id IS NULL")" = 2 ] ||
	fail "HQ does not hold both sales, without addresses"
[ "$(sqlite3 "$H/hq.db" "SELECT count(*) FROM transactions WHERE record LIKE '%delivery_address%'")" = 0 ] ||
	fail "a sale reached HQ with its address member"
expect_rc 0 pa --json txn show S0001-R01-000002
[ "$(jq -r '.delivery_address.async_id // .delivery_address' "$T/out")" != null ] ||
	fail "the register forgot the address the sale names"

check "eod posts without waiting for the address (an old HQ never gives it an id)"
expect_rc 0 pa --json eod --date "$D" --timeout 20
[ "$(jget .result)" = posted ] || fail "eod: $(cat "$T/out")"

check "HQ upgraded: the update goes up"
hq start --revision 2026-11-30 >/dev/null
expect_rc 0 pa --json sync
expect_rc 0 pa --json customer show R01-000001
[ "$(jget .pending_update)" = false ] || fail "the update still waits after the upgrade"
[ "$(sqlite3 "$H/hq.db" "SELECT json_extract(record, '$.email') FROM customers WHERE async_id = '$ANA'")" = \
	ana.new@example.com ] ||
	fail "HQ does not hold the new email"
echo ok
