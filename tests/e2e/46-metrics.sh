#!/bin/bash
# Metrics for fleet monitoring (issue 17): the service writes the
# Prometheus text format to [metrics] textfile (atomically, by rename),
# `status --prometheus` prints the same, both pass `promtool check
# metrics`, a real prometheus-node-exporter textfile collector on loopback
# serves the posagent series, and nothing in them is a customer's detail
# or the token. HQ down shows as consecutive failures and requests with
# no reply; HQ back clears the failures.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
for tool in promtool prometheus-node-exporter curl; do
	command -v "$tool" >/dev/null || skip "$tool is not installed (Debian: prometheus, prometheus-node-exporter; make deps installs them)"
done
hq_start
pr init >/dev/null
M=$T/textfile
mkdir "$M"
# tests/hq/start writes the configs afresh: add the section after each.
metrics_conf() {
	grep -q '^\[metrics\]' "$CONF" || printf '[metrics]\ntextfile = %s\ninterval = 1\n' "$1" >>"$CONF"
}
metrics_conf "$M/posagent.prom"

# Waits up to 30 s for a sample line matching ERE in FILE.
wait_sample() {
	local file=$1 ere=$2 i
	for i in $(seq 1 300); do
		[ -f "$file" ] && grep -Eq -- "$ere" "$file" && return 0
		sleep 0.1
	done
	fail "no sample /$ere/ in $file within 30 s: $(cat "$file" 2>/dev/null | grep -v '^#' | head -30)"
}

check "status --prometheus on a new register: valid, zeros"
expect_rc 0 pr status --prometheus
promtool check metrics <"$T/out" >"$T/lint" 2>&1 || fail "promtool: $(cat "$T/lint")"
grep -q '^posagent_queue_records{store="S0001",register="R01",kind="customer",state="pending"} 0$' "$T/out" ||
	fail "no zero pending count"

check "customers made with HQ down are counted as pending"
hq_stop
for i in 1 2 3; do pr customer create --first-name "Zelda$i" --email "zelda$i@example.com" --phone "+351 91 555 00$i" >/dev/null; done
expect_rc 0 pr status --prometheus
grep -q 'kind="customer",state="pending"} 3$' "$T/out" || fail "pending is not 3"
grep -Eq '^posagent_oldest_waiting_seconds\{store="S0001",register="R01"\} [0-9]+$' "$T/out" || fail "no oldest age"

check "the service with HQ down writes the file: failures count up, requests with no reply"
"$POSAGENT_BIN" -c "$CONF" run 2>"$T/run.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; [ -z "${NE:-}" ] || kill $NE 2>/dev/null || true; hq_stop_quiet; chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT
wait_sample "$M/posagent.prom" '^posagent_consecutive_failures\{[^}]*\} [1-9]'
wait_sample "$M/posagent.prom" '^posagent_hq_requests_total\{[^}]*status="none"\} [1-9]'
promtool check metrics <"$M/posagent.prom" >"$T/lint" 2>&1 || fail "promtool on the file: $(cat "$T/lint")"

check "HQ back: synced, failures back to 0, 200s counted, last upload set"
hq_start
wait_sample "$M/posagent.prom" 'kind="customer",state="synced"\} 3$'
wait_sample "$M/posagent.prom" '^posagent_consecutive_failures\{[^}]*\} 0$'
wait_sample "$M/posagent.prom" '^posagent_hq_requests_total\{[^}]*status="200"\} [1-9]'
# waited for, not read once: the download may mark the customers synced
# (their accounts came on the feed) before the uploader has applied the
# batch's own answer, which is what sets the last upload (seen under ASan)
wait_sample "$M/posagent.prom" '^posagent_last_upload_timestamp_seconds\{[^}]*\} 1[0-9]{9}$'

promtool check metrics <"$M/posagent.prom" >"$T/lint" 2>&1 || fail "promtool on the file: $(cat "$T/lint")"
ls "$M" | grep -v '^posagent.prom$' && fail "something beside posagent.prom in the folder (a temporary left?)"

check "status --prometheus prints the same series as the file"
# (polled: the service may count a request between its flush and its write)
same=
for i in $(seq 1 50); do
	expect_rc 0 pr status --prometheus
	if diff <(grep -v '^#' "$T/out" | sed 's/ .*//' | sort) <(grep -v '^#' "$M/posagent.prom" | sed 's/ .*//' | sort) >"$T/diff"; then
		same=1
		break
	fi
	sleep 0.1
done
[ -n "$same" ] || fail "the series differ: $(cat "$T/diff")"

check "a real prometheus-node-exporter textfile collector serves them"
port=$("$HQ_BIN" --pick-port)
prometheus-node-exporter --web.listen-address="127.0.0.1:$port" --collector.disable-defaults \
	--collector.textfile --collector.textfile.directory="$M" >"$T/ne.log" 2>&1 &
NE=$!
ok=
for i in $(seq 1 100); do
	if curl -sf "http://127.0.0.1:$port/metrics" >"$T/scrape" 2>/dev/null; then ok=1; break; fi
	sleep 0.1
done
[ -n "$ok" ] || fail "node_exporter did not answer: $(tail -5 "$T/ne.log")"
grep -q '^posagent_queue_records{kind="customer",register="R01",state="synced",store="S0001"} 3$' "$T/scrape" ||
	fail "node_exporter does not serve the queue: $(grep posagent "$T/scrape" | head)"
grep -Eq '^posagent_hq_requests_total\{register="R01",status="200",store="S0001"\} [1-9]' "$T/scrape" ||
	fail "node_exporter does not serve the request counts"
grep -q '^node_textfile_scrape_error 0$' "$T/scrape" || fail "the textfile collector reports an error: $(grep textfile "$T/scrape")"

check "no customer detail and no token in the file or the log"
for w in Zelda zelda5@example.com "555 00" "$(cat "$H/tokens/S0001-R01.token")"; do
	if grep -qF -- "$w" "$M/posagent.prom" "$T/out" "$T/run.log"; then fail "'$w' found"; fi
done

check "a textfile in a folder that does not exist: one warning, the service keeps syncing"
kill -TERM $pid
wait $pid || fail "the service exited non-zero"
metrics_conf "$M/posagent.prom"
sed -i "s|^textfile = .*|textfile = $T/no-such-dir/posagent.prom|" "$CONF"
"$POSAGENT_BIN" -c "$CONF" run 2>"$T/run2.log" &
pid=$!
pr customer create --first-name Late >/dev/null
for i in $(seq 1 300); do
	[ "$(sql "SELECT state FROM customer WHERE first_name='Late'")" = synced ] && break
	sleep 0.1
done
[ "$(sql "SELECT state FROM customer WHERE first_name='Late'")" = synced ] || fail "not synced"
for i in $(seq 1 50); do grep -q 'no-such-dir' "$T/run2.log" && break; sleep 0.1; done
[ "$(grep -c 'no-such-dir' "$T/run2.log")" -eq 1 ] || fail "expected one warning: $(cat "$T/run2.log")"
kill -TERM $pid
wait $pid || fail "the service exited non-zero"
echo ok
