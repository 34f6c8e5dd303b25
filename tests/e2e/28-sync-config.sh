#!/bin/bash
# The [hq] settings are checked by every command that talks to HQ (sync,
# run, eod): an http:// URL, a token file readable by others, a missing CA
# file, batch_size over 500 or long_poll over 60 are exit 78 naming the key,
# while the cashier's commands keep working with the same broken file.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
hq_start
pr init >/dev/null
# an open business date, so that eod has to talk to HQ
printf '{"txn_id":"S0001-R01-1","kind":"cash_and_carry","business_date":"2026-11-25","currency":"EUR","customer":null,"lines":[{"sku":"S","qty":1,"unit_price_minor":100}],"tenders":[{"type":"cash","amount_minor":100}],"total_minor":100}' |
	pr txn record --from-json - >/dev/null
cp "$CONF" "$T/good.conf"
tok=$(sed -n 's/^token_file *= *//p' "$CONF")

broken() { # NAME KEY-REGEX: every HQ command is 78 naming it; create still works
	local name=$1 re=$2 cmd
	check "$name"
	for cmd in sync run "eod --timeout 1"; do
		# shellcheck disable=SC2086
		expect_rc 78 pr $cmd
		expect_err "$re"
	done
	expect_rc 0 pr customer create --first-name Ana
	cp "$T/good.conf" "$CONF"
}

sed -i 's#^url *= *https://#url = http://#' "$CONF"
broken "an http:// URL" "url.*https"
chmod 0644 "$tok"
broken "a token file readable by others" "token_file"
chmod 0600 "$tok"
sed -i "s#^ca_file *=.*#ca_file = $T/missing-ca.pem#" "$CONF"
broken "a missing CA file" "ca_file"
conf_set "$CONF" sync batch_size 501
broken "batch_size over 500" "batch_size"
conf_set "$CONF" sync long_poll 61
broken "long_poll over 60" "long_poll"
conf_set "$CONF" sync retry_max soon
broken "a value that is not a number" "retry_max"

check "and with the good file, sync works and the token never shows"
expect_rc 0 pr sync
if grep -qF "$(cat "$tok")" "$T/out" "$T/err"; then fail "the token was printed"; fi
echo ok
