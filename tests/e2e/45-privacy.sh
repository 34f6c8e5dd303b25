#!/bin/bash
# 45-privacy: what a technician sees never shows a customer's personal data
# or the token.
#
# What happens: with the service (`posagent run`) live, customers with
# distinctive names, emails, phones, organisation and address are made,
# with sales; HQ rejects one of them for its email; then HQ goes down and
# one more customer is made, so that errors are logged and shown. status,
# doctor (text and --json) and backup run over it all.
# What must hold: none of the test customers' names, emails, phones,
# organisation or address lines (nor the bad email HQ refused, nor the
# token) appears in the output of status, doctor or backup, or in the
# service's log; records appear by local number, async id or txn id.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
hq_start
pr init >/dev/null
SECRETS=(Zephyrine Quixotelli zephyrine.q@privacy-test.example "+351 912 345 678" "912 345 678"
	"Quixotic Widgets" "Rua Secretissima 77" Vilasecreta bad-email-zephyr Ottoline Brambleworth
	ottoline@privacy-test.example "Travessa Oculta")

check "customers with personal data, one rejected by HQ, HQ then down"
pr customer create --first-name Zephyrine --last-name Quixotelli --email zephyrine.q@privacy-test.example \
	--phone "+351 912 345 678" >/dev/null
pr customer create --kind organization --organization "Quixotic Widgets Lda" --email bad@privacy-test.example >/dev/null
sql "UPDATE customer SET email = 'bad-email-zephyr' WHERE local_number = 'R01-000002'"
pr customer address add R01-000001 --line1 "Rua Secretissima 77" --city Vilasecreta --postal-code 1100-048 \
	--country PT >/dev/null
printf '{"txn_id":"S0001-R01-000001","kind":"customer_order","business_date":"2026-11-25","currency":"EUR","customer":{"local_number":"R01-000002"},"lines":[{"sku":"S","qty":1,"unit_price_minor":100}],"tenders":[],"total_minor":100}' |
	pr txn record --from-json - >/dev/null
# (the service starts once the bad email is in: it would upload the good one first)
"$POSAGENT_BIN" -c "$CONF" run 2>"$T/run.log" &
svc=$!
trap 'kill "$svc" 2>/dev/null || true; hq_stop_quiet; rm -rf "$T"' EXIT
for _ in $(seq 50); do
	[ "$(sql "SELECT group_concat(state) FROM (SELECT state FROM customer ORDER BY id)")" = synced,rejected ] && break
	sleep 0.1
done
[ "$(sql "SELECT group_concat(state) FROM (SELECT state FROM customer ORDER BY id)")" = synced,rejected ] || fail "setup: the service did not sync"
log_lines=$(wc -l <"$T/run.log")
hq_stop
pr customer create --first-name Ottoline --last-name Brambleworth --email ottoline@privacy-test.example >/dev/null
pr customer address add R01-000003 --line1 "Travessa Oculta 3" --city Lisboa --postal-code 1100-048 --country PT >/dev/null
more_log() { [ "$(wc -l <"$T/run.log")" -gt "$log_lines" ]; }
wait_until 60 "the service logging its failed tries" more_log

check "status, doctor and backup print record ids, never personal data"
{
	pr status || true
	pr --json status || true
	pr doctor || true
	pr --json doctor || true
	pr backup "$T/b.db" || true
	pr --json backup "$T/b2.db" || true
} >"$T/shown" 2>&1
grep -q 'R01-000002' "$T/shown" || fail "status should name the rejected customer by number"
grep -q 'invalid_email' "$T/shown" || fail "status should give the rejection code"
grep -q 'cannot connect' "$T/shown" || fail "the HQ error should show"
kill -TERM "$svc"
wait "$svc" || fail "the service did not stop cleanly"
grep -q 'posagent\[' "$T/run.log" || fail "the service logged nothing"
for w in "${SECRETS[@]}" "$(cat "$H/tokens/S0001-R01.token")"; do
	if grep -qiF -- "$w" "$T/shown"; then fail "status/doctor/backup printed '$w'"; fi
	if grep -qiF -- "$w" "$T/run.log"; then fail "the service's log holds '$w'"; fi
done
echo "  checked $(wc -l <"$T/shown") lines of output and $(wc -l <"$T/run.log") lines of log"
echo ok
