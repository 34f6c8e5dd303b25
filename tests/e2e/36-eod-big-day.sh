#!/bin/bash
# 36-eod-big-day: a day of 10,000 transactions and 1,000 customers.
#
# What happens: 1,000 customers are made at the register with `customer
# create` (several at a time). awk writes the day's transactions as
# HQ-API documents: sales, returns, customer orders, split tenders of three
# types, most with a customer (by local number), some without; transaction
# i has the content of pattern (i-1) % 100, and awk computes the expected
# count, signed sales and per-tender sums. The first 100 are recorded with
# `txn record`; the other 9,900 are copies of those rows made with sqlite3
# (only txn_id changes, the customers spread over all 1,000), because
# 10,000 `txn record` processes take ~25 s here. RECORD_ALL=1 records every
# one with `txn record` instead. HQ assigns at once.
# What must hold: `eod --check` answers 75 and names who waits (its time
# is printed, not asserted: the bound, 50 ms at 10,000 transactions, is a
# row of `make bench`, item 5); `eod` uploads everything and posts; the
# statement lists every transaction once, and its count, sales and
# by-tender sums equal awk's; HQ, which validates every transaction and
# recomputes the sums from the ones it holds, accepts it with the same
# count and sales.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
setup

. "$(dirname "$0")/eodlib.sh"

NCUST=1000
NTXN=10000
JOBS_IN=${JOBS_IN:-4}
hq start --assign immediate >/dev/null
printf 'batch_size = 500\n' >>"$H/S0001-R01.conf" # [sync] is the file's last section
expect_rc 0 pa init

check "$NCUST customers and $NTXN transactions"
t0=$(date +%s.%N)
# One copy of the binary for the thousands of runs below: a rebuild of the
# shared one in the middle (make in another shell) cannot break them.
cp "$POSAGENT_BIN" "$T/posagent"
POSAGENT_BIN=$T/posagent
seq 1 $NCUST | xargs -P "$JOBS_IN" -I{} "$POSAGENT_BIN" -c "$H/S0001-R01.conf" customer create \
	--first-name "C{}" --email "c{}@example.com" >/dev/null
mkdir "$T/txn"
awk -v n=$NTXN -v nc=$NCUST -v d=$D -v dir="$T/txn" -v sums="$T/expected" -v files=${RECORD_ALL:+$NTXN} 'BEGIN {
	if (files == "") files = 100
	split("cash card voucher", types, " ")
	for (i = 1; i <= n; i++) {
		p = (i - 1) % 100 + 1 # the pattern: what the copies share
		qty = (p % 7 == 0) ? -1 : 1 + p % 3
		price = 100 + (p * 37) % 5000
		total = qty * price
		kind = (p % 10 == 0) ? "customer_order" : "cash_and_carry"
		cust = (p % 5 == 0 && kind == "cash_and_carry") ? "null" : sprintf("{\"local_number\":\"R01-%06d\"}", 1 + int(i / 10) % nc)
		t1 = types[1 + p % 3]; t2 = types[1 + (p + 1) % 3]
		if (p % 4 == 0) {
			a1 = int(total / 2); a2 = total - a1
			tenders = sprintf("{\"type\":\"%s\",\"amount_minor\":%d},{\"type\":\"%s\",\"amount_minor\":%d}", t1, a1, t2, a2)
			by[t1] += a1; by[t2] += a2
		} else {
			tenders = sprintf("{\"type\":\"%s\",\"amount_minor\":%d}", t1, total)
			by[t1] += total
		}
		sales += total
		if (i > files) continue
		f = sprintf("%s/%05d.json", dir, i)
		printf "{\"txn_id\":\"S0001-R01-%06d\",\"kind\":\"%s\",\"business_date\":\"%s\",\"currency\":\"EUR\",\"created_at\":\"%sT10:00:00Z\",\"customer\":%s,\"lines\":[{\"sku\":\"SKU-%d\",\"qty\":%d,\"unit_price_minor\":%d}],\"tenders\":[%s],\"total_minor\":%d}\n", i, kind, d, d, cust, p, qty, price, tenders, total > f
		close(f)
	}
	printf "{\"transaction_count\":%d,\"sales_minor\":%d,\"by_tender\":{\"card\":%d,\"cash\":%d,\"voucher\":%d}}\n", n, sales, by["card"], by["cash"], by["voucher"] > sums
}'
export PA_BIN=$POSAGENT_BIN PA_CONF=$H/S0001-R01.conf
find "$T/txn" -name '*.json' | sort | xargs -P "$JOBS_IN" -n 100 sh -c \
	'for f; do "$PA_BIN" -c "$PA_CONF" txn record --from-json "$f" >/dev/null || echo "not recorded: $f"; done' sh \
	>"$T/record.log" 2>&1
[ ! -s "$T/record.log" ] || { head -5 "$T/record.log" >&2; fail "some transactions were not recorded"; }
if [ -z "${RECORD_ALL:-}" ]; then
	# Copies k = 1..99 of the 100 rows txn record stored: transaction
	# k*100+p gets pattern p's row (body included) under its own txn_id
	# and a customer moved k*10 rows on, and the pattern's tenders.
	sql "BEGIN;
	WITH RECURSIVE k(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM k WHERE k < $NTXN / 100 - 1)
	INSERT INTO txn(txn_id, kind, business_date, customer_id, total_minor, body, state, waiting_since, updated_at)
	SELECT printf('S0001-R01-%06d', k.k * 100 + t.id), t.kind, t.business_date,
	       CASE WHEN t.customer_id IS NULL THEN NULL ELSE 1 + (t.customer_id - 1 + k.k * 10) % $NCUST END,
	       t.total_minor, replace(t.body, t.txn_id, printf('S0001-R01-%06d', k.k * 100 + t.id)),
	       'pending', t.waiting_since, t.updated_at
	FROM k, txn t WHERE t.id <= 100 ORDER BY k.k, t.id;
	INSERT INTO tender(txn, type, amount_minor)
	SELECT c.id, tn.type, tn.amount_minor FROM txn c
	JOIN txn t ON t.txn_id = printf('S0001-R01-%06d', (c.id - 1) % 100 + 1)
	JOIN tender tn ON tn.txn = t.id WHERE c.id > 100;
	COMMIT;"
	[ "$(sql "SELECT count(*) FROM txn WHERE id <= 100 AND txn_id <> printf('S0001-R01-%06d', id)")" = 0 ] ||
		fail "txn record did not store the first 100 in order"
fi
[ "$(sql "SELECT count(*) FROM customer")" = $NCUST ] || fail "$(sql "SELECT count(*) FROM customer") customers made"
[ "$(sql "SELECT count(*) FROM txn WHERE business_date = '$D'")" = $NTXN ] || fail "not every transaction was stored"
REFS=$(sql "SELECT count(DISTINCT customer_id) FROM txn")
[ "$REFS" = $NCUST ] || fail "the transactions refer to $REFS customers, not $NCUST"
echo "  stored in $(secs_since "$t0") s"

check "eod --check answers 75, naming who waits (its speed is measured by make bench)"
t0=$(date +%s.%N)
expect_rc 75 pa eod --check
echo "  eod --check: $(secs_since "$t0") s (not asserted: make bench, item 5)"
expect_msg "0 of $NCUST customers synced, 0 of $NTXN transactions uploaded; waiting for upload: R01-[0-9]{6}(, R01-[0-9]{6}){5} and 994 more$"

check "eod uploads everything and posts; the statement's figures equal the expected ones and HQ's"
t0=$(date +%s.%N)
expect_rc 0 pa eod --timeout 120
echo "  eod took $(secs_since "$t0") s"
grep -q "^$D posted: posting P.*, $NTXN transactions)" "$T/out" || fail "eod did not post: $(cat "$T/out")"
sql "SELECT body FROM statement" >"$T/body.json"
jq -e --slurpfile x "$T/expected" '.transaction_count == $x[0].transaction_count
	and .totals.sales_minor == $x[0].sales_minor and .totals.by_tender == $x[0].by_tender' "$T/body.json" >/dev/null ||
	fail "statement totals $(jq -c '{transaction_count, totals}' "$T/body.json") differ from $(cat "$T/expected")"
jq -e --argjson n $NTXN '(.transactions | length) == $n
	and (.transactions | sort) == [range(1; $n + 1) | "S0001-R01-" + ("000000" + tostring)[-6:]]' "$T/body.json" >/dev/null ||
	fail "the statement does not list every transaction once"
hq admin state >"$T/state.json"
jq -e --slurpfile x "$T/expected" '(.statements | length) == 1 and .statements[0].transaction_count == $x[0].transaction_count
	and .statements[0].sales_minor == $x[0].sales_minor' "$T/state.json" >/dev/null ||
	fail "HQ's statement: $(jq -c .statements "$T/state.json"), expected $(cat "$T/expected")"
echo "ok"
