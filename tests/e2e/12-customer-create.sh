#!/bin/bash
# 12-customer-create: `posagent customer create`, from options and from
# --from-json, in text and JSON.
#
# What happens: customers are created offline with every option, then with
# bad values (one rule of HQ-API.md's table at a time), then from JSON
# records (with and without the POS's own async_id, retried, reused), and
# with the same email or phone as customers the register already knows.
# What must hold: a good customer is stored pending with a fresh UUID and
# the next local number R01-NNNNNN and printed (text line / AGENT.md JSON
# shape); bad input is 65 (64 for usage) with one line naming the field,
# and stores nothing; possible duplicates are named and the create still
# happens; the same --from-json record again is 0 with nothing added, a
# different record under its async_id is 65.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
setup
expect_rc 0 pa init

UUID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
ncust() { sql 'SELECT count(*) FROM customer'; }

check "text: prints 'created', the local number, the async id and 'Pending sync'"
expect_rc 0 pa customer create --first-name Ana --last-name Silva --email ana@example.com \
	--phone "+351 911 234 567" --language pt-PT --attr loyalty_opt_in=yes --attr tier=gold
grep -Eq '^created R01-000001  async id [0-9a-f-]{36}  Pending sync$' "$T/out" || fail "unexpected create output"
ANA=$(awk '{print $5}' "$T/out")
[[ $ANA =~ $UUID_RE ]] || fail "async id $ANA is not a version 4 UUID"
[ ! -s "$T/err" ] || fail "a clean create wrote to stderr"
row=$(sql "SELECT local_number, origin, state, kind, first_name, last_name, email, phone, language, attributes,
	account IS NULL, waiting_since IS NOT NULL, batch_id IS NULL FROM customer WHERE async_id = '$ANA'")
[ "$row" = 'R01-000001|local|pending|person|Ana|Silva|ana@example.com|+351 911 234 567|pt-PT|{"loyalty_opt_in":"yes","tier":"gold"}|1|1|1' ] ||
	fail "stored row is $row"

check "JSON: the AGENT.md customer shape plus possible_duplicates"
expect_rc 0 pa --json customer create --kind organization --organization "Padaria Lda" --email loja@padaria.pt
jq -e '(keys | sort) == (["async_id","local_number","account","state","kind","first_name","last_name",
	"organization_name","email","phone","language","attributes","addresses","created_at","last_error",
	"pending_update","update_error","possible_duplicates"] | sort)' "$T/out" >/dev/null || fail "customer JSON keys differ from AGENT.md"
jq -e '.local_number == "R01-000002" and .account == null and .state == "pending" and .kind == "organization"
	and .organization_name == "Padaria Lda" and .first_name == null and .attributes == {} and .addresses == []
	and .last_error == null and .possible_duplicates == []
	and (.created_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"))' "$T/out" >/dev/null ||
	fail "customer JSON values are wrong"
[[ $(jget .async_id) =~ $UUID_RE ]] || fail "JSON async_id is not a UUID"
# create prints what it stored (from the INSERT itself): the same document,
# key for key and in the same order, as show reads back
jq 'del(.possible_duplicates)' "$T/out" >"$T/created.json"
expect_rc 0 pa --json customer show R01-000002
cmp -s <(jq . "$T/created.json") <(jq . "$T/out") ||
	fail "create printed a document that differs from show's: $(diff <(jq . "$T/created.json") <(jq . "$T/out") | head -5)"
expect_rc 0 pa customer create --first-name Bo --json
[ "$(jget .local_number)" = R01-000003 ] || fail "--json after the command: no JSON, or numbering skipped"
[ "$(ncust)" = 3 ] || fail "expected 3 customers"

check "limits that are allowed: 100-character names (code points), 20 attributes, a 32-character phone"
long=$(printf 'é%.0s' $(seq 100))
attrs=()
for i in $(seq 20); do attrs+=(--attr "k$i=$(printf 'v%.0s' $(seq 200))"); done
expect_rc 0 pa customer create --first-name "$long" --last-name "O'Brien; DROP TABLE customer;--" \
	--phone "+351 (911) 234-567 000 000 00000" "${attrs[@]}"
[ "$(sql "SELECT count(*) FROM customer WHERE last_name = 'O''Brien; DROP TABLE customer;--'")" = 1 ] ||
	fail "a name with SQL in it was not stored verbatim"
[ "$(ncust)" = 4 ] || fail "expected 4 customers"

# refused RC CODE FIELD ARGS...: the create is refused with RC (and
# --json with CODE/FIELD) and nothing is stored.
refused() {
	local rc=$1 code=$2 field=$3 before
	shift 3
	before=$(db_sum)
	expect_rc "$rc" pa customer create "$@"
	[ -n "$field" ] && expect_err "$field" || expect_err "."
	expect_rc "$rc" pa --json customer create "$@"
	expect_json_err "$code" "$field"
	[ "$(db_sum)" = "$before" ] || fail "a refused create changed the database"
}

check "each validation rule refuses with 65, names the field, stores nothing"
refused 65 missing_name first_name --email nobody@example.com
refused 65 missing_name organization_name --kind organization --first-name Ana
refused 65 invalid_record kind --kind robot --first-name Ana
refused 65 invalid_name last_name --last-name "$(printf 'x%.0s' $(seq 101))"
refused 65 invalid_name first_name --first-name "$long$long"
refused 65 invalid_email email --first-name Ana --email ana.example.com
refused 65 invalid_email email --first-name Ana --email "ana@@example.com"
refused 65 invalid_email email --first-name Ana --email "ana@example"
refused 65 invalid_email email --first-name Ana --email "$(printf 'a%.0s' $(seq 243))@example.com"
refused 65 invalid_phone phone --first-name Ana --phone "12345"
refused 65 invalid_phone phone --first-name Ana --phone "+351 911 234 567 ext 9"
refused 65 invalid_phone phone --first-name Ana --phone "$(printf '1%.0s' $(seq 33))"
refused 65 invalid_attribute attributes --first-name Ana --attr Bad-Key=1
refused 65 invalid_attribute attributes.k --first-name Ana --attr "k=$(printf 'v%.0s' $(seq 201))"
refused 65 invalid_attribute attributes --first-name Ana "${attrs[@]}" --attr k21=x
refused 65 invalid_text first_name --first-name "$(printf 'An\ta')"
refused 65 invalid_text last_name --first-name Ana --last-name "$(printf 'Sil\001va')"
refused 65 invalid_text first_name --first-name "$(printf 'An\xffa')"

check "usage mistakes are 64"
before=$(db_sum)
expect_rc 64 pa customer create --first-name Ana --attr novalue
expect_err "--attr"
expect_rc 64 pa customer create --first-name Ana stray
expect_err "unexpected argument.*stray"
expect_rc 64 pa customer create --firstname Ana
expect_err "unknown option.*--firstname"
expect_rc 64 pa customer create --first-name
expect_err "missing value.*--first-name"
expect_rc 64 pa customer create --from-json "$T/x.json" --first-name Ana
expect_err "from-json"
expect_rc 64 pa customer frobnicate
expect_err "unknown customer command.*frobnicate"
expect_rc 64 pa customer
expect_err "missing customer command"
expect_rc 0 pa customer create --help
grep -q -- "--first-name" "$T/out" || fail "create --help does not list the options"
expect_rc 0 pa customer --help
grep -q "customer search" "$T/out" || fail "customer --help does not list the commands"
[ "$(db_sum)" = "$before" ] || fail "a usage mistake changed the database"

check "possible duplicates (same email in any case, same phone digits) are named; the create happens"
n=$(ncust)
expect_rc 0 pa customer create --first-name Ana2 --email ANA@Example.COM
grep -q '^created R01-' "$T/out" || fail "the duplicate was not created"
grep -qx 'possible duplicate: R01-000001 (same email)' "$T/out" || fail "the same-email duplicate is not named"
[ "$(ncust)" = $((n + 1)) ] || fail "the duplicate was not stored"
expect_rc 0 pa --json customer create --first-name Ana3 --phone "(351) 911-234-567"
jq -e --arg a "$ANA" '.possible_duplicates == [{"async_id": $a, "local_number": "R01-000001", "account": null,
	"reason": "same_phone"}]' "$T/out" >/dev/null || fail "the same-phone duplicate is not named in JSON"
expect_rc 0 pa --json customer create --first-name Ana4 --phone 351911234567 --email ana@example.COM
jq -e '[.possible_duplicates[] | select(.local_number == "R01-000001") | .reason] | sort == ["same_email","same_phone"]' \
	"$T/out" >/dev/null || fail "a customer with the same email and phone is not named for both"
jq -e '[.possible_duplicates[] | .local_number] | index("R01-000005") != null' "$T/out" >/dev/null ||
	fail "the earlier same-email customer R01-000005 is not named"
# A customer HQ sent for the store's cache: named by its account.
sql "INSERT INTO customer(account, origin, state, kind, first_name, email, phone, phone_digits, search_name,
	created_at, updated_at) VALUES ('C000777', 'hq', 'synced', 'person', 'Rui', 'rui@example.com', '+351 222 333 444',
	'351222333444', 'Rui', '2026-01-01T00:00:00Z', 0)"
expect_rc 0 pa customer create --first-name Rui2 --phone "+351222333444"
grep -qx 'possible duplicate: C000777 (same phone)' "$T/out" || fail "an HQ customer is not named by its account"
expect_rc 0 pa --json customer create --first-name Rui3 --email Rui@Example.com
jq -e '.possible_duplicates | map(select(.account == "C000777" and .async_id == null and .local_number == null
	and .reason == "same_email")) | length == 1' "$T/out" >/dev/null || fail "HQ duplicate JSON is wrong"
expect_rc 0 pa --json customer create --first-name Unique --email unique@example.com --phone "+44 20 7946 0000"
jq -e '.possible_duplicates == []' "$T/out" >/dev/null || fail "a unique customer has possible duplicates"

check "--from-json FILE: a record with the POS's own async_id is stored under it"
OWN=0b7c5e1e-8a3f-4d3c-9a57-1c2b3d4e5f60
cat >"$T/rec.json" <<EOF
{"type": "customer", "async_id": "$OWN", "created_at": "2026-11-25T09:14:03Z", "kind": "person",
 "first_name": "Joana", "last_name": "Costa", "organization_name": null, "email": "joana@example.com",
 "phone": "+351 933 000 111", "language": "pt-PT", "attributes": {"loyalty_opt_in": "yes"}}
EOF
n=$(ncust)
expect_rc 0 pa customer create --from-json "$T/rec.json"
grep -Eq "^created R01-[0-9]{6}  async id $OWN  Pending sync$" "$T/out" || fail "from-json create output is wrong"
[ "$(sql "SELECT state || ' ' || created_at || ' ' || attributes FROM customer WHERE async_id = '$OWN'")" = \
	'pending 2026-11-25T09:14:03Z {"loyalty_opt_in":"yes"}' ] || fail "from-json record stored wrongly"
LOCAL=$(sql "SELECT local_number FROM customer WHERE async_id = '$OWN'")

check "the same record again: exit 0, nothing added, same local number"
before=$(db_sum)
expect_rc 0 pa customer create --from-json "$T/rec.json"
grep -q "^already recorded $LOCAL  async id $OWN" "$T/out" || fail "a retry does not say 'already recorded'"
expect_rc 0 pa --json customer create --from-json - <"$T/rec.json"
[ "$(jget .local_number)" = "$LOCAL" ] && [ "$(jget .async_id)" = "$OWN" ] || fail "a retry printed another customer"
[ "$(db_sum)" = "$before" ] && [ "$(ncust)" = $((n + 1)) ] || fail "a retry changed the database"

check "a different record under the same async_id is 65 (async_id_reused)"
sed 's/"Costa"/"Cunha"/' "$T/rec.json" >"$T/rec2.json"
expect_rc 65 pa customer create --from-json "$T/rec2.json"
expect_err "async_id"
expect_rc 65 pa --json customer create --from-json "$T/rec2.json"
expect_json_err async_id_reused async_id
[ "$(db_sum)" = "$before" ] || fail "a reused async_id changed the database"

check "--from-json refuses a local_number, a bad async_id, another type, a non-object; stdin works"
printf '{"first_name":"Lu","local_number":"R01-000999"}' >"$T/r.json"
expect_rc 65 pa --json customer create --from-json "$T/r.json"
expect_json_err invalid_record local_number
printf '{"first_name":"Lu","async_id":"not-a-uuid"}' >"$T/r.json"
expect_rc 65 pa customer create --from-json "$T/r.json"
expect_err "async_id"
printf '{"type":"address","first_name":"Lu"}' >"$T/r.json"
expect_rc 65 pa --json customer create --from-json "$T/r.json"
expect_json_err invalid_record type
printf '[{"first_name":"Lu"}]' >"$T/r.json"
expect_rc 65 pa customer create --from-json "$T/r.json"
expect_err "object"
printf '{"first_name":"Lu",' >"$T/r.json"
expect_rc 65 pa --json customer create --from-json "$T/r.json"
expect_json_err invalid_json
printf '{"first_name": 5}' >"$T/r.json"
expect_rc 65 pa customer create --from-json "$T/r.json"
expect_err "first_name"
printf '{"first_name":"Lu","attributes":{"a":1}}' >"$T/r.json"
expect_rc 65 pa customer create --from-json "$T/r.json"
expect_err "attributes"
printf '{"first_name":"Lu","attributes":["a"]}' >"$T/r.json"
expect_rc 65 pa customer create --from-json "$T/r.json"
expect_err "attributes"
[ "$(db_sum)" = "$before" ] || fail "a refused --from-json changed the database"
expect_rc 0 pa --json customer create --from-json - <<<'{"first_name": "Lu", "email": "lu@example.com"}'
[ "$(jget .first_name)" = Lu ] && [[ $(jget .async_id) =~ $UUID_RE ]] || fail "create from stdin failed"

check "numbering has no gaps and no repeats"
[ "$(sql "SELECT count(*) = count(DISTINCT local_number) AND max(local_number) = printf('R01-%06d', count(*))
	FROM customer WHERE origin = 'local'")" = 1 ] || fail "local numbers have gaps or repeats"

echo "ok"
