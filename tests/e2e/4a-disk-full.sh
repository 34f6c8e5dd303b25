#!/bin/bash
# 4a-disk-full: a real full disk (a small tmpfs; SKIP when mounting one is
# not permitted here).
#
# What happens: the database lives on the tmpfs; it is filled up with a
# filler file while the cashier keeps creating customers, the service runs
# against HQ on the full disk, then the filler goes and the service
# catches up.
# What must hold: on the full disk a create fails with 74 "disk full" and
# nothing half-written; every create acknowledged before is there; the
# service never dies and, with space again, brings every customer to HQ
# exactly once; integrity_check passes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
hq_start

check "a real full disk (tmpfs): the CLI"
MNT=$T/full
mkdir "$MNT"
if ! mount -t tmpfs -o size=3m tmpfs "$MNT" 2>/dev/null; then
	skip "mounting a tmpfs is not permitted here"
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
	pr customer create --first-name "Full$i" --last-name "$(printf 'y%.0s' $(seq 1 100))" >"$T/out" 2>"$T/err" || rc=$?
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
