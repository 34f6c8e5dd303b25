#!/bin/bash
# 44-backup: `posagent backup FILE` while the service runs and the POS
# writes, and the README's restore procedure.
#
# What happens: the service syncs with HQ while a writer makes customers
# and sales; two backups are taken in the middle of it. Each is checked
# and read by `posagent status` through a config that points at it. Then
# backups onto an existing file, into a missing directory and without
# FILE are refused. Last, the README's restore: stop the service, set the
# damaged files aside, install a backup, check with status, sync.
# What must hold: exit 0, FILE mode 0600, integrity_check ok, a consistent
# snapshot (every local number given out is there, no
# transaction without its customer), readable by status; an existing FILE
# is never replaced (74, unchanged), nothing half-written is left; after
# the restore, status answers, sync brings back the customers made after
# the backup (no duplicates at HQ), and new customers get fresh numbers.
# (The first and third backups run while the writer writes.)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
hq_start
pr init >/dev/null
"$POSAGENT_BIN" -c "$CONF" run 2>"$T/run.log" &
svc=$!
trap 'kill "$svc" 2>/dev/null || true; hq_stop_quiet; rm -rf "$T"' EXIT
N=100

# statusconf FILE: a configuration whose database is FILE.
statusconf() { sed "s|^database = .*|database = $1|" "$CONF" >"$1.conf"; echo "$1.conf"; }

# writer FROM TO: customers FROM..TO, each with a customer order.
writer() {
	for i in $(seq "$1" "$2"); do
		pr customer create --first-name "W$i" >/dev/null
		printf '{"txn_id":"S0001-R01-%06d","kind":"customer_order","business_date":"2026-11-25","currency":"EUR","customer":{"local_number":"R01-%06d"},"lines":[{"sku":"S","qty":1,"unit_price_minor":100}],"tenders":[],"total_minor":100}' \
			"$i" "$i" | pr txn record --from-json - >/dev/null
	done
}

check "backups while the service syncs and $N customers and sales are written"
writer 1 $((N / 2)) &
w=$!
writing_past() { [ "$(sql 'SELECT count(*) FROM customer')" -gt "$1" ]; }
wait_until 60 "the writer under way" writing_past 0
expect_rc 0 pr backup "$T/b1.db"
grep -q "^backup written to $T/b1.db" "$T/out" || fail "backup says nothing"
wait "$w" || fail "the writer failed while a backup ran"
expect_rc 0 pr --json backup "$T/b2.db"
jq -e --arg f "$T/b2.db" '.file == $f and .bytes > 0 and (.taken_at | test("^[0-9-]+T[0-9:]+Z$"))' "$T/out" \
	>/dev/null || fail "backup JSON: $(cat "$T/out")"
writer $((N / 2 + 1)) $N &
w=$!
wait_until 60 "the second writer under way" writing_past $((N / 2))
expect_rc 0 pr backup "$T/b3.db"
wait "$w" || fail "the writer failed while a backup ran"
[ "$(sqlite3 "$T/b2.db" 'SELECT count(*) FROM customer')" = $((N / 2)) ] || fail "b2 should hold the first half"

for b in "$T/b1.db" "$T/b2.db" "$T/b3.db"; do
	[ "$(stat -c %a "$b")" = 600 ] || fail "$b has mode $(stat -c %a "$b")"
	[ "$(sqlite3 "$b" 'PRAGMA integrity_check')" = ok ] || fail "$b fails integrity_check"
	[ -z "$(sqlite3 "$b" 'PRAGMA foreign_key_check')" ] || fail "$b has a transaction without its customer"
	n=$(sqlite3 "$b" "SELECT count(*) FROM customer WHERE origin = 'local'")
	seq=$(sqlite3 "$b" "SELECT coalesce(max(CAST(substr(local_number, 5) AS INTEGER)), 0) FROM customer
		WHERE local_number LIKE 'R01-%'")
	[ "$n" = "$seq" ] || fail "$b is not one instant: $n customers, highest local number $seq"
	c=$(statusconf "$b")
	expect_rc 0 "$POSAGENT_BIN" -c "$c" --json status
	total=$(jget '[.customers[]] | add')
	[ "$total" = "$n" ] || fail "status on $b counts $total customers, the file holds $n"
	echo "  $(basename "$b"): $n customers, $(sqlite3 "$b" 'SELECT count(*) FROM txn') transactions"
done
ls "$T" | grep -q partial && fail "a partial backup file was left"

check "an existing FILE is never replaced; a missing directory; usage"
sum=$(sha256sum "$T/b1.db")
expect_rc 74 pr backup "$T/b1.db"
expect_err 'exists'
[ "$(sha256sum "$T/b1.db")" = "$sum" ] || fail "the existing file was changed"
expect_rc 74 pr --json backup "$T/b1.db"
expect_json_err backup_exists file
expect_rc 74 pr backup "$T/no/such/dir/b.db"
expect_rc 64 pr backup
expect_rc 64 pr backup "$T/x.db" "$T/y.db"
ls "$T" | grep -q partial && fail "a partial backup file was left"

check "the README's restore: stop, set aside, install, status, sync"
all_sent() { [ "$(pr --json status | jq '.customers.pending + .customers.uploaded + .transactions.pending')" = 0 ]; }
wait_until 120 "everything at HQ" all_sent
kill -TERM "$svc"
wait "$svc" || fail "the service did not stop cleanly"
mkdir "$T/damaged"
mv "$DB"* "$T/damaged/"
install -m 0660 "$T/b2.db" "$DB"
expect_rc 0 pr status
grep -Eq '^customers ' "$T/out" || fail "status after the restore"
expect_rc 0 pr --json sync
n=$(sql "SELECT count(*) FROM customer")
[ "$n" = $N ] || fail "after the restore and a sync the register knows $n customers, not $N"
[ "$(sql "SELECT count(*) FROM customer WHERE state <> 'synced'")" = 0 ] || fail "customers left unsynced"
expect_rc 0 pr --json customer create --first-name After
# a restored copy's counter jumps 10,000 past its own (AGENT.md "Restored copies")
num=$(jget .local_number)
[ "$((10#${num#R01-}))" -gt 10000 ] ||
	fail "the new customer got $num"
expect_rc 0 pr sync
[ "$(hq_admin state | jq '.customers | length')" = $((N + 1)) ] || fail "HQ holds duplicates after the restore"
echo ok
