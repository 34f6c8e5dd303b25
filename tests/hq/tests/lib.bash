# tests/hq/tests/lib.bash: sourced by every test of the reference HQ. Each
# test gets its own DIR (mktemp -d), starts its own HQ with hq_start, and
# the EXIT trap stops it and removes DIR (KEEP=1 keeps DIR). Requests go
# through curl with DIR's CA (never -k), so every case is a real TLS
# handshake with the certificate checked. No agent code is used: the
# tests check HQ against HQ-API.md.
set -euo pipefail

TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
HQD=$TOP/tests/hq
export HQ_BIN=${HQ_BIN:-$TOP/build/hq}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/hqtest.XXXXXX")
STATUS= BODY= PORT= BASE= CURL_RC=0

cleanup() {
	local rc=$?
	"$HQD/stop" "$DIR" || true
	# Under SANITIZE=1 builds, a sanitizer report in any HQ log fails the test.
	if grep -rqsE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' \
		--include=hq.log "$DIR"; then
		echo "FAIL: sanitizer report in the HQ log:"
		grep -rhsE -A12 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' --include=hq.log "$DIR" | head -40
		rc=1
	fi
	if [ $rc -ne 0 ] && [ -f "$DIR/hq.log" ]; then
		echo "--- the end of hq.log"
		tail -25 "$DIR/hq.log"
	fi
	[ -n "${KEEP:-}" ] && echo "kept $DIR" || rm -rf "$DIR"
	exit $rc
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; [ -n "$BODY" ] && echo "last reply ($STATUS): $BODY" >&2; exit 1; }
ok() { echo "ok - $*"; }
uuid() { cat /proc/sys/kernel/random/uuid; }
tok() { cat "$DIR/tokens/$1.token"; }
now() { date +%s.%N; }
elapsed() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN{printf "%.2f", e-s}'; }

hq_start() {
	"$HQD/start" "$DIR" "$@"
	PORT=$(cat "$DIR/port")
	BASE="https://localhost:$PORT"
}
hq_stop() { "$HQD/stop" "$DIR"; }
admin() { "$HQD/admin" "$DIR" "$@"; }

# curl_as AS ARGS...: curl with DIR's CA and the bearer token of register
# AS ("S0001-R01"; "" for none; "bad" for an unknown token).
curl_as() {
	local as=$1
	shift
	local auth=()
	case $as in
	'') ;;
	bad) auth=(-H 'Authorization: Bearer not-a-token-hq-knows') ;;
	*) auth=(-H "@$DIR/auth-$as") ;;
	esac
	if [ -n "$as" ] && [ "$as" != bad ] && [ ! -f "$DIR/auth-$as" ]; then
		# made aside, then renamed: parallel callers (a burst) must never
		# read it half-written (one did, and sent an empty token: 401)
		printf 'Authorization: Bearer %s\n' "$(tok "$as")" >"$DIR/auth-$as.$BASHPID"
		mv -f "$DIR/auth-$as.$BASHPID" "$DIR/auth-$as"
	fi
	curl -sS --cacert "$DIR/ca.pem" --max-time 90 "${auth[@]}" "$@"
}

# get PATH AS [curl args]: GET; sets STATUS, BODY and CURL_RC (curl's exit
# status), headers in DIR/headers.
get() {
	local path=$1 as=$2
	shift 2
	: >"$DIR/body"
	STATUS=$(curl_as "$as" -o "$DIR/body" -D "$DIR/headers" -w '%{http_code}' "$@" "$BASE$path") &&
		CURL_RC=0 || CURL_RC=$?
	BODY=$(cat "$DIR/body")
}

# post PATH AS JSON [KEY] [curl args]: POST JSON with Idempotency-Key KEY
# (default a fresh UUID; "none" for no header, "empty" for an empty one).
# Sets STATUS and BODY.
post() {
	local path=$1 as=$2 json=$3 key=${4:-$(uuid)}
	shift $(($# < 4 ? $# : 4))
	local hk=()
	case $key in
	none) ;;
	empty) hk=(-H "Idempotency-Key;") ;;
	*) hk=(-H "Idempotency-Key: $key") ;;
	esac
	printf '%s' "$json" >"$DIR/request.json"
	: >"$DIR/body"
	STATUS=$(curl_as "$as" -o "$DIR/body" -D "$DIR/headers" -w '%{http_code}' \
		-H 'Content-Type: application/json' "${hk[@]}" --data-binary "@$DIR/request.json" \
		"$@" "$BASE$path") && CURL_RC=0 || CURL_RC=$?
	BODY=$(cat "$DIR/body")
}

# header NAME: the value of response header NAME of the last request.
header() { tr -d '\r' <"$DIR/headers" | sed -n "s/^$1: //Ip" | tail -1; }

# jb FILTER: jq -r FILTER over the last reply body.
jb() { jq -r "$1" <<<"$BODY"; }

# expect_status CODE WHAT: the last reply had status CODE.
expect_status() { [ "$STATUS" = "$1" ] || fail "$2: status $STATUS, expected $1"; }

# expect_error STATUS CODE WHAT: an error reply of that status and code.
expect_error() {
	expect_status "$1" "$3"
	[ "$(jb .error.code)" = "$2" ] || fail "$3: error code $(jb .error.code), expected $2"
	[ -n "$(jb .error.message)" ] || fail "$3: no error message"
}

eq() { [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"; }

# state FILTER: jq -r FILTER over the admin state document.
state() { admin state | jq -r "$1"; }

batches() { echo "/v1/stores/${1%-*}/registers/${1#*-}/batches"; }
statements() { echo "/v1/stores/${1%-*}/registers/${1#*-}/statements"; }

# Records shaped as HQ-API.md's examples; jq programs after the arguments
# adjust them (e.g. customer ID '.email = "x"').
customer() {
	jq -nc --arg id "$1" --arg ln "${3:-R01-000001}" '{type: "customer", async_id: $id,
	  local_number: $ln, created_at: "2026-11-25T09:14:03Z", kind: "person",
	  first_name: "Ana", last_name: "Silva", organization_name: null,
	  email: "ana@example.com", phone: "+351 911 234 567", language: "pt-PT",
	  attributes: {loyalty_opt_in: "yes"}}' | jq -c "${2:-.}"
}
address() {
	jq -nc --arg id "$1" --arg c "$2" '{type: "address", async_id: $id,
	  customer: {async_id: $c}, purpose: "delivery", primary: true,
	  line1: "Rua Augusta 1", line2: null, city: "Lisboa", region: null,
	  postal_code: "1100-048", country: "PT"}' | jq -c "${3:-.}"
}
# txn ID [CUSTOMER_ASYNC_ID|""] [DATE] [JQ]: a cash sale of 2 x 1299 in cash.
txn() {
	jq -nc --arg id "$1" --arg c "${2:-}" --arg d "${3:-2026-11-25}" '{type: "transaction",
	  txn_id: $id, kind: "cash_and_carry", business_date: $d,
	  created_at: "2026-11-25T10:02:00Z", currency: "EUR",
	  customer: (if $c == "" then null else {async_id: $c} end),
	  lines: [{sku: "SKU-1", qty: 2, unit_price_minor: 1299}],
	  tenders: [{type: "cash", amount_minor: 2598}], total_minor: 2598}' | jq -c "${4:-.}"
}
# batch RECORD...: {"batch_id": fresh UUID, "records": [RECORD...]}, the
# records kept as written (jq would rewrite 2.0 as 2).
batch() {
	local IFS=,
	printf '{"batch_id":"%s","records":[%s]}' "$(uuid)" "$*"
}
# statement SID DATE TXN_IDS_JSON COUNT SALES BY_TENDER_JSON
statement() {
	jq -nc --arg s "$1" --arg d "$2" --argjson t "$3" --argjson n "$4" --argjson m "$5" \
		--argjson b "$6" '{statement_id: $s, business_date: $d, currency: "EUR",
	  transaction_count: $n, transactions: $t, totals: {sales_minor: $m, by_tender: $b}}'
}
