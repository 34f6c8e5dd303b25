#!/bin/bash
# A customer created at register R01 is found by `customer search` at R02
# of the same store once both have synced (HQ's customer change), with its
# account; a customer of another store is not.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
hq_start
pr init >/dev/null
pr2 init >/dev/null
"$POSAGENT_BIN" -c "$H/S0002-R01.conf" init >/dev/null
pr customer create --first-name Beatriz --last-name Quaresma --phone "+351 912 000 111" >/dev/null
"$POSAGENT_BIN" -c "$H/S0002-R01.conf" customer create --first-name Zacarias >/dev/null
expect_rc 0 pr sync
"$POSAGENT_BIN" -c "$H/S0002-R01.conf" sync >/dev/null
acc=$(sql "SELECT account FROM customer WHERE local_number='R01-000001'")
[ -n "$acc" ] || fail "R01's customer did not sync"

check "R02 finds R01's customer after its sync"
expect_rc 0 pr2 --json sync
expect_rc 0 pr2 --json customer search Quaresma
[ "$(jget 'length')" = 1 ] || fail "R02 does not find the customer"
[ "$(jget '.[0].account')" = "$acc" ] || fail "R02 has another account"
[ "$(jget '.[0].state')" = synced ] || fail "a cached customer is synced"
[ "$(jget '.[0].local_number')" = R01-000001 ] || fail "the local number of R01 should come along"
expect_rc 0 pr2 --json customer search "912 000"
[ "$(jget 'length')" = 1 ] || fail "R02 does not find the customer by phone"

check "applying the changes again changes nothing; another store's customer is not here"
sum=$(sqlite3 "$(sed -n 's/^database *= *//p' "$H/S0001-R02.conf")" "SELECT count(*) FROM customer")
sqlite3 "$(sed -n 's/^database *= *//p' "$H/S0001-R02.conf")" "DELETE FROM meta WHERE key='cursor'"
expect_rc 0 pr2 sync
[ "$(sqlite3 "$(sed -n 's/^database *= *//p' "$H/S0001-R02.conf")" "SELECT count(*) FROM customer")" = "$sum" ] || fail "re-applying changes added customers"
expect_rc 0 pr2 --json customer search Zacarias
[ "$(jget 'length')" = 0 ] || fail "a customer of store S0002 reached S0001"
echo ok
