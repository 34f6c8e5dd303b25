#!/bin/bash
# 81-upgrade: from the previous release's package to this one, with data.
#
# What happens: in a booted Debian 12 (as 80-service), the package of
# 0.1.0 (built from its commit by its own `make deb`) is installed and
# configured against the reference HQ (assigning at once); a POS user makes
# customers and sales, the service syncs them, `eod` posts the day, and one
# more customer is made while HQ is down (still pending). Then this tree's
# package is installed over it with dpkg -i (HQ still down), and HQ comes
# back.
# What must hold: the upgrade succeeds; the service runs the new version
# (another process, Type=notify now, active); every customer, address,
# transaction and statement is still there with the same state, account and
# posting; the schema is at this version's number of migrations (`init`
# reports it; a second install migrates nothing: same user_version, and the
# journal shows one upgrade); the pending customer goes up once; HQ
# receives no record it already held (records_received grows by exactly
# the one pending customer; duplicates_seen does not grow; still one
# statement).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/../e2e/hqlib.sh"
. "$(dirname "$0")/lib.sh"
setup
started=$(date +%s)
[ "$(id -u)" -eq 0 ] || skip "not root: systemd-nspawn needs root"
command -v systemd-nspawn >/dev/null || skip "systemd-nspawn is missing"
NEW=$(deb_current)
OLD=$(deb_old)
NEW_VERSION=$(dpkg-deb -f "$NEW" Version)
[ "$NEW_VERSION" != "$OLD_VERSION" ] || fail "this tree's version is still $OLD_VERSION: bump VERSION and debian/changelog"
boot_machine
# The old package's own conffile (the new one has keys 0.1.0 refuses).
dpkg-deb --fsys-tarfile "$OLD" | tar -xOf - ./etc/posagent/posagent.conf >"$T/old.conf"
CONFFILE=$T/old.conf hq_for_machine --assign immediate
cp "$OLD" "$ROOT/srv/old.deb"
cp "$NEW" "$ROOT/srv/new.deb"
D=2026-11-25
DBQ() { IN sqlite3 /var/lib/posagent/posagent.db "$@"; }

check "the $OLD_VERSION package installs and its service runs"
expect_rc 0 IN dpkg -i /srv/old.deb
install_hq_files
expect_rc 0 IN systemctl restart posagent
[ "$(IN posagent --version)" = "posagent $OLD_VERSION" ] || fail "posagent --version: $(IN posagent --version)"
poll 20 "the old service is not active" IN systemctl is-active -q posagent

check "customers, sales and a posted day with $OLD_VERSION"
IN useradd --create-home --groups posagent pos
for n in Ana Rui Eva; do
	expect_rc 0 AS pos posagent customer create --first-name "$n" --last-name Upgrade
done
expect_rc 0 AS pos posagent customer address add R01-000001 --line1 "Rua 1" --city Porto --postal-code 4000-001 --country PT
for i in 1 2 3; do
	printf '{"txn_id":"S0001-R01-%06d","kind":"cash_and_carry","business_date":"%s","currency":"EUR","customer":{"local_number":"R01-%06d"},"lines":[{"sku":"SKU-1","qty":1,"unit_price_minor":%d}],"tenders":[{"type":"cash","amount_minor":%d}],"total_minor":%d}' \
		"$i" "$D" "$i" $((i * 1000)) $((i * 1000)) $((i * 1000)) >"$ROOT/srv/t$i.json"
	IN chmod 0644 "/srv/t$i.json"
	expect_rc 0 AS pos posagent txn record --from-json "/srv/t$i.json"
done
all_synced() { [ "$(DBQ "SELECT count(*) FROM customer WHERE state <> 'synced'")" = 0 ]; }
poll 60 "the old service did not sync the customers" all_synced
expect_rc 0 AS pos posagent eod --date "$D" --timeout 120
grep -q "^$D posted" "$T/out" || fail "eod did not post: $(cat "$T/out")"
hq_admin state >"$T/hq.before"
hq_stop
expect_rc 0 AS pos posagent customer create --first-name Offline --last-name Upgrade
# What the register holds, in a form that must not change (but for the
# pending customer, which goes up after the upgrade).
snapshot() {
	DBQ "SELECT local_number, account, state FROM customer WHERE local_number <> 'R01-000004' ORDER BY id;
	     SELECT async_id, state FROM address ORDER BY id;
	     SELECT txn_id, state, total_minor FROM txn ORDER BY id;
	     SELECT business_date, state, posting_id FROM statement ORDER BY business_date;"
}
snapshot >"$T/before"
v_old=$(DBQ "PRAGMA user_version")
old_pid=$(main_pid)
echo "  schema $v_old; $(grep -c . "$T/before") rows kept"

check "dpkg -i $NEW_VERSION over it (IT's edited conffile kept, HQ still down): the service is restarted on the new version"
expect_rc 0 IN dpkg -i --force-confdef --force-confold /srv/new.deb
cat "$T/out"
[ "$(IN posagent --version)" = "posagent $NEW_VERSION" ] || fail "posagent --version: $(IN posagent --version)"
poll 30 "the new service is not active" IN systemctl is-active -q posagent
new_pid=$(main_pid)
[ "$new_pid" != "$old_pid" ] || fail "the service was not restarted"
[ "$(IN systemctl show -P Type posagent)" = notify ] || fail "the unit is not the new one"

check "the data is intact and the schema migrated once"
snapshot >"$T/after"
diff -u "$T/before" "$T/after" || fail "the upgrade changed the data"
want=$(grep -c '^[[:space:]]*/\* [0-9]* -> [0-9]*: ' "$TOP/common/store.c")
v_new=$(DBQ "PRAGMA user_version")
echo "  schema $v_old -> $v_new (this version has $want migrations)"
[ "$v_new" = "$want" ] || fail "user_version is $v_new, not $want"
grep -q "schema version $want" "$T/out" || fail "postinst's init did not report schema version $want"
expect_rc 0 IN dpkg -i --force-confdef --force-confold /srv/new.deb
[ "$(DBQ "PRAGMA user_version")" = "$want" ] || fail "the reinstall changed the schema version"
expect_rc 0 AS pos posagent --json status

check "HQ back: the pending customer goes up once; nothing HQ held is sent again"
hq_start --assign immediate
trap machine_cleanup EXIT # hq_start set its own
pending_gone() { [ "$(DBQ "SELECT state FROM customer WHERE local_number = 'R01-000004'")" = synced ]; }
poll 60 "the pending customer was not synced after the upgrade" pending_gone
hq_admin state >"$T/hq.after"
rb=$(jq .records_received "$T/hq.before") ra=$(jq .records_received "$T/hq.after")
db=$(jq .duplicates_seen "$T/hq.before") da=$(jq .duplicates_seen "$T/hq.after")
echo "  HQ records received $rb -> $ra, duplicates $db -> $da"
[ "$ra" -eq $((rb + 1)) ] || fail "HQ received $((ra - rb)) records, not just the pending customer"
[ "$da" -eq "$db" ] || fail "HQ saw $((da - db)) duplicates: something was sent again"
[ "$(jq '.statements | length' "$T/hq.after")" = 1 ] || fail "HQ holds $(jq '.statements | length' "$T/hq.after") statements"

echo "ok ($(($(date +%s) - started)) s)"
