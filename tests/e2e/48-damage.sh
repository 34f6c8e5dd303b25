#!/bin/bash
# 48-damage: damaged database files (the full disk is 4a-disk-full).
#
# What happens: copies of a good database are damaged: truncated to half,
# pages overwritten with junk, the write-ahead log lost after a crash; a
# log whose every frame had been checkpointed is deleted after a crash.
# What must hold: a damaged file is 74 for the commands that read it
# (never a crash, never silently an older state), and doctor FAILs
# database; the checkpointed log's loss is harmless (opens, nothing
# missing).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
hq_start

crashed() { [ "$1" -ge 128 ] || { [ "$1" -ne 0 ] && [ "$1" -ne 74 ] && [ "$1" -ne 1 ]; }; }

check "damaged files: truncated, pages overwritten, WAL lost: 74 and doctor FAIL, never a crash"
pr init >/dev/null
for i in $(seq 1 300); do printf '{"kind":"person","first_name":"P%d","last_name":"%s"}\n' "$i" "$(printf 'x%.0s' $(seq 1 100))"; done |
	while read -r rec; do printf '%s' "$rec" | pr customer create --from-json - >/dev/null; done
[ "$(sql "SELECT count(*) FROM customer")" = 300 ] || fail "setup"
good=$T/good.db
sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
cp "$DB" "$good"
size=$(stat -c %s "$good")
damage() { # NAME: $T/d.db from good, damaged so; a config for it
	rm -f "$T/d.db"*
	cp "$good" "$T/d.db"
	case $1 in
	truncated) truncate -s $((size / 2)) "$T/d.db" ;;
	overwritten) for p in 2 5 9 17 33; do
		head -c 4096 /dev/urandom | dd of="$T/d.db" bs=4096 seek="$p" conv=notrunc status=none; done ;;
	esac
	sed "s|^database = .*|database = $T/d.db|" "$CONF" >"$T/d.conf"
}
for kind in truncated overwritten; do
	damage $kind
	n74=0
	for cmd in "customer list" "customer search P1" "customer create --first-name New" status "eod --check"; do
		rc=0
		# shellcheck disable=SC2086
		"$POSAGENT_BIN" -c "$T/d.conf" $cmd >"$T/out" 2>"$T/err" || rc=$?
		! crashed $rc || fail "$kind: $cmd exited $rc: $(head -c 300 "$T/err")"
		if [ $rc -eq 74 ]; then
			n74=$((n74 + 1))
			grep -q "^posagent: " "$T/err" || fail "$kind: $cmd: no clear message"
		fi
	done
	[ $n74 -ge 1 ] || fail "$kind: no command noticed the damage"
	rc=0
	"$POSAGENT_BIN" -c "$T/d.conf" doctor >"$T/out" 2>&1 || rc=$?
	[ $rc -eq 1 ] && grep -Eq "FAIL +database" "$T/out" || fail "$kind: doctor exit $rc, no FAIL database"
	echo "  $kind: $n74 of 5 commands 74, doctor FAIL database"
done

check "the WAL lost after a crash: refused with 74 naming it, never the older state"
rm -f "$T/w.db"*
cp "$good" "$T/w.db"
sed "s|^database = .*|database = $T/w.db|" "$CONF" >"$T/w.conf"
# a writer killed -9 leaves its records in w.db-wal (and the index in -shm):
# the sqlite3 CLI commits, then kills itself before it can checkpoint
sqlite3 "$T/w.db" "PRAGMA journal_mode=WAL" "UPDATE customer SET first_name = 'Changed' WHERE id = 1" \
	'.shell kill -9 $PPID' >/dev/null 2>&1 || true
[ -s "$T/w.db-wal" ] && [ -s "$T/w.db-shm" ] || fail "no WAL left by the crash"
rm "$T/w.db-wal"
for cmd in "customer list" status "customer create --first-name New"; do
	# shellcheck disable=SC2086
	expect_rc 74 "$POSAGENT_BIN" -c "$T/w.conf" $cmd
	expect_err "write-ahead log"
done
rc=0
"$POSAGENT_BIN" -c "$T/w.conf" doctor >"$T/out" 2>&1 || rc=$?
[ $rc -eq 1 ] && grep -Eq "FAIL +database.*write-ahead" "$T/out" || fail "doctor: exit $rc, no FAIL database"

check "a WAL whose every frame was checkpointed may go: nothing was only in it"
rm -f "$T/w.db"*
cp "$good" "$T/w.db"
# a writer commits, checkpoints all of it, and is killed -9 before it could
# delete its log: the log and its index stay, every frame in the database
sqlite3 "$T/w.db" "PRAGMA journal_mode=WAL" "UPDATE customer SET first_name = 'Kept' WHERE id = 1" \
	"PRAGMA wal_checkpoint(FULL)" '.shell kill -9 $PPID' >/dev/null 2>&1 || true
[ -s "$T/w.db-wal" ] && [ -s "$T/w.db-shm" ] || fail "no WAL left by the crash"
rm "$T/w.db-wal"
expect_rc 0 "$POSAGENT_BIN" -c "$T/w.conf" customer show "$(sql "SELECT local_number FROM customer WHERE id = 1")"
grep -q Kept "$T/out" || fail "the change checkpointed before the log went is not found"
echo ok
