#!/bin/bash
# TLS: the server certificate is signed by DIR's throwaway CA for
# localhost, 127.0.0.1 and ::1; DIR/wrong-ca.pem signed nothing. --cert
# expired / wronghost / expiring:DAYS make the certificates an agent's TLS
# checks and doctor need; changing it on a restart regenerates only the
# server certificate (CA, tokens, data kept).
. "$(dirname "$0")/lib.bash"
hq_start
h() { curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "$@" 2>"$DIR/err" || true; }
enddays() { echo $((($(date -d "$(openssl x509 -enddate -noout -in "$DIR/server.pem" | cut -d= -f2)" +%s) - $(date +%s)) / 86400)); }

eq "$(h --cacert "$DIR/ca.pem" "$BASE/v1/health")" 200 "localhost with the CA"
eq "$(h --cacert "$DIR/ca.pem" "https://127.0.0.1:$PORT/v1/health")" 200 "127.0.0.1 with the CA"
eq "$(h --cacert "$DIR/wrong-ca.pem" "$BASE/v1/health")" 000 "the wrong CA"
grep -qi 'certificate' "$DIR/err" || fail "wrong CA: $(cat "$DIR/err")"
d=$(enddays)
[ "$d" -ge 363 ] && [ "$d" -le 365 ] || fail "valid for $d days"
openssl verify -CAfile "$DIR/ca.pem" "$DIR/server.pem" >/dev/null || fail "not signed by ca.pem"
openssl verify -CAfile "$DIR/wrong-ca.pem" "$DIR/server.pem" >/dev/null 2>&1 && fail "signed by wrong-ca.pem"
ok "valid certificate: localhost and 127.0.0.1 pass with ca.pem, fail with wrong-ca.pem"

post "$(batches S0001-R01)" S0001-R01 "$(batch "$(customer "$(uuid)")")"
ca=$(sha256sum <"$DIR/ca.pem") key=$(sha256sum <"$DIR/server-key.pem") tok=$(tok S0001-R01)

hq_start --cert expired
eq "$(h --cacert "$DIR/ca.pem" "$BASE/v1/health")" 000 "expired certificate"
grep -qi 'expired' "$DIR/err" || fail "expired: $(cat "$DIR/err")"
openssl x509 -checkend 0 -noout -in "$DIR/server.pem" >/dev/null && fail "not expired"
eq "$(sha256sum <"$DIR/ca.pem")" "$ca" "CA kept"
eq "$(tok S0001-R01)" "$tok" "token kept"
eq "$(state '.customers | length')" 1 "data kept"
ok "--cert expired"

hq_start --cert wronghost
eq "$(h --cacert "$DIR/ca.pem" "$BASE/v1/health")" 000 "wrong host"
grep -qiE 'subject|match|name' "$DIR/err" || fail "wronghost: $(cat "$DIR/err")"
eq "$(h --cacert "$DIR/ca.pem" --resolve "otherhost.example:$PORT:127.0.0.1" "https://otherhost.example:$PORT/v1/health")" 200 "as otherhost.example"
ok "--cert wronghost: valid only for otherhost.example"

hq_start --cert expiring:10
d=$(enddays)
[ "$d" -ge 9 ] && [ "$d" -le 10 ] || fail "expiring:10 ends in $d days"
eq "$(h --cacert "$DIR/ca.pem" "$BASE/v1/health")" 200 "expiring but valid"
ok "--cert expiring:10 (ends in $d days)"

hq_start
d=$(enddays)
[ "$d" -ge 9 ] && [ "$d" -le 10 ] || fail "a restart without --cert changed the certificate"
hq_start --cert valid
eq "$(h --cacert "$DIR/ca.pem" "$BASE/v1/health")" 200 "valid again"
eq "$(sha256sum <"$DIR/ca.pem")" "$ca" "CA kept throughout"
eq "$(sha256sum <"$DIR/server-key.pem")" "$key" "server key kept"
ok "a restart keeps the certificate unless --cert changes it"
