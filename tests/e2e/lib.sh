# tests/e2e/lib.sh: what every end-to-end script shares. Source it from a
# script that runs under `set -euo pipefail`, then call setup:
#
#   . "$(dirname "$0")/lib.sh"
#   setup
#
# setup               makes the temp dir $T (removed on exit) and the config
#                     $T/pos.conf: store S0001, register R01, database $DB
#                     ($T/pos.db, not created: run `pa init`). Append to the
#                     config with `cat >>"$T/pos.conf"`.
# pa ARGS...          runs "$POSAGENT_BIN" -c "$T/pos.conf" ARGS...
# expect_rc N CMD...  runs CMD with stdout in $T/out and stderr in $T/err;
#                     fails the test unless it exits N
# expect_err ERE      stderr is one "posagent: " line matching ERE (grep
#                     -Ei), the one-line message, and at most a usage text
# expect_json_err CODE [FIELD]
#                     stdout is one document {"error": {"code": CODE,
#                     "message", "field": FIELD (null when not given)}} and
#                     the message is on stderr too
# jget FILTER [FILE]  jq -r FILTER over $T/out (or FILE); fails on bad JSON
# sql SQL...          sqlite3 on $DB
# db_sum              a checksum of every row in $DB: equal before and after
#                     proves that a refused command stored nothing
# conf_set FILE SECTION KEY VALUE
#                     sets KEY = VALUE in [SECTION] of FILE: replaces the
#                     key there, else adds it under the header, else adds
#                     the section at the end (a section may appear once)
# check TEXT          says what the script checks next
# fail TEXT           fails the test with TEXT (and the last command's output)
# skip TEXT           the test cannot run on this machine: prints "SKIP: TEXT"
#                     and exits 77, which tests/run counts as skipped
# wait_until SECS WHAT CMD...
#                     runs CMD every 50 ms until it succeeds; fails with
#                     "WHAT not reached in SECS s" after SECS seconds. The way
#                     to synchronize with another process: never a fixed sleep
#
# Needs bash, sqlite3 and jq. POSAGENT_BIN and TOP are set by tests/run;
# run alone, the defaults are this checkout's build/posagent.

TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
POSAGENT_BIN=${POSAGENT_BIN:-$TOP/build/posagent}
unset POSAGENT_CONFIG
LAST_CMD=

fail() {
	echo "FAIL: $*" >&2
	if [ -n "$LAST_CMD" ] && [ -n "${T:-}" ]; then
		echo "  last command: ${LAST_CMD:0:300}" >&2
		[ -s "$T/out" ] && head -c 2000 "$T/out" | sed 's/^/  stdout| /' >&2
		[ -s "$T/err" ] && head -c 2000 "$T/err" | sed 's/^/  stderr| /' >&2
	fi
	exit 1
}

conf_set() {
	local file=$1 sec=$2 key=$3 val=$4
	awk -v sec="[$sec]" -v key="$key" -v val="$val" '
		function put() { print key " = " val; done = 1 }
		/^[ \t]*\[/ { if (insec && !done) put(); insec = ($1 == sec); if (insec) seen = 1; print; next }
		insec && $1 == key && !done { put(); next }
		insec && $1 == key { next }
		{ print }
		END { if (!seen) print sec; if (!done) put() }' "$file" >"$file.tmp" && mv "$file.tmp" "$file"
}

check() {
	echo "- $*"
}

# Exit 77 is automake's "skipped": tests/run counts it apart, never as passed.
skip() {
	echo "SKIP: $*"
	exit 77
}

setup() {
	[ -x "$POSAGENT_BIN" ] || fail "no agent binary at $POSAGENT_BIN (make it first)"
	command -v sqlite3 >/dev/null || fail "sqlite3 is needed"
	command -v jq >/dev/null || fail "jq is needed"
	T=$(mktemp -d "${TMPDIR:-/tmp}/posagent-e2e.XXXXXX")
	DB=$T/pos.db
	trap 'chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT
	cat >"$T/pos.conf" <<-EOF
		[agent]
		store = S0001
		register = R01
		database = $DB
		currency = EUR
	EOF
	: >"$T/out"
	: >"$T/err"
}

pa() {
	"$POSAGENT_BIN" -c "$T/pos.conf" "$@"
}

expect_rc() {
	local want=$1 rc=0
	shift
	LAST_CMD="$*"
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -eq "$want" ] || fail "expected exit $want, got $rc"
}

expect_err() {
	local n
	n=$(grep -c '^posagent: ' "$T/err" || true)
	[ "$n" -eq 1 ] || fail "expected one 'posagent: ' line on stderr, got $n"
	head -n 1 "$T/err" | grep -q '^posagent: ' || fail "stderr does not begin with the 'posagent: ' line"
	[ "$(wc -l <"$T/err")" -le 1 ] || sed -n 2p "$T/err" | grep -q '^usage: ' ||
		fail "the message is not one line (only a 'usage: ' line may follow it)"
	grep -Eiq -- "$1" <(head -n 1 "$T/err") || fail "stderr message does not match /$1/"
}

expect_json_err() {
	local code=$1 field=${2:-} msg
	jq -e 'type == "object" and (keys == ["error"]) and (.error | type == "object")' "$T/out" >/dev/null 2>&1 ||
		fail "stdout is not one {\"error\": {...}} document"
	[ "$(jq -r '.error.code' "$T/out")" = "$code" ] || fail "expected error code $code"
	msg=$(jq -r '.error.message' "$T/out")
	[ -n "$msg" ] && [ "$msg" != null ] || fail "error.message is empty"
	if [ -n "$field" ]; then
		[ "$(jq -r '.error.field' "$T/out")" = "$field" ] || fail "expected error.field $field"
	else
		jq -e '.error | has("field") and .field == null' "$T/out" >/dev/null || fail "expected error.field null"
	fi
	grep -Fq -- "$msg" "$T/err" || fail "the JSON error message is not on stderr too"
}

jget() {
	jq -r "$1" "${2:-$T/out}" || fail "jq '$1' cannot read ${2:-$T/out}"
}

sql() {
	sqlite3 -batch -cmd '.timeout 10000' "$DB" "$@"
}

db_sum() {
	sqlite3 -batch -cmd '.timeout 10000' "$DB" .dump | sha256sum | cut -d' ' -f1
}

wait_until() {
	local secs=$1 what=$2 i=0
	shift 2
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt $((secs * 20)) ] || fail "$what not reached in $secs s"
		sleep 0.05
	done
}
