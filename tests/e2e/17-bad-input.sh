#!/bin/bash
# 17-bad-input: the command line and input files at their limits.
#
# What happens: the agent gets unknown commands and options, missing
# values, --json in each place, a 100 KB argument, JSON files of 1 MiB and
# of 10 MB (from a file and from stdin), JSON nested 10,000 deep, and
# values holding a newline that a message would echo.
# What must hold: each is refused with its exit code (64 usage, 65 input),
# a one-line message naming the problem (with --json: the error document
# on stdout and the message on stderr), no crash, and nothing stored.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
setup
expect_rc 0 pa init
expect_rc 0 pa customer create --first-name Ana
before=$(db_sum)

check "global usage: --version, --help, no command, unknown command or option"
expect_rc 0 "$POSAGENT_BIN" --version
grep -Eq '^posagent [0-9]+\.[0-9]+' "$T/out" || fail "--version does not print 'posagent VERSION'"
expect_rc 0 "$POSAGENT_BIN" --help
grep -q "customer" "$T/out" && grep -q "init" "$T/out" || fail "--help does not list the commands"
expect_rc 64 "$POSAGENT_BIN"
grep -q "usage: posagent" "$T/err" || fail "no command does not print the usage"
expect_rc 64 pa frobnicate
expect_err "unknown command.*frobnicate"
expect_rc 64 pa --frobnicate customer list
expect_err "unknown option.*--frobnicate"
expect_rc 64 pa -x customer list
expect_err "unknown option.*-x"
expect_rc 64 pa --json frobnicate
expect_json_err usage

check "--json before or after the command gives one JSON document"
expect_rc 0 pa --json customer list
jq -e 'type == "array" and length == 1' "$T/out" >/dev/null || fail "--json before: no array"
expect_rc 0 pa customer list --json
jq -e 'type == "array" and length == 1' "$T/out" >/dev/null || fail "--json after: no array"
expect_rc 0 pa customer show --json R01-000001
jq -e '.local_number == "R01-000001"' "$T/out" >/dev/null || fail "--json between: no customer"
expect_rc 0 pa customer search ana --json
[ "$(jget length)" = 1 ] || fail "search --json: no array"
expect_rc 65 pa customer show R01-000009 --json
expect_json_err unknown_customer customer

check "a 100 KB argument is 64 before anything else (nothing stored)"
# Linux refuses any single argument over MAX_ARG_STRLEN (131072 bytes) at
# execve, so the issue's "10 MB argument" cannot reach the agent: 100 KB
# stands for it. The agent's own limit is 65536 bytes (CLI_MAX_ARG).
big=$(head -c 100000 /dev/zero | tr '\0' a)
expect_rc 64 pa customer create --first-name "$big"
expect_err "longer than 65536"
expect_rc 64 pa customer search "$big"
expect_err "longer than 65536"
expect_rc 64 pa customer show "$big"
expect_rc 64 pa customer create "--email=$big"
expect_rc 64 pa "$big"
expect_rc 64 "$POSAGENT_BIN" -c "$big" customer list
expect_err "longer than 65536"
[ "$(wc -c <"$T/err")" -lt 1000 ] || fail "the refusal echoes the long argument"
# the limit itself: 65536 bytes pass the length check (and then fail
# validation with 65), 65537 are refused with 64
expect_rc 65 pa customer create --first-name "${big:0:65536}"
expect_err "first_name"
expect_rc 64 pa customer create --first-name "${big:0:65537}"
[ "$(db_sum)" = "$before" ] || fail "a long argument changed the database"

check "JSON files: 1 MiB is accepted, over 1 MiB and 10 MB are 65 too_large, nothing stored"
# mkjson SIZE FILE: a valid customer record of exactly SIZE bytes.
mkjson() {
	local head='{"first_name": "Big", "language": "en"'
	{ printf '%s%*s' "$head" $(($1 - ${#head} - 2)) ''; printf '}\n'; } >"$2"
	[ "$(wc -c <"$2")" -eq "$1" ] || fail "test bug: $2 is not $1 bytes"
}
mkjson $((1024 * 1024)) "$T/1m.json"
expect_rc 0 pa customer create --from-json "$T/1m.json"
mkjson $((1024 * 1024 + 1)) "$T/1m1.json"
before=$(db_sum)
expect_rc 65 pa customer create --from-json "$T/1m1.json"
expect_err "larger than"
mkjson $((10 * 1024 * 1024)) "$T/10m.json"
expect_rc 65 pa customer create --from-json "$T/10m.json"
expect_err "larger than"
expect_rc 65 pa --json customer create --from-json "$T/10m.json"
expect_json_err too_large file
expect_rc 65 pa customer create --from-json - <"$T/10m.json"
expect_err "larger than"
expect_rc 65 pa customer edit R01-000001 --from-json "$T/10m.json"
expect_rc 65 pa txn record --from-json "$T/10m.json"
expect_err "larger than"
expect_rc 65 pa --json txn record --from-json - <"$T/10m.json"
expect_json_err too_large file
[ "$(db_sum)" = "$before" ] || fail "a too large file changed the database"

check "JSON nested 10,000 deep is 65, no crash, nothing stored"
{ printf '{"first_name": "Deep", "attributes": '; printf '{"a": %.0s' $(seq 10000); printf '1'; printf '}%.0s' $(seq 10000); printf '}'; } >"$T/deep.json"
{ printf '[%.0s' $(seq 10000); printf ']%.0s' $(seq 10000); } >"$T/deeparr.json"
for f in deep deeparr; do
	expect_rc 65 pa customer create --from-json "$T/$f.json"
	expect_err "JSON|nested"
	expect_rc 65 pa --json txn record --from-json "$T/$f.json"
	expect_json_err invalid_json
	expect_rc 65 pa customer edit R01-000001 --from-json "$T/$f.json"
done
[ "$(db_sum)" = "$before" ] || fail "deep JSON changed the database"

check "files that are not JSON, empty or binary are 65"
: >"$T/empty.json"
head -c 4096 /dev/urandom >"$T/random.json"
printf '\xef\xbb\xbf{"first_name": "Bom"' >"$T/bom.json"
for f in empty random bom; do
	expect_rc 65 pa customer create --from-json "$T/$f.json"
	expect_err "."
	expect_rc 65 pa txn record --from-json "$T/$f.json"
done
expect_rc 65 pa customer create --from-json - </dev/null
[ "$(db_sum)" = "$before" ] || fail "a file that is not JSON changed the database"

check "wrong types in a customer record are 65 naming the field"
while read -r field rec; do
	expect_rc 65 pa --json customer create --from-json - <<<"$rec"
	[ "$(jget .error.field)" = "$field" ] || fail "$rec: error.field is not $field"
	expect_err "$field"
done <<'EOF'
first_name {"first_name": ["Ana"]}
email {"first_name": "Ana", "email": 42}
phone {"first_name": "Ana", "phone": 351911234567}
kind {"kind": true, "first_name": "Ana"}
first_name {"first_name": {"x": 1}}
attributes {"first_name": "Ana", "language": null, "attributes": "x"}
last_name {"first_name": "Ana", "last_name": false}
EOF
[ "$(db_sum)" = "$before" ] || fail "wrong types changed the database"

check "an input file that cannot be read is refused with a code from AGENT.md's table, naming it"
# AGENT.md's exit codes have no 66 (EX_NOINPUT); the message must name the file.
for args in "customer create --from-json $T/missing.json" "txn record --from-json $T/missing.json" \
	"customer create --from-json $T"; do
	rc=0
	# shellcheck disable=SC2086
	pa $args >"$T/out" 2>"$T/err" || rc=$?
	LAST_CMD="pa $args"
	case $rc in 64 | 65 | 74) ;; *) fail "exit $rc is not one of AGENT.md's codes for bad input (64, 65, 74)" ;; esac
	expect_err "$T"
done

check "--json anywhere: a usage error after it, or before it, still gives the error document"
expect_rc 64 pa customer create --first-name Ana --frobnicate --json
expect_json_err usage
expect_rc 64 pa customer list --limit 0 --json
expect_json_err usage
expect_rc 64 pa txn record --bogus --json
expect_json_err usage

check "with --json a 100 KB argument still gives the error document"
expect_rc 64 pa --json customer create --first-name "$big"
expect_json_err usage

check "trailing data after the JSON document is 65, nothing stored"
before=$(db_sum)
printf '{"first_name": "Ana"} {"first_name": "Bo"}' >"$T/two.json"
printf '{"first_name": "Ana"}\n}garbage' >"$T/tail.json"
for f in two tail; do
	expect_rc 65 pa customer create --from-json "$T/$f.json"
	expect_err "JSON"
	expect_rc 65 pa customer edit R01-000001 --from-json "$T/$f.json"
done
jq -c '.txn_id = "S0001-R01-000001"' <<<'{"kind": "cash_and_carry", "business_date": "2026-11-25", "currency": "EUR",
	"customer": null, "lines": [{"sku": "S", "qty": 1, "unit_price_minor": 1}],
	"tenders": [{"type": "cash", "amount_minor": 1}], "total_minor": 1}' >"$T/sale.json"
{ cat "$T/sale.json"; echo ' trailing words'; } >"$T/sale-tail.json"
expect_rc 65 pa txn record --from-json "$T/sale-tail.json"
expect_err "JSON"
[ "$(db_sum)" = "$before" ] || fail "a file with trailing data changed the database"

check "a message echoing a value with a newline is still one line"
expect_rc 65 pa customer show "$(printf 'R01\nforged line')"
expect_err "R01"
expect_rc 65 pa customer address edit "$(printf 'x\ny')" --city Porto
expect_err "x"
expect_rc 64 pa "$(printf 'frob\nnicate')"
expect_err "frob"

echo "ok"
