#!/bin/bash
# 43-doctor-hq: each of doctor's checks of the way to HQ made to fail for
# real, one at a time, against the reference HQ.
#
# What happens: HQ's clock is put 2 and 10 minutes off; the register's
# token is revoked, then replaced by another store's; /v1/health answers
# 503; the register trusts the wrong CA; HQ serves a certificate for
# another host, one that expires in 5 days, one that has expired; HQ is
# hung (SIGSTOP) and stopped; the url names a host that does not resolve,
# an address that never answers, and a host whose DNS server never answers.
# What must hold: the check at fault is the WARN or FAIL line the issue
# asks for (clock WARN over 1 min, FAIL over 5; certificate WARN under 30
# days, FAIL expired), with a hint; the checks that depend on it say they
# were not run; exit 1 with a FAIL, 0 with only WARNs; with HQ unreachable
# doctor finishes within 10 s.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
hq_start
pr init >/dev/null

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
result() { grep -E "^(PASS|WARN|FAIL)  $1 " "$T/out" | cut -c1-4; }
# timed RC CONF: doctor exits RC within 10 s; prints how long it took.
timed() {
	local t0 ms
	t0=$(date +%s%N)
	expect_rc "$1" "$POSAGENT_BIN" -c "$2" doctor
	ms=$((($(date +%s%N) - t0) / 1000000))
	echo "  doctor took $ms ms"
	[ "$ms" -lt 10000 ] || fail "doctor took $ms ms with HQ unreachable"
}

check "HQ's clock 2 minutes ahead: WARN clock; 10 minutes: FAIL; 6 minutes behind: FAIL"
hq_admin clock '{"offset":120}' >/dev/null
doc 0 WARN clock 'this register is 1[12][0-9] s behind HQ'
grep -q 'hint: set this register.s clock' "$T/out" || fail "clock hint"
hq_admin clock '{"offset":600}' >/dev/null
doc 1 FAIL clock 'this register is [56][0-9][0-9] s behind HQ \(more than 300 s\)'
hq_admin clock '{"offset":-360}' >/dev/null
doc 1 FAIL clock 'ahead of HQ'
hq_admin clock '{"offset":0}' >/dev/null
doc 0 PASS clock

check "a revoked token: FAIL credentials (401); another store's token: FAIL credentials (403)"
hq_admin revoke '{"store":"S0001","register":"R01"}' >/dev/null
doc 1 FAIL credentials 'refused the token \(401\)'
grep -q 'get a new token for S0001/R01' "$T/out" || fail "credentials hint"
[ "$(result health)" = PASS ] || fail "health needs no token"
hq_admin unrevoke '{"store":"S0001","register":"R01"}' >/dev/null
doc 0 PASS credentials
sed "s|^token_file = .*|token_file = $H/tokens/S0002-R01.token|" "$CONF" >"$T/c.conf"
doc 1 FAIL credentials '403' "$T/c.conf"

check "/v1/health answering 503: FAIL health"
hq_admin fault '{"path":"/v1/health","kind":"status","status":503,"count":1}' >/dev/null
doc 1 FAIL health 'HTTP 503'

check "the wrong CA: ca_file loads, the handshake FAILs"
sed "s|^ca_file = .*|ca_file = $H/wrong-ca.pem|" "$CONF" >"$T/c.conf"
doc 1 FAIL tls 'not trusted by ca_file' "$T/c.conf"
[ "$(result ca_file)" = PASS ] || fail "wrong-ca.pem is a well-formed CA file"
grep -q "hint: $H/wrong-ca.pem does not hold the CA that signed HQ" "$T/out" || fail "tls hint"
for n in health certificate clock credentials; do
	[ "$(result $n)" = WARN ] || fail "$n should be 'not checked'"
done

check "a certificate expiring in 5 days: WARN certificate, exit 0"
hq_start --cert expiring:5
doc 0 WARN certificate 'expires in [45] days'
grep -q 'hint: ask HQ operations to renew' "$T/out" || fail "certificate hint"

check "a certificate for another host: FAIL tls"
hq_start --cert wronghost
doc 1 FAIL tls 'another host name'

check "an expired certificate: FAIL certificate"
hq_start --cert expired
doc 1 FAIL certificate 'expired'
[ "$(result tls)" = FAIL ] || fail "the handshake must refuse an expired certificate"
expect_rc 1 pr --json doctor
jq -e '.checks[] | select(.name == "certificate") | .result == "FAIL" and (.hint | test("renew"))' "$T/out" \
	>/dev/null || fail "JSON certificate check"

check "HQ hung (SIGSTOP: the kernel still accepts connections): FAIL tls within 10 s"
hq_start
kill -STOP "$(cat "$H/hq.pid")"
timed 1 "$CONF"
kill -CONT "$(cat "$H/hq.pid")"
grep -Eq '^PASS  tcp ' "$T/out" || fail "tcp: $(grep tcp "$T/out")"
grep -Eq '^FAIL  tls +.*timed out.*  hint: HQ accepts connections but does not complete HTTPS' "$T/out" ||
	fail "tls: $(grep tls "$T/out")"

check "HQ stopped: FAIL tcp within 10 s, the HTTPS checks not run"
hq_stop
timed 1 "$CONF"
doc 1 FAIL tcp 'Connection refused'
for n in tls health certificate clock credentials; do
	[ "$(result $n)" = WARN ] || fail "$n should be 'not checked: tcp failed'"
done
[ "$(result database)" = PASS ] || fail "the local checks still run"

check "an address that never answers: FAIL tcp within 10 s"
sed "s|^url = .*|url = https://192.0.2.1:443|" "$CONF" >"$T/c.conf"
timed 1 "$T/c.conf"
grep -Eq '^FAIL  tcp +192\.0\.2\.1 .*cannot connect' "$T/out" || fail "tcp: $(grep tcp "$T/out")"

check "a name that does not resolve: FAIL dns within 10 s"
sed "s|^url = https://localhost|url = https://hq.no-such-domain.invalid|" "$CONF" >"$T/c.conf"
timed 1 "$T/c.conf"
doc 1 FAIL dns 'hq.no-such-domain.invalid' "$T/c.conf"
[ "$(result tcp)" = WARN ] || fail "tcp should be 'not checked: dns failed'"

check "a DNS server that never answers (or cannot be reached): FAIL dns within 10 s"
if unshare -m true 2>/dev/null; then
	printf 'nameserver 192.0.2.1\noptions timeout:5 attempts:2\n' >"$T/resolv.conf"
	sed "s|^url = https://localhost|url = https://hq.example.com|" "$CONF" >"$T/c.conf"
	t0=$(date +%s%N)
	unshare -m bash -c 'mount --bind "$1" /etc/resolv.conf && exec "$2" -c "$3" doctor' _ "$T/resolv.conf" \
		"$POSAGENT_BIN" "$T/c.conf" >"$T/out" 2>"$T/err" || true
	ms=$((($(date +%s%N) - t0) / 1000000))
	echo "  doctor took $ms ms"
	[ "$ms" -lt 10000 ] || fail "doctor took $ms ms with DNS not answering"
	# Where 192.0.2.1 is unreachable the resolver gives up at once instead.
	grep -Eq '^FAIL  dns +(looking up hq.example.com timed out|hq.example.com cannot be resolved)' "$T/out" ||
		fail "dns: $(grep dns "$T/out")"
else
	echo "  skipped: no private mount namespace here (needs root)"
fi
echo ok
