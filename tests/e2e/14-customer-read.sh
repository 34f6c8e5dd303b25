#!/bin/bash
# 14-customer-read: `posagent customer show|list|search`, text and JSON.
#
# What happens: a few customers are made here (one synced, one rejected,
# one with addresses) and one is inserted as HQ would send it for the
# store's cache (no async id, no local number); they are shown, listed
# and searched in every way AGENT.md names.
# What must hold: show finds a customer by async id, local number or
# account and prints its state, account, addresses and last HQ error; list
# is newest first, filters by state, default limit 100; search matches
# 3+ characters anywhere in name, email, phone digits (ignoring spaces and
# +-()), local number or account, and shorter text only at word starts;
# unknown is 65, usage mistakes 64, and none of them writes anything.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
setup
expect_rc 0 pa init

mk() { expect_rc 0 pa --json customer create "$@" && jget .async_id; }
ANA=$(mk --first-name Ana --last-name Silva --email ana.silva@example.com --phone "+351 911 234 567")
mk --first-name Anabela --last-name Reis --email bela@correio.pt --phone "(21) 555-0100" >/dev/null
mk --kind organization --organization "Padaria Central" --email loja@padaria.pt >/dev/null
REJ=$(mk --first-name Rita --email rita@example.org)
SYN=$(mk --first-name Sara --last-name Nunes --phone "+44 20 7946 0958")
sql "UPDATE customer SET state = 'rejected', last_code = 'invalid_email', last_message = 'mailbox unknown'
	WHERE async_id = '$REJ';
	UPDATE customer SET state = 'synced', account = 'C004242' WHERE async_id = '$SYN';
	INSERT INTO customer(account, origin, state, kind, first_name, last_name, email, search_name, created_at,
	updated_at) VALUES ('C000777', 'hq', 'synced', 'person', 'Hugo', 'Quintas', 'hugo@hq.example', 'Hugo Quintas',
	'2026-01-01T00:00:00Z', 0)"
expect_rc 0 pa customer address add R01-000001 --line1 "Rua Augusta 1" --city Lisboa --postal-code 1100-048 \
	--country PT --purpose delivery --primary
before=$(db_sum)

check "show by local number, async id and account: text names state, account, addresses"
expect_rc 0 pa customer show R01-000001
grep -q '^R01-000001  Pending sync$' "$T/out" || fail "show's first line is not 'R01-000001  Pending sync'"
grep -q "async id: *$ANA" "$T/out" && grep -q 'account: *(none yet)' "$T/out" && grep -q 'name: *Ana Silva' "$T/out" &&
	grep -q 'Rua Augusta 1' "$T/out" || fail "show misses the async id, account, name or address"
expect_rc 0 pa customer show "$ANA"
grep -q '^R01-000001 ' "$T/out" || fail "show by async id failed"
expect_rc 0 pa customer show C004242
grep -q '^R01-000005  C004242$' "$T/out" || fail "a synced customer is not shown with its account"
expect_rc 0 pa customer show R01-000004
grep -q "Needs attention" "$T/out" && grep -q "invalid_email: mailbox unknown" "$T/out" ||
	fail "a rejected customer is not shown as needing attention with HQ's error"
expect_rc 0 pa customer show C000777
grep -q "C000777" "$T/out" && grep -q "Hugo Quintas" "$T/out" || fail "an HQ customer is not shown"

check "show --json: the AGENT.md customer shape"
expect_rc 0 pa --json customer show R01-000001
jq -e '(keys | sort) == (["async_id","local_number","account","state","kind","first_name","last_name",
	"organization_name","email","phone","language","attributes","addresses","created_at","last_error",
	"pending_update","update_error"] | sort)' \
	"$T/out" >/dev/null || fail "show --json keys differ from AGENT.md"
jq -e --arg a "$ANA" '.async_id == $a and .state == "pending" and (.addresses | length) == 1
	and (.addresses[0] | .customer == {"async_id": $a} and .purpose == "delivery" and .primary == true
	and .line1 == "Rua Augusta 1" and .line2 == null and .city == "Lisboa" and .region == null
	and .postal_code == "1100-048" and .country == "PT" and .state == "pending" and .last_error == null
	and (.async_id | length) == 36)' "$T/out" >/dev/null || fail "show --json values are wrong"
expect_rc 0 pa customer show R01-000004 --json
jq -e '.state == "rejected" and .last_error == {"code": "invalid_email", "message": "mailbox unknown"}' "$T/out" \
	>/dev/null || fail "show --json of a rejected customer lacks last_error"
expect_rc 0 pa --json customer show C000777
jq -e '.async_id == null and .local_number == null and .account == "C000777" and .state == "synced"' "$T/out" \
	>/dev/null || fail "an HQ customer must have async_id and local_number null"

check "show: unknown is 65, ambiguous is 65 naming both, usage mistakes 64"
expect_rc 65 pa customer show R01-000099
expect_err "R01-000099"
expect_rc 65 pa --json customer show nobody
expect_json_err unknown_customer customer
sql "UPDATE customer SET account = 'R01-000002' WHERE async_id = '$SYN'"
expect_rc 65 pa customer show R01-000002
expect_err "more than one customer.*R01-000002.*R01-000005|more than one customer.*R01-000005.*R01-000002"
expect_rc 65 pa --json customer show R01-000002
expect_json_err ambiguous_customer customer
sql "UPDATE customer SET account = 'C004242' WHERE async_id = '$SYN'"
before=$(db_sum)
expect_rc 64 pa customer show
expect_err "missing"
expect_rc 64 pa customer show R01-000001 R01-000002
expect_err "unexpected argument"
expect_rc 64 pa customer show R01-000001 --limit 3
expect_rc 64 pa customer show R01-000001 --state pending
expect_rc 64 pa customer show R01-000001 --verbose
expect_err "unknown option"
expect_rc 0 pa customer show --help

check "list: newest first, text one line each, JSON an array of customers"
expect_rc 0 pa customer list
[ "$(wc -l <"$T/out")" = 6 ] || fail "list shows $(wc -l <"$T/out") lines, not 6"
[ "$(awk '{print $1}' "$T/out" | tr '\n' ' ')" = "- R01-000005 R01-000004 R01-000003 R01-000002 R01-000001 " ] ||
	fail "list is not newest first"
grep -q '^R01-000005 *C004242 ' "$T/out" && grep -q '^R01-000004 *Needs attention ' "$T/out" &&
	grep -q '^R01-000001 *Pending sync *Ana Silva ' "$T/out" || fail "list lines lack the cashier's state labels"
expect_rc 0 pa --json customer list
jq -e 'type == "array" and length == 6 and (map(.account // .local_number) == ["C000777","C004242","R01-000004",
	"R01-000003","R01-000002","R01-000001"]) and (.[5].addresses | length) == 1' "$T/out" >/dev/null ||
	fail "list --json is not the 6 customers newest first"

check "list and search JSON: each customer exactly as show prints it (addresses and updates on the right one)"
# the documents of a list are completed together (one statement for all
# their updates, one for all their addresses): each must get its own
expect_rc 0 pa customer address add R01-000003 --line1 "Rua do Pão 3" --city Porto --postal-code 4000-001 --country PT --purpose invoice
expect_rc 0 pa customer address add R01-000003 --line1 "Armazém 4" --city Maia --postal-code 4470-001 --country PT --purpose delivery
expect_rc 0 pa customer edit C004242 --language en-GB
expect_rc 0 pa --json customer list
cp "$T/out" "$T/list.json"
jq -e '(.[1].pending_update == true) and (.[3].addresses | length) == 2 and (.[0].addresses | length) == 0' \
	"$T/list.json" >/dev/null || fail "list --json did not put the update and the addresses on their customers"
for i in 0 1 2 3 4 5; do
	ref=$(jq -r ".[$i].account // .[$i].local_number" "$T/list.json")
	expect_rc 0 pa --json customer show "$ref"
	cmp -s <(jq -S ".[$i]" "$T/list.json") <(jq -S . "$T/out") || fail "list's $ref differs from show's"
done
expect_rc 0 pa --json customer search a
for i in $(seq 0 $(($(jget length) - 1))); do
	ref=$(jq -r ".[$i].account // .[$i].local_number" "$T/out")
	jq -S ".[$i]" "$T/out" >"$T/one.json"
	expect_rc 0 pa --json customer show "$ref"
	cmp -s "$T/one.json" <(jq -S . "$T/out") || fail "search's $ref differs from show's"
	expect_rc 0 pa --json customer search a
done
before=$(db_sum)

check "list --state and --limit"
expect_rc 0 pa --json customer list --state pending
[ "$(jget 'map(.local_number) | join(",")')" = "R01-000003,R01-000002,R01-000001" ] || fail "--state pending is wrong"
expect_rc 0 pa --json customer list --state synced
[ "$(jget 'map(.account) | join(",")')" = "C000777,C004242" ] || fail "--state synced is wrong"
expect_rc 0 pa --json customer list --state rejected --limit 1
[ "$(jget 'map(.local_number) | join(",")')" = "R01-000004" ] || fail "--state rejected is wrong"
expect_rc 0 pa --json customer list --state uploaded
[ "$(jget length)" = 0 ] || fail "--state uploaded is not empty"
expect_rc 0 pa customer list --state uploaded
[ ! -s "$T/out" ] || fail "an empty text list printed data"
expect_rc 0 pa --json customer list --limit 2
[ "$(jget 'map(.account // .local_number) | join(",")')" = "C000777,C004242" ] || fail "--limit 2 is wrong"

check "list usage mistakes are 64"
for bad in "--state gone" "--state" "--limit 0" "--limit -1" "--limit ten" "--limit 10001" "--limit" "extra" "--sort name"; do
	# shellcheck disable=SC2086
	expect_rc 64 pa customer list $bad
	expect_err "."
done
expect_rc 64 pa --json customer list --limit 0
expect_json_err usage
expect_rc 0 pa customer list --help

# search TEXT [ARGS]: prints the matches' account or local number, in order.
found() {
	expect_rc 0 pa --json customer search "$@"
	jq -r 'map(.account // .local_number) | join(" ")' "$T/out"
}
want() { # TEXT EXPECTED
	local got
	got=$(found "$1")
	[ "$got" = "$2" ] || fail "search '$1' found '$got', expected '$2'"
}

check "search, 3+ characters: anywhere in the name, email, phone digits, local number, account"
want "abel" "R01-000002"
want "ILV" "R01-000001"
want "na Si" ""   # two words now: "na" starts no word
want "ana Si" "R01-000001"
want "Central" "R01-000003"
want "adaria" "R01-000003"
want "correio" "R01-000002"
want "example.org" "R01-000004"
want "@example" "R01-000004 R01-000001"
want "911 234" "R01-000001"
want "1234567" "R01-000001"
want "+351 911-234-567" "R01-000001"
want "(351) 911" "R01-000001"
want "5550100" "R01-000002"
want "555-01" "R01-000002"
want "7946" "C004242"
want "00004" "R01-000004"
want "R01-000003" "R01-000003"
want "004242" "C004242"
want "0777" "C000777"
want "Quint" "C000777"
want "zzz" ""

check "search, 1 or 2 characters: only at the start of a word"
want "An" "R01-000002 R01-000001"
want "na" ""
want "il" ""
want "Si" "R01-000001"
want "q" "C000777"
want "C0" "C000777 C004242"
want "91" "R01-000001"
want "lo" "R01-000003"

check "search text output, --limit, odd text"
expect_rc 0 pa customer search silva
[ "$(wc -l <"$T/out")" = 1 ] && grep -q '^R01-000001 *Pending sync *Ana Silva *ana.silva@example.com' "$T/out" ||
	fail "text search output is wrong"
expect_rc 0 pa customer search zzzz
[ ! -s "$T/out" ] || fail "a search with no match printed data"
[ "$(found Ana --limit 1)" = "R01-000002" ] || fail "search --limit 1 is wrong"
for odd in '"' 'a"b' 'AND' 'silva OR' '*' 'NEAR(a b)' "a'; DROP TABLE customer;--" '(' '-'; do
	expect_rc 0 pa --json customer search "$odd"
	jq -e 'type == "array"' "$T/out" >/dev/null || fail "search '$odd' did not print an array"
done
expect_rc 64 pa customer search
expect_err "missing"
expect_rc 64 pa customer search a b
expect_rc 64 pa customer search ana --limit 0
expect_rc 64 pa customer search ana --state pending
expect_rc 0 pa customer search --help
[ "$(db_sum)" = "$before" ] || fail "show, list or search changed the database"

check "list's default limit is 100"
for i in $(seq 96); do pa customer create --first-name "Many$i" >/dev/null || fail "create Many$i failed"; done
expect_rc 0 pa --json customer list
[ "$(jget length)" = 100 ] || fail "the default list limit is $(jget length), not 100"
[ "$(jget '.[0].first_name + " " + .[99].local_number')" = "Many96 R01-000003" ] || fail "the first 100 are not the newest"
expect_rc 0 pa --json customer list --limit 1000
[ "$(jget length)" = 102 ] || fail "--limit 1000 does not show all 102"
expect_rc 0 pa --json customer search many
[ "$(jget length)" = 96 ] || fail "search 'many' finds $(jget length), not 96"

echo "ok"
