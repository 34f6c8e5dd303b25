# tests/systemd/lib.sh: a Debian 12 machine booted under systemd-nspawn,
# for the scripts of tests/systemd (`make test-systemd`). Source after
# tests/e2e/lib.sh and setup.
#
# boot_machine        checks what is needed (root, systemd-nspawn, the
#                     cached root of tests/systemd/mkroot) and skips (77)
#                     without it; unpacks a fresh root into $T/root ($ROOT),
#                     boots it (systemd-nspawn -b --register=no --keep-unit,
#                     sharing this machine's network, so the reference HQ on
#                     loopback is reachable) and waits for
#                     `systemctl is-system-running`; powered off on exit
# IN CMD...           runs CMD as root inside (nsenter -a into its PID 1),
#                     clean environment
# AS USER CMD...      runs CMD inside as USER with its groups
# poll SECS TEXT CMD...  runs CMD every 0.2 s until it succeeds; fails the
#                     test with TEXT after SECS seconds
# deb_current         builds (if stale) and prints the path of this tree's .deb
#                     ($POSAGENT_DEB instead when set)
# hq_for_machine [ARGS]  starts the reference HQ in $H (tests/hq/start
#                     ARGS) and writes $T/machine.conf: the conffile
#                     $CONFFILE (default packaging/posagent.conf) with HQ's
#                     url and long_poll 5, for /etc/posagent/posagent.conf
# install_hq_files    copies HQ's CA, the register's token (root:posagent
#                     0640) and $T/machine.conf into the machine
NSPAWN_PID=
LEADER=

boot_machine() {
	[ "$(id -u)" -eq 0 ] || skip "not root: systemd-nspawn needs root"
	command -v systemd-nspawn >/dev/null || skip "systemd-nspawn is missing (apt-get install systemd-container)"
	command -v nsenter >/dev/null || skip "nsenter is missing"
	local rc=0
	ROOT=$T/root
	"$TOP/tests/systemd/mkroot" "$ROOT" >/dev/null || rc=$?
	[ "$rc" -ne 77 ] || skip "no Debian 12 root: debootstrap could not make one (network?)"
	[ "$rc" -eq 0 ] || fail "tests/systemd/mkroot failed"
	printf '127.0.0.1 localhost\n::1 localhost\n' >"$ROOT/etc/hosts"
	systemd-nspawn -b -D "$ROOT" --register=no --keep-unit -q --console=passive \
		--machine="pa$$" >"$T/nspawn.log" 2>&1 &
	NSPAWN_PID=$!
	trap machine_cleanup EXIT
	local i
	for i in $(seq 1 150); do
		LEADER=$(pgrep -P "$NSPAWN_PID" -x systemd | head -1 || true)
		[ -n "$LEADER" ] && break
		kill -0 "$NSPAWN_PID" 2>/dev/null || break
		sleep 0.2
	done
	if [ -z "$LEADER" ]; then
		cat "$T/nspawn.log"
		grep -qiE 'cgroup|not supported|permission|operation not permitted' "$T/nspawn.log" &&
			skip "systemd-nspawn cannot boot a machine here: $(head -1 "$T/nspawn.log")"
		fail "systemd-nspawn did not start the machine's systemd"
	fi
	# Until its bus answers, systemctl fails at once: asked again until
	# the boot is over (running or degraded), at most 180 s.
	local state t0
	t0=$(date +%s)
	while :; do
		state=$(timeout 60 nsenter -t "$LEADER" -a systemctl is-system-running --wait 2>/dev/null || true)
		case "$state" in
		running | degraded) break ;;
		esac
		[ $(($(date +%s) - t0)) -lt 180 ] || fail "the machine did not finish booting: '$state'"
		sleep 0.5
	done
	echo "  machine booted ($state), PID 1 is $LEADER here"
}

# machine_off: powers the machine off (SIGRTMIN+4 to its systemd, as
# `systemctl poweroff` would), waits for systemd-nspawn to end (30 s), then
# kills the machine's PID 1 (which takes every process in it along).
machine_off() {
	[ -n "$NSPAWN_PID" ] || return 0
	local i
	[ -n "$LEADER" ] && kill -s RTMIN+4 "$LEADER" 2>/dev/null
	for i in $(seq 1 150); do
		kill -0 "$NSPAWN_PID" 2>/dev/null || return 0
		sleep 0.2
	done
	[ -n "$LEADER" ] && kill -KILL "$LEADER" 2>/dev/null
	kill -KILL "$NSPAWN_PID" 2>/dev/null
	for i in $(seq 1 50); do
		kill -0 "$NSPAWN_PID" 2>/dev/null || return 0
		sleep 0.2
	done
}

# The EXIT trap of these scripts (hqlib's hq_start sets its own: set again
# after it): the machine off before its root is removed, HQ stopped.
machine_cleanup() {
	machine_off
	hq_stop_quiet 2>/dev/null
	chmod -R u+rwX "$T" 2>/dev/null
	rm -rf "$T"
}

IN() {
	nsenter -t "$LEADER" -a /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 HOME=/root \
		SYSTEMD_PAGER= SYSTEMD_COLORS=0 "$@"
}

AS() {
	local user=$1
	shift
	IN setpriv --reuid="$user" --regid="$(IN id -g "$user")" --init-groups -- "$@"
}

poll() {
	local secs=$1 text=$2 t0
	shift 2
	t0=$(date +%s)
	until "$@" >/dev/null 2>&1; do
		[ $(($(date +%s) - t0)) -lt "$secs" ] || fail "$text (waited $secs s)"
		sleep 0.2
	done
}

deb_current() {
	if [ -n "${POSAGENT_DEB:-}" ]; then # a package built already (make deb)
		echo "$POSAGENT_DEB"
		return
	fi
	local version
	version=$(sed -n 's/^VERSION *:= *//p' "$TOP/Makefile")
	BUILD=$TOP/build VERSION=$version "$TOP/packaging/make-deb" --if-stale >"$T/deb.log" 2>&1 ||
		{ cat "$T/deb.log" >&2; fail "packaging/make-deb failed"; }
	echo "$TOP/build/posagent_${version}_$(dpkg --print-architecture).deb"
}

hq_for_machine() {
	hq_start "$@"
	trap machine_cleanup EXIT
	local url
	url=$(sed -n 's/^url *= *//p' "$CONF")
	sed -e "s|^url = [^;]*|url = $url |" -e 's|^long_poll = 25 |long_poll = 5 |' \
		"${CONFFILE:-$TOP/packaging/posagent.conf}" >"$T/machine.conf"
	grep -q "^url = $url" "$T/machine.conf" || fail "could not set the url in the conffile"
}

install_hq_files() {
	cp "$H/ca.pem" "$ROOT/etc/posagent/hq-ca.pem"
	IN chmod 0644 /etc/posagent/hq-ca.pem
	cp "$H/tokens/S0001-R01.token" "$ROOT/etc/posagent/token"
	IN chown root:posagent /etc/posagent/token
	IN chmod 0640 /etc/posagent/token
	cp "$T/machine.conf" "$ROOT/etc/posagent/posagent.conf"
	IN chmod 0644 /etc/posagent/posagent.conf
}

# main_pid: the service's MainPID inside (0 when not running).
main_pid() { IN systemctl show -P MainPID posagent; }

# deb_old: builds (once, kept in build/old-VERSION/) and prints the path of
# the previous release's package: the commit of 0.1.0 (tag v0.1.0 if the
# repository has it, else a7818c8), built by its own `make deb`.
OLD_VERSION=0.1.0
OLD_COMMIT=a7818c8
deb_old() {
	local dir=$TOP/build/old-$OLD_VERSION rev
	local deb=$dir/posagent_${OLD_VERSION}_$(dpkg --print-architecture).deb
	if [ ! -f "$deb" ]; then
		rev=$OLD_COMMIT
		git -C "$TOP" rev-parse -q --verify "v$OLD_VERSION^{commit}" >/dev/null && rev=v$OLD_VERSION
		git -C "$TOP" rev-parse -q --verify "$rev^{commit}" >/dev/null ||
			skip "the commit of $OLD_VERSION ($rev) is not in this clone"
		exec 8>"$TOP/build/.old-deb.lock"
		flock 8
		if [ ! -f "$deb" ]; then
			rm -rf "$dir/src"
			mkdir -p "$dir/src"
			git -C "$TOP" archive "$rev" | tar -C "$dir/src" -xf -
			make -C "$dir/src" -j2 deb >"$dir/build.log" 2>&1 || { tail -20 "$dir/build.log" >&2; fail "building $OLD_VERSION failed"; }
			cp "$dir/src/build/posagent_${OLD_VERSION}_$(dpkg --print-architecture).deb" "$deb"
		fi
		exec 8>&-
	fi
	echo "$deb"
}
