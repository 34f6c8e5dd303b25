#!/bin/bash
# 11-config: the configuration file as the cashier's commands see it.
#
# What happens: init, customer and txn commands run with a missing config,
# a syntax error, an unknown section, an unknown key, a missing [agent]
# key, bad [agent] values; then with a broken [hq] (http:// url, missing
# token and CA files, a word where a number goes in [sync]); then the
# config is found through $POSAGENT_CONFIG and through -c/--config.
# What must hold: every config problem is exit 78 with one line naming the
# file and the problem (line, section or key), for every command, before
# the database is touched; a broken [hq] never stops these commands.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
setup

expect_rc 0 pa init
expect_rc 0 pa customer create --first-name Ana
cat >"$T/sale.json" <<'EOF'
{"txn_id": "S0001-R01-000001", "kind": "cash_and_carry", "business_date": "2026-11-25",
 "currency": "EUR", "customer": null,
 "lines": [{"sku": "SKU-1", "qty": 1, "unit_price_minor": 100}],
 "tenders": [{"type": "cash", "amount_minor": 100}], "total_minor": 100}
EOF
GOOD=$(cat "$T/pos.conf")
before=$(db_sum)

# bad_conf RE: every command exits 78 naming RE, and nothing is stored.
bad_conf() {
	local re=$1 cmd
	for cmd in init "customer list" "customer show R01-000001" "customer search Ana" \
		"customer create --first-name Bo" "customer edit R01-000001 --first-name Bo" \
		"customer address add R01-000001 --line1 L --city C --postal-code P --country PT" \
		"txn record --from-json $T/sale.json"; do
		# shellcheck disable=SC2086
		expect_rc 78 pa $cmd
		expect_err "$re"
	done
	expect_rc 78 pa --json customer create --first-name Bo
	expect_json_err config
	[ "$(db_sum)" = "$before" ] || fail "a command with a bad config changed the database"
}

check "a missing config file is 78 naming it"
expect_rc 78 "$POSAGENT_BIN" -c "$T/nope.conf" customer list
expect_err "nope.conf"
expect_rc 78 "$POSAGENT_BIN" -c "$T/nope.conf" init
expect_err "nope.conf"
[ ! -e "$T/nope.conf" ] || fail "a config file was created"
expect_rc 78 "$POSAGENT_BIN" -c "$T" customer list
expect_err "not a regular file"

check "a syntax error is 78 naming the file and line"
printf '%s\n' "$GOOD" "[hq" "url = https://hq.example.com" >"$T/pos.conf"
bad_conf "pos.conf.*line 6"
printf '%s\n' "$GOOD" "just some words" >"$T/pos.conf"
bad_conf "line 6"

check "an unknown section is 78 naming it"
printf '%s\n' "$GOOD" "[printer]" "port = 9100" >"$T/pos.conf"
bad_conf "unknown section.*printer"

check "the same section twice is 78 naming its second line (never the last value winning)"
printf '%s\n' "$GOOD" "[hq]" "url = https://hq.example.com" "[agent]" "store = S0002" >"$T/pos.conf"
bad_conf "pos.conf.*line 8.*\[agent\].*second time"

check "an unknown key is 78 naming it and its section"
printf '%s\n' "$GOOD" "colour = blue" >"$T/pos.conf"
bad_conf "unknown key.*colour.*agent"
printf '%s\n' "$GOOD" "[hq]" "urll = https://hq.example.com" >"$T/pos.conf"
bad_conf "unknown key.*urll.*hq"
printf '%s\n' "$GOOD" "[sync]" "batchsize = 10" >"$T/pos.conf"
bad_conf "unknown key.*batchsize"

check "a missing [agent] key is 78 naming it"
grep -v '^store' <<<"$GOOD" >"$T/pos.conf"
bad_conf "store is required"
grep -v '^register' <<<"$GOOD" >"$T/pos.conf"
bad_conf "register is required"
grep -v '^\[agent\]' <<<"$GOOD" >"$T/pos.conf"
bad_conf "agent|store"
printf '[hq]\nurl = https://hq.example.com\n' >"$T/pos.conf"
bad_conf "store is required"
: >"$T/pos.conf"
bad_conf "store is required"

check "a bad [agent] value is 78 naming the key"
sed 's/^store = .*/store = S-0001/' <<<"$GOOD" >"$T/pos.conf"
bad_conf "store"
sed "s/^register = .*/register = $(printf 'R%.0s' $(seq 33))/" <<<"$GOOD" >"$T/pos.conf"
bad_conf "register"
sed 's/^currency = .*/currency = eur/' <<<"$GOOD" >"$T/pos.conf"
bad_conf "currency"
sed 's/^database = .*/database =/' <<<"$GOOD" >"$T/pos.conf"
bad_conf "database"

check "a broken [hq] or [sync] setting does not stop init, customer or txn commands"
printf '%s\n' "$GOOD" "[hq]" "url = http://hq.example.com" "ca_file = $T/no-ca.pem" \
	"token_file = $T/no-token" "client_cert = $T/no-cert.pem" "connect_timeout = 0" \
	"[sync]" "batch_size = lots" "long_poll = 3600" "[eod]" "timeout = -5" >"$T/pos.conf"
expect_rc 0 pa init
expect_rc 0 pa customer list
expect_rc 0 pa customer create --first-name Bo --email bo@example.com
BO=$(awk '{print $2; exit}' "$T/out")
expect_rc 0 pa customer edit "$BO" --last-name Berg
expect_rc 0 pa customer show "$BO"
expect_rc 0 pa customer search Berg
expect_rc 0 pa customer address add "$BO" --line1 "Rua 1" --city Lisboa --postal-code 1100-048 --country PT
expect_rc 0 pa txn record --from-json "$T/sale.json"
echo "token-that-others-can-read" >"$T/token" && chmod 0644 "$T/token"
printf '%s\n' "$GOOD" "[hq]" "url = https://hq.example.com" "token_file = $T/token" >"$T/pos.conf"
expect_rc 0 pa customer list

check "the AGENT.md example config (inline comments, every key) is accepted"
cat >"$T/pos.conf" <<EOF
[agent]
store = S0001              ; required
register = R01             ; required
database = $DB
currency = EUR

[hq]
url = https://hq.example.com   ; required to talk to HQ; https only
ca_file = /etc/posagent/hq-ca.pem
token_file = /etc/posagent/token   ; readable by owner and group only, never others
client_cert =               ; optional mutual TLS
client_key =
connect_timeout = 5
request_timeout = 30        ; a long poll may take long_poll + request_timeout

[sync]
batch_size = 200            ; 1 to 500
retry_max = 300             ; backoff cap, seconds
idle_interval = 60          ; full cycle at least this often
long_poll = 25              ; 0 to 60

[eod]
timeout = 900

[doctor]
waiting_warn = 3600         ; oldest waiting record, seconds
waiting_fail = 86400
EOF
expect_rc 0 pa customer show R01-000001
grep -q "R01-000001" "$T/out" || fail "the example config does not reach the database"

check "the config is found through \$POSAGENT_CONFIG, and -c / --config win over it"
printf '%s\n' "$GOOD" >"$T/pos.conf"
expect_rc 0 env POSAGENT_CONFIG="$T/pos.conf" "$POSAGENT_BIN" customer show R01-000001
expect_rc 78 env POSAGENT_CONFIG="$T/nope.conf" "$POSAGENT_BIN" customer list
expect_err "nope.conf"
expect_rc 0 env POSAGENT_CONFIG="$T/nope.conf" "$POSAGENT_BIN" -c "$T/pos.conf" customer list
expect_rc 0 env POSAGENT_CONFIG="$T/nope.conf" "$POSAGENT_BIN" --config "$T/pos.conf" customer list
expect_rc 0 env POSAGENT_CONFIG="$T/nope.conf" "$POSAGENT_BIN" --config="$T/pos.conf" customer list
if [ ! -e /etc/posagent/posagent.conf ]; then
	expect_rc 78 env -u POSAGENT_CONFIG "$POSAGENT_BIN" customer list
	expect_err "/etc/posagent/posagent.conf"
fi

check "-c without a value is 64"
expect_rc 64 "$POSAGENT_BIN" -c
expect_err "missing value|-c"

check "an unknown section is 78 even when it holds no key"
printf '%s\n' "$GOOD" >"$T/pos.conf"
before=$(db_sum)
printf '%s\n' "$GOOD" "[printer]" >"$T/pos.conf"
bad_conf "unknown section.*printer"

check "a line longer than libinih reads whole (200 bytes) is 78 naming its line"
LONGDIR=$T/$(printf "d%.0s" $(seq 120))/$(printf "e%.0s" $(seq 120))
mkdir -p "$LONGDIR"
printf '[agent]\nstore = S0001\nregister = R01\ndatabase = %s/pos.db\n' "$LONGDIR" >"$T/pos.conf"
expect_rc 78 pa init
expect_err "line 4: longer than"
[ ! -f "$LONGDIR/pos.db" ] || fail "a database was made from a misread path"

echo "ok"
