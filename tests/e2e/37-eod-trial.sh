#!/bin/bash
# 37-eod-trial: what a new user's trial found wrong in `eod` and
# `sync --verbose` (issue 13), each reproduced.
#
# What happens: an earlier failure is left in the bookkeeping while HQ is
# up; `eod --verbose` posts one of two open dates; `eod --json --date` runs
# for a date without transactions; `sync --verbose` runs; then HQ revokes
# the register's token and `eod` runs with a long timeout.
# What must hold: eod's reasons come from this run's attempts (no stale "HQ
# unreachable"); --verbose logs one line per HQ request (method, path,
# status, ms) and never the token or a body; after posting, eod names the
# dates still open (text and JSON "open_dates"); a date with no transactions
# is "nothing_to_post", exit 0; a refused token makes eod exit 69 at once
# (not at its timeout), saying the token was refused and what to do.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
setup
. "$(dirname "$0")/eodlib.sh"

hq start >/dev/null
TOKEN=$(cat "$H/tokens/S0001-R01.token")
expect_rc 0 pa init
expect_rc 0 pa customer create --first-name Ana --email ana@example.com
sale 1 '{"local_number":"R01-000001"}' 1500 cash
sale 2 '{"local_number":"R01-000001"}' 700 card 2026-11-26
sql "INSERT OR REPLACE INTO meta(key, value) VALUES ('last_error', 'connect to HQ failed: stale trial error'),
	('last_error_at', '2026-11-20T08:00:00Z')"

check "eod --verbose: no stale 'HQ unreachable'; one line per HQ request, no token, no body"
expect_rc 0 pa eod --verbose --date $D --timeout 60
! grep -Eq 'HQ unreachable|stale trial error' "$T/err" || fail "eod showed the stale error: $(cat "$T/err")"
grep -Eq 'HQ POST /v1/stores/S0001/[A-Za-z/0-9-]+ -> 20[01] in [0-9]+ ms' "$T/err" ||
	fail "no request line for a POST: $(cat "$T/err")"
grep -Eq 'HQ GET /v1/[A-Za-z/0-9-]+ -> 200 in [0-9]+ ms' "$T/err" || fail "no request line for a GET"
! grep -Fq "$TOKEN" "$T/err" "$T/out" || fail "the token was printed"
! grep -q '{' "$T/err" || fail "a body was logged"

check "after posting, eod names the dates still open"
grep -q "^$D posted: posting P" "$T/out" || fail "no posting line: $(cat "$T/out")"
grep -q '^still open: 2026-11-26 ' "$T/out" || fail "the open date is not named: $(cat "$T/out")"
grep -q '(statement [0-9a-f-]*, 1 transaction)' "$T/out" || fail "'1 transaction' is not singular"
expect_rc 0 pa --json eod --date $D
jq -e '.result == "posted" and .open_dates == ["2026-11-26"]' "$T/out" >/dev/null ||
	fail "eod --json for a posted date: $(cat "$T/out")"

check "a date with no transactions: nothing_to_post, exit 0"
expect_rc 0 pa --json eod --date 2026-11-01
jq -e '.result == "nothing_to_post" and .posting_id == null and .business_date == "2026-11-01"' "$T/out" \
	>/dev/null || fail "eod --json for an empty date: $(cat "$T/out")"
expect_rc 0 pa eod --date 2026-11-01
grep -q 'nothing to post' "$T/out" || fail "eod for an empty date does not say so"

check "sync --verbose logs its requests"
expect_rc 0 pa sync --verbose
grep -Eq 'HQ GET /v1/stores/S0001/changes -> 200 in [0-9]+ ms' "$T/err" || fail "sync --verbose: $(cat "$T/err")"
expect_rc 0 pa sync
! grep -q 'HQ GET' "$T/err" || fail "sync without --verbose logged requests"

check "a refused token: eod exits 69 at once, saying so and what to do"
expect_rc 0 pa customer create --first-name Rui
sale 3 '{"local_number":"R01-000002"}' 900 cash 2026-11-27
hq_admin() { "$TOP/tests/hq/admin" "$H" "$@"; }
hq_admin revoke '{"store": "S0001", "register": "R01"}' >/dev/null
expect_rc 69 timeout 120 "$POSAGENT_BIN" -c "$H/S0001-R01.conf" eod --date 2026-11-27 --timeout 600
expect_msg "refused this register.s token.*$H/tokens/S0001-R01.token.*posagent doctor"
expect_rc 69 timeout 120 "$POSAGENT_BIN" -c "$H/S0001-R01.conf" --json eod --date 2026-11-27 --timeout 600
jq -e '.error.code == "credentials_refused"' "$T/out" >/dev/null || fail "eod --json on 401: $(cat "$T/out")"
[ "$(sql "SELECT count(*) FROM statement WHERE business_date = '2026-11-27'")" = 0 ] || fail "a statement was frozen"

echo "ok"
