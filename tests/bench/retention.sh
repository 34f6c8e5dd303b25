#!/bin/bash
# tests/bench/retention.sh: the `make bench` row of issue 16: a simulated
# year at one register, 300 sales a day, each day posted, with [retention]
# keep_days = 90 (the default), against the same year kept whole
# (keep_days = 0). Called by tests/bench/run (item "retention"); alone:
#   tests/bench/retention.sh BIN WORK
# BIN holds posagent and libcommon.a (run's snapshot), WORK is scratch.
# Prints one bench.json row (JSON, one line) on stdout.
# Target: the largest database of the year stays under 40 MB. Expected
# size: 90 days x 300 sales x ~450 bytes (row, body, tender, indexes)
# ~ 12 MB, plus 5,000 customers (~6 MB with the search indexes).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
BIN=${1:?usage: retention.sh BIN WORK}
W=${2:?usage: retention.sh BIN WORK}
DAYS=${RET_DAYS:-365} PER_DAY=${RET_PER_DAY:-300} CUSTOMERS=${RET_CUSTOMERS:-5000} TARGET_MB=40
# shellcheck source=datagen.sh
. "$HERE/datagen.sh"
mkdir -p "$W"
cc -O2 -std=c11 -D_GNU_SOURCE -I"$TOP" -I/usr/include/cjson -o "$W/bt_retain" "$HERE/bt_retain.c" \
	"$BIN/libcommon.a" -lsqlite3 -lcjson -linih -lz -ldl -lpthread -lm

# year KEEP_DAYS: "largest final left seconds" of one simulated year.
year() {
	local db=$W/year-$1.db t0
	rm -f "$db" "$db-wal" "$db-shm"
	printf '[agent]\nstore = S0001\nregister = R01\ndatabase = %s\ncurrency = EUR\n' "$db" >"$db.conf"
	"$BIN/posagent" -c "$db.conf" init >/dev/null
	{
		echo "PRAGMA synchronous=OFF; BEGIN;"
		cust_sql 1 "$CUSTOMERS" synced
		echo "COMMIT; PRAGMA wal_checkpoint(TRUNCATE);"
	} | sqlite3 -batch -init /dev/null "$db" >/dev/null
	t0=$(date +%s)
	echo "$("$W/bt_retain" "$db" "$1" "$DAYS" "$PER_DAY" | tr '\t' ' ') $(($(date +%s) - t0))"
}
read -r big final left secs < <(year 90)
read -r ref_big _ ref_left _ < <(year 0)
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }
value=$(mb "$big") ref=$(mb "$ref_big")
met=$(awk -v v="$value" -v t=$TARGET_MB 'BEGIN { print (v < t) ? "true" : "false" }')
jq -nc --argjson value "$value" --argjson ref "$ref" --arg target "value<$TARGET_MB" --argjson met "$met" \
	--arg notes "$DAYS days of $PER_DAY sales (each day uploaded and posted, its statement kept) over $CUSTOMERS synced customers, written by tests/bench/bt_retain.c in the shapes txn_record() and eod store; after each day, ret_apply() as the service runs it that evening (keep_days 90). Largest database of the year (page_count * page_size, auto_vacuum incremental); final $(mb "$final") MB holding $left sales (kept whole: $ref_left); the year took $secs s to simulate." \
	'{name: "retention: a year of 300 sales a day, keep_days 90, largest database", value: $value, unit: "MB",
	  reference: "the same year with keep_days = 0", reference_value: $ref, ratio: (if $ref > 0 then $value / $ref else null end),
	  runs: 1, min: $value, max: $value, target: $target, met: $met, notes: $notes}'
