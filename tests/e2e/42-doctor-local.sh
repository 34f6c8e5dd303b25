#!/bin/bash
# 42-doctor-local: each of doctor's checks of this register's own side made
# to fail for real, one at a time, with HQ up and healthy.
#
# What happens: a configuration with a syntax error, a bad [hq] value, an
# http:// url, or none at all; a token file with mode 0644, then missing;
# a CA file that is not a certificate; a customer HQ rejected; a record
# that has waited 2 hours, 25 hours, and 2 minutes under a tighter
# [doctor]; an upload batch HQ answered 400; a database file with a
# garbage page, then a garbage header; a database on a 64 MiB disk.
# What must hold: the check at fault is the FAIL or WARN line AGENT.md
# promises, with a hint; the other checks still run (or say they could not
# and why); exit 1 when anything FAILs, else 0; a broken configuration is
# a FAIL line with exit 1, never 78; the JSON says the same.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
hq_start
pr init >/dev/null
TOKEN=$H/tokens/S0001-R01.token

# doc RC RESULT NAME [ERE] [CONF]: doctor exits RC; NAME's line is RESULT,
# matches ERE, and has a hint unless it is a PASS.
doc() {
	local rc=$1 res=$2 name=$3 re=${4:-} conf=${5:-$CONF} l
	expect_rc "$rc" "$POSAGENT_BIN" -c "$conf" doctor
	l=$(grep -E "^(PASS|WARN|FAIL)  $name " "$T/out") || fail "no $name line"
	[[ $l == "$res  $name "* ]] || fail "$name is not $res: $l"
	[ -z "$re" ] || grep -Eq -- "$re" <<<"$l" || fail "the $name line does not match /$re/: $l"
	if [ "$res" != PASS ]; then
		[[ $l == *"  hint: "?* ]] || fail "$name: a $res without a hint"
	fi
	return 0
}
# result NAME: NAME's result in the last doctor's output.
result() { grep -E "^(PASS|WARN|FAIL)  $1 " "$T/out" | cut -c1-4; }

check "configuration with a syntax error: one FAIL line, exit 1, not 78"
cp "$CONF" "$T/c.conf"
echo "this is not ini" >>"$T/c.conf"
doc 1 FAIL config 'line [0-9]+' "$T/c.conf"
[ "$(grep -c . "$T/out")" -le 3 ] || fail "nothing else can be checked without a configuration"
expect_rc 1 "$POSAGENT_BIN" -c "$T/c.conf" --json doctor
jq -e '.checks[0].name == "config" and .checks[0].result == "FAIL" and (.checks[0].hint | length) > 0' "$T/out" \
	>/dev/null || fail "JSON for a broken configuration"
doc 1 FAIL config 'cannot read config' "$T/none.conf"

check "a bad [hq] value and an http:// url: FAIL config, the local checks still run"
cp "$CONF" "$T/c.conf"
conf_set "$T/c.conf" hq connect_timeout soon
doc 1 FAIL config 'connect_timeout must be a whole number' "$T/c.conf"
[ "$(result token_file)" = PASS ] && [ "$(result database)" = PASS ] || fail "the other checks did not run"
sed 's|^url = https://|url = http://|' "$CONF" >"$T/c.conf"
doc 1 FAIL config 'https' "$T/c.conf"
doc 1 WARN dns 'not checked: config failed' "$T/c.conf"

check "token file mode 0644: FAIL token_file"
chmod 644 "$TOKEN"
doc 1 FAIL token_file 'open to others \(mode 0644' 
grep -q 'hint: chmod o-rwx' "$T/out" || fail "the hint does not say chmod"
[ "$(result credentials)" = PASS ] || fail "the token still works with HQ: credentials should pass"
chmod 600 "$TOKEN"

check "token file missing: FAIL token_file; HQ still checked without it"
mv "$TOKEN" "$T/token.away"
doc 1 FAIL token_file 'No such file'
[ "$(result tls)" = PASS ] && [ "$(result health)" = PASS ] || fail "tls/health need no token"
doc 1 WARN credentials 'not checked: token_file failed'
mv "$T/token.away" "$TOKEN"

check "a CA file that is not a certificate: FAIL ca_file (and the handshake)"
printf 'just text, no certificate\n' >"$T/garbage-ca.pem"
sed "s|^ca_file = .*|ca_file = $T/garbage-ca.pem|" "$CONF" >"$T/c.conf"
doc 1 FAIL ca_file 'no PEM certificate' "$T/c.conf"
[ "$(result tls)" = FAIL ] || fail "the handshake cannot succeed with that CA file"

check "a customer HQ rejected: WARN rejected with its code, exit 0"
pr customer create --first-name Rita --email rita@example.com >/dev/null
sql "UPDATE customer SET email = 'no-at-sign' WHERE local_number = 'R01-000001'"
pr sync >/dev/null
doc 0 WARN rejected '1 record HQ rejected: customer R01-000001 invalid_email'
[ "$(result waiting)" = PASS ] || fail "a rejected record is not 'waiting for HQ'"

check "a record waiting 2 h: WARN; 25 h: FAIL; [doctor] thresholds apply"
pr customer create --first-name Wanda >/dev/null
sql "UPDATE customer SET waiting_since = unixepoch() - 7200 WHERE local_number = 'R01-000002'"
doc 0 WARN waiting 'customer R01-000002, pending for 2 h 0[0-9] min'
sql "UPDATE customer SET waiting_since = unixepoch() - 90000 WHERE local_number = 'R01-000002'"
doc 1 FAIL waiting 'pending for 1 d 01 h'
sql "UPDATE customer SET waiting_since = unixepoch() - 120 WHERE local_number = 'R01-000002'"
doc 0 PASS waiting
conf_set "$CONF" doctor waiting_warn 60
conf_set "$CONF" doctor waiting_fail 600
doc 0 WARN waiting 'pending for 2 min \(warn over 60 s, fail over 600 s\)'
sed -i 's/^waiting_fail = 600/waiting_fail = 100/' "$CONF"
doc 1 FAIL waiting 'fail over 100 s'
expect_rc 1 pr --json doctor
jq -e '.checks[] | select(.name == "waiting") | .result == "FAIL" and (.hint | test("reaching HQ"))' "$T/out" \
	>/dev/null || fail "JSON waiting check"
sed -i '/^\[doctor\]/,$d' "$CONF"
pr sync >/dev/null

check "a batch HQ answered 400: FAIL batches"
pr customer create --first-name Flora >/dev/null
hq_admin fault '{"path":"/v1/stores/S0001/registers/R01/batches","kind":"status","status":400,"count":3}' >/dev/null
expect_rc 69 pr sync
doc 1 FAIL batches '1 batch flagged: batch [0-9a-f-]{36} \(1 record\)'
expect_rc 0 pr sync
doc 0 PASS batches

check "a database with a garbage page: FAIL database (quick_check)"
sql "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
cp "$DB" "$T/good.db"
root=$(sql "SELECT rootpage FROM sqlite_schema WHERE name = 'customer'")
head -c 4096 /dev/urandom | dd of="$DB" bs=4096 seek=$((root - 1)) conv=notrunc status=none
doc 1 FAIL database 'is damaged: quick_check'
grep -q 'restore the latest backup' "$T/out" || fail "the hint does not say to restore a backup"
expect_rc 1 pr --json doctor
jq -e '.checks[] | select(.name == "database") | .result == "FAIL"' "$T/out" >/dev/null || fail "JSON database check"

check "a database with a garbage header: FAIL database, the checks after it say why they did not run"
cp "$T/good.db" "$DB"
printf 'this is not an SQLite database!!' | dd of="$DB" conv=notrunc status=none
doc 1 FAIL database 'not a usable posagent database'
doc 1 WARN waiting 'not checked: database failed'
cp "$T/good.db" "$DB"
doc 0 PASS database

check "a database on a 64 MiB disk: WARN disk"
if unshare -m true 2>/dev/null; then
	mkdir "$T/small"
	sed "s|^database = .*|database = $T/small/pos.db|" "$CONF" >"$T/small.conf"
	unshare -m bash -c 'mount -t tmpfs -o size=64m,mode=0700 tmpfs "$1" && "$2" -c "$3" init >/dev/null &&
		"$2" -c "$3" doctor' _ "$T/small" "$POSAGENT_BIN" "$T/small.conf" >"$T/out" 2>"$T/err" || true
	grep -Eq '^WARN  disk +6[0-9] MiB free on .*small \(under 1 GiB\)  hint: ' "$T/out" ||
		fail "disk: $(grep disk "$T/out")"
else
	echo "  skipped: no private mount namespace here (needs root)"
fi
echo ok
