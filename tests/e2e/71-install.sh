#!/bin/bash
# shellcheck disable=SC2016 # '${Status}' and the like are dpkg-query formats
# 71-install: the package installed, upgraded, removed and purged with dpkg,
# for real, in a throwaway copy of this machine.
#
# What happens: in a private mount namespace (unshare -m), an overlay with
# this machine's root file system as its read-only lower layer and a tmpfs
# as its upper layer becomes a chroot; dpkg -i installs the package there
# (its maintainer scripts run: adduser, install -d, posagent init; no
# systemd runs in the chroot, as in a container or a chroot install); a POS
# user in the posagent group and the posagent user share the database; the
# same package is installed again (the upgrade path) with a token and an
# edited conffile present; then dpkg -r and dpkg --purge. Every change
# stays in the tmpfs and is gone when the namespace ends: this machine gets
# no user, no file and no dpkg record. Skipped (SKIP, exit 77: tests/run
# counts it as skipped) when not root or when the kernel refuses the
# namespace or the overlay.
# What must hold: the install succeeds without systemd; the posagent system
# user and group exist; /var/lib/posagent is posagent:posagent 2770 and
# holds the database, made by posagent init as posagent, 0660 at most;
# files the POS user makes there belong to the group and both users read
# each other's writes, others read nothing; the unit is enabled
# (deb-systemd-helper) and systemd-analyze verify accepts the installed
# unit; reinstalling keeps the data and the edited conffile and makes the
# token root:posagent 0640; remove keeps the conffile and data; purge
# removes the conffile, the unit's enablement and the database, and keeps
# the token and the user (see debian/posagent.postrm).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

if [ "${1:-}" != --inside ]; then
	[ "$(id -u)" -eq 0 ] || skip "not root: dpkg -i needs root, even in a throwaway root"
	for tool in unshare mount chroot dpkg-deb; do
		command -v "$tool" >/dev/null || skip "$tool is missing"
	done
	unshare --mount --propagation private -- true 2>/dev/null || skip "the kernel refuses a private mount namespace"
	setup
	cd "$TOP"
	VERSION=$("$POSAGENT_BIN" --version | awk '{print $2}')
	DEB=$TOP/build/posagent_${VERSION}_$(dpkg --print-architecture).deb
	check "the package $DEB is built (kept when newer than every file of the tree)"
	BUILD=$TOP/build VERSION=$VERSION packaging/make-deb --if-stale >"$T/build.log" 2>&1 ||
		{ cat "$T/build.log" >&2; fail "packaging/make-deb failed"; }
	cat "$T/build.log"
	rc=0
	unshare --mount --propagation private -- bash "$0" --inside "$T" "$DEB" "$VERSION" || rc=$?
	[ "$rc" -ne 77 ] || skip "the kernel refuses a private mount namespace or an overlay of /"
	exit "$rc"
fi

# Inside the private mount namespace: nothing mounted here is seen outside.
T=$2
DEB=$3
VERSION=$4
started=$(date +%s)
W=$T/ovl
mkdir -p "$W"
mount -t tmpfs -o mode=0755 posagent-test "$W" || exit 77
mkdir "$W/upper" "$W/work" "$W/root"
mount -t overlay posagent-test -o "lowerdir=/,upperdir=$W/upper,workdir=$W/work" "$W/root" || exit 77
M=$W/root
touch "$M/.posagent-71-marker"
if [ -e /.posagent-71-marker ]; then
	rm -f /.posagent-71-marker
	fail "the overlay writes through to the real root: stopping"
fi
mount --rbind /dev "$M/dev"
mount -t proc proc "$M/proc"
# An empty /run and /tmp: no systemd runs in the copy, as in a chroot.
mount -t tmpfs -o mode=0755 posagent-test "$M/run"
mount -t tmpfs -o mode=1777 posagent-test "$M/tmp"
cp "$DEB" "$M/tmp/posagent.deb"

# R CMD...: runs CMD as root in the copy, with a clean environment.
R() {
	chroot "$M" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 HOME=/root "$@"
}
# AS USER CMD...: runs CMD as USER (with its groups) in the copy.
AS() {
	local user=$1
	shift
	R setpriv --reuid="$user" --regid="$(R id -g "$user")" --init-groups -- "$@"
}
# owner_mode PATH: "user:group mode" of PATH in the copy.
owner_mode() {
	R stat -c '%U:%G %a' "$1"
}
no_others() { # PATH: no permission bit for others
	local m
	m=$(R stat -c %a "$1")
	[ $((8#$m & 8#7)) -eq 0 ] || fail "$1 has mode $m: others get something"
	[ $((8#$m & ~8#2770)) -eq 0 ] || fail "$1 has mode $m"
}

check "a clean copy: no posagent package or user in it to begin with"
if R dpkg-query -W -f '${Status}\n' posagent 2>/dev/null | grep -q installed; then
	echo "  (this machine has posagent installed: purging it in the copy first)"
	R dpkg --purge posagent >/dev/null
fi
if R getent passwd posagent >/dev/null; then
	R deluser --quiet posagent >/dev/null 2>&1 || true
fi
R rm -rf /var/lib/posagent /etc/posagent
if R getent group posagent >/dev/null; then
	R delgroup --quiet posagent >/dev/null 2>&1 || true
fi
! R getent passwd posagent >/dev/null || fail "could not clear the posagent user in the copy"
! R getent group posagent >/dev/null || fail "could not clear the posagent group in the copy"

check "dpkg -i installs it, without systemd"
expect_rc 0 R dpkg -i /tmp/posagent.deb
cat "$T/out" "$T/err"
grep -q 'posagent.db ready' "$T/out" || fail "postinst did not run posagent init"
[ "$(R dpkg-query -W -f '${Status}' posagent)" = "install ok installed" ] || fail "posagent is not installed"

check "the posagent system user and group"
IFS=: read -r _ _ uid gid _ home shell < <(R getent passwd posagent) || fail "no posagent user"
[ "$uid" -lt 1000 ] || fail "posagent has uid $uid: not a system user"
[ "$(R getent group posagent | cut -d: -f3)" = "$gid" ] || fail "posagent's group is not posagent"
[ "$home" = /var/lib/posagent ] || fail "posagent's home is $home"
case "$shell" in */nologin | */false) ;; *) fail "posagent's shell is $shell" ;; esac

check "/var/lib/posagent is posagent:posagent 2770; the database in it is posagent's, 0660 at most"
[ "$(owner_mode /var/lib/posagent)" = "posagent:posagent 2770" ] ||
	fail "/var/lib/posagent is $(owner_mode /var/lib/posagent)"
[ -f "$M/var/lib/posagent/posagent.db" ] || fail "no database"
[ "$(R stat -c %U:%G /var/lib/posagent/posagent.db)" = posagent:posagent ] ||
	fail "the database is $(owner_mode /var/lib/posagent/posagent.db)"
no_others /var/lib/posagent/posagent.db

check "the files: the binary, the conffile, the unit (enabled), the man page"
[ "$(R dpkg-query -W -f '${Conffiles}' posagent | awk 'NF {print $1}')" = /etc/posagent/posagent.conf ] ||
	fail "dpkg does not list /etc/posagent/posagent.conf as the conffile"
R posagent --version | grep -qx "posagent $VERSION" || fail "posagent --version"
[ "$(R readlink /etc/systemd/system/multi-user.target.wants/posagent.service)" = /lib/systemd/system/posagent.service ] ||
	fail "the unit is not enabled"
R man -w posagent | grep -q 'man1/posagent.1.gz' || fail "man does not find posagent(1)"
expect_rc 0 R systemd-analyze verify /lib/systemd/system/posagent.service
if [ -s "$T/out" ] || [ -s "$T/err" ]; then
	fail "systemd-analyze verify on the installed unit had something to say"
fi

check "a POS user in the posagent group and the service user share the database"
R useradd --create-home --groups posagent pos
expect_rc 0 AS pos sh -c 'umask 022 && posagent customer create --first-name Ana --last-name Pos'
expect_rc 0 AS posagent posagent --json customer list
[ "$(jget 'map(.first_name) | join(",")')" = Ana ] || fail "the posagent user does not see the POS user's customer"
expect_rc 0 AS posagent posagent customer create --first-name Bo --last-name Svc
expect_rc 0 AS pos posagent --json customer list
[ "$(jget 'map(.first_name) | sort | join(",")')" = Ana,Bo ] || fail "the POS user does not see the service user's customer"
for f in posagent.db posagent.db-wal posagent.db-shm; do
	[ -e "$M/var/lib/posagent/$f" ] || continue
	[ "$(R stat -c %G "/var/lib/posagent/$f")" = posagent ] || fail "$f is not in the posagent group"
	no_others "/var/lib/posagent/$f"
	echo "  $f: $(owner_mode "/var/lib/posagent/$f")"
done
expect_rc 74 AS nobody posagent customer list

check "reinstall (the upgrade path) keeps the data and an edited conffile, makes the token root:posagent 0640"
R sh -c 'umask 077 && echo test-token >/etc/posagent/token'
R sed -i 's/^idle_interval = 60 /idle_interval = 61 /' /etc/posagent/posagent.conf
expect_rc 0 R dpkg -i /tmp/posagent.deb
grep -q 'posagent.db ready' "$T/out" || fail "postinst did not run posagent init again"
grep -q '^idle_interval = 61 ' "$M/etc/posagent/posagent.conf" || fail "the edited conffile was replaced"
[ "$(owner_mode /etc/posagent/token)" = "root:posagent 640" ] || fail "the token is $(owner_mode /etc/posagent/token)"
expect_rc 0 AS pos cat /etc/posagent/token
expect_rc 1 AS nobody cat /etc/posagent/token
expect_rc 0 AS pos posagent --json customer list
[ "$(jget length)" -eq 2 ] || fail "the reinstall lost customers"
[ "$(owner_mode /var/lib/posagent)" = "posagent:posagent 2770" ] || fail "/var/lib/posagent is now $(owner_mode /var/lib/posagent)"

check "dpkg -r keeps the conffile, the data and the user"
expect_rc 0 R dpkg -r posagent
[ ! -e "$M/usr/bin/posagent" ] || fail "the binary is still there"
[ -f "$M/etc/posagent/posagent.conf" ] || fail "remove took the conffile"
[ -f "$M/var/lib/posagent/posagent.db" ] || fail "remove took the database"
R getent passwd posagent >/dev/null || fail "remove took the user"

check "dpkg --purge removes the conffile, the enablement and the database, keeps the token and user"
expect_rc 0 R dpkg --purge posagent
cat "$T/err"
[ ! -e "$M/etc/posagent/posagent.conf" ] || fail "purge kept the conffile"
[ ! -e "$M/etc/systemd/system/multi-user.target.wants/posagent.service" ] || fail "purge kept the enablement"
[ ! -e "$M/var/lib/systemd/deb-systemd-helper-enabled/posagent.service.dsh-also" ] || fail "purge kept deb-systemd-helper's state"
[ ! -e "$M/var/lib/posagent" ] || fail "purge kept /var/lib/posagent"
[ -f "$M/etc/posagent/token" ] || fail "purge took the token"
R getent passwd posagent >/dev/null || fail "purge took the user"
grep -q 'removed /var/lib/posagent' "$T/err" || fail "purge does not say what it removed"
grep -q 'kept /etc/posagent/token' "$T/err" || fail "purge does not say what it kept"
st=$(R dpkg-query -W -f '${Status}' posagent 2>/dev/null || true)
case "$st" in "" | *not-installed) ;; *) fail "dpkg still says posagent is '$st'" ;; esac

echo "ok ($(($(date +%s) - started)) s; the copy is discarded now)"
