#!/bin/bash
# 80-service: the package under a real systemd, in a booted Debian 12.
#
# What happens: a fresh Debian 12 root (tests/systemd/mkroot, cached) boots
# under systemd-nspawn; this tree's package is installed with dpkg -i; the
# reference HQ runs on this machine's loopback (the machine shares the
# network), its CA and the register's token (root:posagent 0640) and a
# conffile naming it go into the machine; then the service is started,
# used, reloaded, frozen, killed, stopped, removed and purged.
# What must hold: `systemctl start` returns once the service said READY=1
# and it is active with a STATUS= naming the queue; a customer made by a
# POS user in the posagent group is synced by the service; doctor, run by
# that user, PASSes the token file; that user's search is answered by the
# service over DATABASE-lookup (0660, group posagent), the command opening
# no database; the journal holds the service's lines
# with no time or tag of its own and at their priority (an error is found
# by `journalctl -p err`, info lines are not); a good reload exits 0 and
# is logged; a reload with a broken configuration exits non-zero, the
# service keeps running (same PID) with the old one; a start with a broken
# configuration fails and says why; the watchdog (WatchdogSec=, 4 s in a
# drop-in here) kills a frozen service and systemd restarts it; kill -9
# is followed by a restart; stop is clean; `dpkg -r` keeps the database,
# `dpkg --purge` removes it. `systemd-analyze security` scores the
# installed unit 2.0 or lower. Skipped (77) where nspawn cannot boot.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/../e2e/hqlib.sh"
. "$(dirname "$0")/lib.sh"
setup
started=$(date +%s)
DEB=$(deb_current)
boot_machine
hq_for_machine
cp "$DEB" "$ROOT/srv/posagent.deb"

check "dpkg -i installs it; the unit waits for the token (inactive, not failed)"
expect_rc 0 IN dpkg -i /srv/posagent.deb
[ "$(IN systemctl is-enabled posagent)" = enabled ] || fail "the unit is not enabled"
IN systemctl is-failed -q posagent && fail "the unit failed without a token"

check "configured against the reference HQ, systemctl start returns once it is ready"
install_hq_files
expect_rc 0 IN systemctl start posagent
[ "$(IN systemctl is-active posagent)" = active ] || fail "not active after start"
status_queue() { IN systemctl show -P StatusText posagent | grep -q '^queue: '; }
poll 20 "STATUS= never named the queue" status_queue
echo "  status: $(IN systemctl show -P StatusText posagent)"
pid1=$(main_pid)
[ "$pid1" -gt 0 ] || fail "no MainPID"

check "systemd-analyze security: 2.0 or lower"
IN systemd-analyze security posagent.service >"$T/security" 2>&1 || true
score=$(sed -n 's/.*Overall exposure level for posagent.service: \([0-9.]*\).*/\1/p' "$T/security")
echo "  exposure: $score"
awk -v s="${score:-9}" 'BEGIN { exit !(s <= 2.0) }' || fail "exposure '$score'"

check "a POS user in the posagent group makes a customer; the service syncs it"
IN useradd --create-home --groups posagent pos
expect_rc 0 AS pos posagent --json customer create --first-name Ana --last-name Systemd
aid=$(jget .async_id)
synced() { [ "$(AS pos posagent --json customer show "$aid" | jq -r .state)" = synced ]; }
poll 30 "the customer was not synced by the service" synced

check "the POS user's search is answered by the service under the unit's sandbox (DATABASE-lookup)"
db=$(IN sed -n 's/^database *= *\([^ ;]*\).*/\1/p' /etc/posagent/posagent.conf) # (an inline "; comment" follows)
db=${db:-/var/lib/posagent/posagent.db}
lookup_live() { [ "$(IN stat -c '%a %G' "$db-lookup" 2>/dev/null)" = "660 posagent" ]; }
poll 20 "no socket $db-lookup of mode 660 and group posagent" lookup_live
# strace runs here, outside the machine, and follows the command into it
strace -f -qq -e trace=open,openat -o "$T/strace" \
	nsenter -t "$LEADER" -a /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 \
	setpriv --reuid=pos --regid="$(IN id -g pos)" --init-groups -- posagent customer search systemd >"$T/out" 2>"$T/err" ||
	fail "the search failed: $(cat "$T/err")"
grep -q "Ana Systemd" "$T/out" || fail "the search did not find Ana Systemd: $(cat "$T/out")"
if grep -q "\"$db\"" "$T/strace"; then fail "the command opened $db: the service did not answer"; fi

check "doctor, run by the POS user, PASSes the token file installed root:posagent 0640"
AS pos posagent doctor >"$T/doctor" 2>&1 || true
grep -E '^(PASS|WARN|FAIL)  token_file' "$T/doctor" || fail "no token_file line: $(cat "$T/doctor")"
grep -q '^PASS  token_file' "$T/doctor" || fail "doctor does not pass the token file"

check "the journal: no time or tag of its own; priorities kept"
IN journalctl -u posagent -o cat --no-pager >"$T/journal"
grep -q 'service started for store S0001 register R01' "$T/journal" || fail "the start is not in the journal"
if grep -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T|posagent\[[0-9]+\]|^<[0-9]>|(info|warn|error): ' "$T/journal"; then
	fail "journal lines repeat the time, the tag, the level or the prefix"
fi
IN journalctl -u posagent -p warning -o cat --no-pager >"$T/journal.warn"
if grep -q 'service started' "$T/journal.warn"; then fail "an info line is stored at warning priority or above"; fi

check "systemctl reload with a good configuration: 0, logged, same process"
IN sed -i 's/^idle_interval = 60 /idle_interval = 61 /' /etc/posagent/posagent.conf
expect_rc 0 IN systemctl reload posagent
reloaded() { IN journalctl -u posagent -o cat --no-pager | grep -q 'configuration reloaded'; }
poll 10 "the reload is not logged" reloaded
[ "$(main_pid)" = "$pid1" ] || fail "the reload restarted the process"
# The unit stays "reloading" from RELOADING=1 until both workers run again
# and READY=1 arrives: wait for that, it is not instant.
active() { [ "$(IN systemctl is-active posagent)" = active ]; }
poll 10 "not active after the reload" active

check "systemctl reload with a broken configuration: non-zero, the reason logged at err, the old one kept"
IN cp /etc/posagent/posagent.conf /root/good.conf
IN sed -i 's/^long_poll = 5 /long_poll = 99 /' /etc/posagent/posagent.conf
expect_rc 1 IN systemctl reload posagent
IN journalctl -u posagent -p err -o cat --no-pager >"$T/journal.err"
grep -q 'long_poll must be from 0 to 60' "$T/journal.err" || fail "the refusal is not in the journal at err priority"
poll 10 "a refused reload stopped the service" active
[ "$(main_pid)" = "$pid1" ] || fail "a refused reload restarted the process"
expect_rc 0 AS pos posagent customer create --first-name Rui
two_synced() { [ "$(AS pos posagent --json customer list --state synced | jq length)" = 2 ]; }
poll 30 "no sync after a refused reload" two_synced

check "a start with a broken configuration fails, saying why"
expect_rc 0 IN systemctl stop posagent
expect_rc 1 IN systemctl start posagent
IN systemctl is-failed -q posagent || fail "the unit is not failed"
n=$(IN journalctl -u posagent -p err -o cat --no-pager | grep -c 'long_poll must be from 0 to 60' || true)
[ "$n" -ge 2 ] || fail "the failed start did not log why at err priority"
IN systemctl status posagent --no-pager >"$T/status" 2>&1 || true
grep -q 'long_poll must be from 0 to 60' "$T/status" || fail "systemctl status does not say why: $(cat "$T/status")"
IN cp /root/good.conf /etc/posagent/posagent.conf
IN systemctl reset-failed posagent
expect_rc 0 IN systemctl start posagent

check "the watchdog (WatchdogSec=4s in a drop-in): a frozen service is killed and restarted"
IN mkdir -p /etc/systemd/system/posagent.service.d
printf '[Service]\nWatchdogSec=4s\nRestartSec=1s\n' >"$ROOT/etc/systemd/system/posagent.service.d/test.conf"
IN systemctl daemon-reload
expect_rc 0 IN systemctl restart posagent
pid2=$(main_pid)
n0=$(IN systemctl show -P NRestarts posagent)
IN kill -STOP "$pid2"
# restarted OLD_PID: active again under another process.
restarted() {
	local p
	p=$(main_pid)
	[ "$p" -gt 0 ] && [ "$p" != "$1" ] && [ "$(IN systemctl is-active posagent)" = active ]
}
poll 40 "the watchdog did not restart the frozen service" restarted "$pid2"
watchdog_logged() { IN journalctl --no-pager -o cat | grep -qi 'posagent.service: watchdog timeout'; }
poll 10 "the journal does not name the watchdog" watchdog_logged
[ "$(IN systemctl show -P NRestarts posagent)" -gt "$n0" ] || fail "NRestarts did not grow"

check "kill -9: systemd restarts it"
pid3=$(main_pid)
IN kill -9 "$pid3"
poll 30 "no restart after kill -9" restarted "$pid3"

check "stop is clean"
stops() { IN journalctl -u posagent -o cat --no-pager | grep -c 'service stopped' || true; }
before=$(stops)
expect_rc 0 IN systemctl stop posagent
[ "$(IN systemctl show -P Result posagent)" = success ] || fail "Result=$(IN systemctl show -P Result posagent)"
# journald may store the service's last line after stop returned, and
# systemd's own lines (Deactivated, Stopped, Consumed ... CPU) follow it
one_more_stop() { [ "$(stops)" -gt "$before" ]; }
poll 10 "the stop is not logged" one_more_stop

check "dpkg -r keeps the database; dpkg --purge removes it"
expect_rc 0 IN dpkg -r posagent
[ -f "$ROOT/var/lib/posagent/posagent.db" ] || fail "dpkg -r removed the database"
expect_rc 0 IN dpkg --purge posagent
[ ! -e "$ROOT/var/lib/posagent" ] || fail "purge kept /var/lib/posagent"
[ -f "$ROOT/etc/posagent/token" ] || fail "purge removed IT's token"

echo "ok ($(($(date +%s) - started)) s)"
