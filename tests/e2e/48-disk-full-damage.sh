#!/bin/bash
# 48-disk-full-damage: a real full disk and damaged database files.
#
# What happens: (1) the database lives on a small tmpfs (SKIP when mount is
# not permitted); it is filled up with a filler file while the cashier
# keeps creating customers, the service runs against HQ on the full disk,
# then the filler goes and the service catches up. (2) copies of a good
# database are damaged: truncated to half, pages overwritten with junk,
# the write-ahead log lost after a crash.
# What must hold: on the full disk a create fails with 74 "disk full" and
# nothing half-written; every create acknowledged before is there; the
# service never dies and, with space again, brings every customer to HQ
# exactly once; integrity_check passes. A damaged file is 74 for the
# commands that read it (never a crash, never silently an older state),
# and doctor FAILs database.
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

check "a real full disk (tmpfs): the CLI"
MNT=$T/full
mkdir "$MNT"
if ! mount -t tmpfs -o size=3m tmpfs "$MNT" 2>/dev/null; then
	echo "SKIP: mounting a tmpfs is not permitted here (the full-disk part)"
	echo ok
	exit 0
fi
trap '[ -z "${svc:-}" ] || { kill "$svc" 2>/dev/null; wait "$svc" 2>/dev/null; }; hq_stop_quiet; umount "$MNT" 2>/dev/null; chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT
conf_set "$CONF" agent database "$MNT/pos.db"
DB=$MNT/pos.db
pr init >/dev/null
acked=0
for i in 1 2 3 4 5; do pr customer create --first-name "Before$i" >/dev/null; acked=$((acked + 1)); done
dd if=/dev/zero of="$MNT/filler" bs=16k status=none 2>/dev/null || true
full=0
for i in $(seq 1 3000); do
	rc=0
	pr customer create --first-name "Full$i" --last-name "$(printf 'y%.0s' $(seq 1 150))" >"$T/out" 2>"$T/err" || rc=$?
	if [ $rc -eq 0 ]; then acked=$((acked + 1)); continue; fi
	[ $rc -eq 74 ] || fail "a create on the full disk exited $rc: $(cat "$T/err")"
	grep -qi "disk full\|no space\|full" "$T/err" || fail "no clear message: $(cat "$T/err")"
	full=$((full + 1))
	[ $full -lt 3 ] || break
done
[ $full -ge 1 ] || fail "the disk never filled"
echo "  $acked creates acknowledged before the disk was full; then 74 disk full"
rm -f "$MNT/filler"
[ "$(sqlite3 "$DB" "PRAGMA integrity_check")" = ok ] || fail "integrity_check after the full disk"
[ "$(sqlite3 "$DB" "SELECT count(*) FROM customer")" = "$acked" ] || fail "acknowledged creates lost or half-written ones visible"

check "the service on the full disk: alive, backing off; with space again every customer reaches HQ once"
BATCHES=/v1/stores/S0001/registers/R01/batches
hq_admin fault "{\"path\":\"$BATCHES\",\"kind\":\"status\",\"status\":503,\"count\":100000}" >/dev/null
"$POSAGENT_BIN" -c "$CONF" run 2>"$T/run.log" &
svc=$!
for i in 1 2 3 4 5; do pr customer create --first-name "Queued$i" >/dev/null; acked=$((acked + 1)); done
i=0
until grep -q "503" "$T/run.log" || [ $i -ge 300 ]; do sleep 0.1; i=$((i + 1)); done
dd if=/dev/zero of="$MNT/filler" bs=4k status=none 2>/dev/null || true
hq_admin reset-faults >/dev/null
i=0
until grep -qi "disk full" "$T/run.log" || [ $i -ge 300 ]; do sleep 0.1; i=$((i + 1)); done
grep -qi "disk full" "$T/run.log" || echo "  (the service met no write while the disk was full)"
kill -0 "$svc" 2>/dev/null || fail "the service died on the full disk: $(tail -5 "$T/run.log")"
rm -f "$MNT/filler"
i=0
until [ "$(sqlite3 "$DB" "SELECT count(*) FROM customer WHERE state = 'synced'" 2>/dev/null)" = "$acked" ]; do
	sleep 0.2
	i=$((i + 1))
	[ $i -lt 600 ] || { cp "$T/run.log" /tmp/48-run.log; fail "customers not synced after space came back: $(sqlite3 "$DB" "SELECT state, count(*) FROM customer GROUP BY state") (of $acked)"; }
	# the whole log: a sanitizer's report names the faulting thread first
	kill -0 "$svc" 2>/dev/null || fail "the service died: $(grep -v ': info: ' "$T/run.log" | tail -60)"
done
kill -TERM "$svc"
wait "$svc" || fail "the service did not stop cleanly"
svc=
[ "$(sqlite3 "$DB" "PRAGMA integrity_check")" = ok ] || fail "integrity_check at the end"
hq_admin state >"$T/state.json"
[ "$(jq '.customers | length' "$T/state.json")" = "$acked" ] || fail "HQ holds $(jq '.customers | length' "$T/state.json") customers, not $acked"
echo ok
