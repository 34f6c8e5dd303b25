#!/bin/bash
# TLS is always verified: a wrong CA, a certificate for another host name
# and an expired certificate each stop the upload before any request body
# reaches HQ; sync exits 69 and says what is wrong with TLS.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
hq_start
pr init >/dev/null
pr customer create --first-name Ana >/dev/null

posts() {
	hq_admin state | jq '[.requests | to_entries[] | select(.key | startswith("POST")) | .value] | add // 0'
}

check "a CA that did not sign HQ's certificate"
sed -i "s#^ca_file *=.*#ca_file = $H/wrong-ca.pem#" "$CONF"
expect_rc 69 pr sync
grep -Eiq "tls|certificate" "$T/err" || fail "the message does not say TLS"
[ "$(posts)" = 0 ] || fail "a request reached HQ"
sed -i "s#^ca_file *=.*#ca_file = $H/ca.pem#" "$CONF"

check "a certificate for another host name"
hq_stop
hq_start --cert wronghost
expect_rc 69 pr sync
grep -Eiq "host" "$T/err" || fail "the message does not name the host name problem"

check "an expired certificate"
hq_stop
hq_start --cert expired
expect_rc 69 pr sync
grep -Eiq "expired" "$T/err" || fail "the message does not say expired"

check "the right certificate: it goes through, nothing was lost"
hq_stop
hq_start --cert valid
# (the admin interface itself cannot be reached through the bad
# certificates; HQ's data tells that no batch got through)
[ "$(hq_admin state | jq '.customers | length')" = 0 ] || fail "a batch reached HQ through a bad certificate"
expect_rc 0 pr sync
[ "$(sql "SELECT state FROM customer")" = synced ] || fail "the customer did not sync"
echo ok
