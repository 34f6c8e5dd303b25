#!/bin/bash
# 70-package: the Debian package, unpacked into a scratch root.
#
# What happens: packaging/make-deb (what `make deb` runs: dpkg-buildpackage
# with debian/, on a copy of the tree) makes build/posagent_VERSION_ARCH.deb
# (skipped when the .deb is newer than every file of the tree); the package is read with dpkg-deb and unpacked
# with dpkg -x into a temp root; its posagent runs --version and init there;
# its unit, conffile and man page are checked; lintian reads the .deb.
# What must hold: the files, owners and modes are the planned ones; Depends
# names the package of every linked library plus libcurl4 (dlopen) and
# adduser; the conffile is listed in DEBIAN/conffiles, has every key of the
# configuration with its default and parses (init with it makes a database
# 0660 at most, even under umask 000); the unit has every setting the
# service needs and `systemd-analyze verify` says nothing about it (checked
# on a copy whose ExecStart is the unpacked binary, with MANPATH at the
# unpacked man page, because neither is installed on this machine); the
# man page renders without a warning and names every command, option, exit
# code and configuration key (the commands and options as the binary's own
# --help lists them); lintian reports no error (E:) and no warning (W:).
#
# The package is built in the top build/ whatever the suite's BUILD (it
# does not use the suite's binary: dpkg-buildpackage compiles its own), so
# the sanitizer run reuses it. The install itself (users, maintainer
# scripts) is 71-install.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
setup
started=$(date +%s)
cd "$TOP"

for tool in dpkg-deb dpkg-shlibdeps lintian man systemd-analyze readelf; do
	command -v "$tool" >/dev/null || fail "$tool is missing (make deps installs it)"
done

VERSION=$("$POSAGENT_BIN" --version | awk '{print $2}')
ARCH=$(dpkg --print-architecture)
DEB=$TOP/build/posagent_${VERSION}_${ARCH}.deb

check "the package $DEB is built (kept when newer than every file of the tree)"
BUILD=$TOP/build VERSION=$VERSION packaging/make-deb --if-stale >"$T/build.log" 2>&1 ||
	{ cat "$T/build.log" >&2; fail "packaging/make-deb failed"; }
cat "$T/build.log"
[ -f "$DEB" ] || fail "no $DEB"

check "control: package, version, architecture, maintainer, section"
dpkg-deb -f "$DEB" >"$T/control"
field() { sed -n "s/^$1: //p" "$T/control"; }
[ "$(field Package)" = posagent ] || fail "Package is '$(field Package)'"
[ "$(field Version)" = "$VERSION" ] || fail "Version is '$(field Version)', the binary says $VERSION"
[ "$(field Architecture)" = "$ARCH" ] || fail "Architecture is '$(field Architecture)'"
[ "$(field Maintainer)" = "posagent developers <dev@posagent.invalid>" ] || fail "Maintainer is '$(field Maintainer)'"
if [ -z "$(field Section)" ] || [ -z "$(field Priority)" ]; then fail "no Section or Priority"; fi

check "Depends names libsqlite3-0, libcjson1, libinih1, zlib1g, libcurl4, adduser, and every linked library's package"
depends=$(field Depends)
echo "  Depends: $depends"
dep_names=$(sed 's/^ *//; s/[ (:].*//' <<<"${depends//[,|]/$'\n'}" | sort -u)
has_dep() { grep -qx -- "$1" <<<"$dep_names"; }
for p in libsqlite3-0 libcjson1 libinih1 zlib1g libcurl4 adduser; do
	has_dep "$p" || fail "Depends does not name $p"
done
grep -Eq 'libcurl4 \(>= [0-9]' <<<"$depends" || fail "Depends has no version for libcurl4"
mkdir "$T/root"
dpkg -x "$DEB" "$T/root"
R=$T/root
for so in $(readelf -d "$R/usr/bin/posagent" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
	owners=$(dpkg -S "*/$so" 2>/dev/null | sed 's/[:,].*//' | sort -u)
	[ -n "$owners" ] || fail "no installed package holds $so (NEEDED by the binary)"
	found=
	for o in $owners; do has_dep "$o" && found=yes; done
	[ -n "$found" ] || fail "$so comes from $owners, which Depends does not name"
done

check "the files, their owners and modes"
dpkg-deb -c "$DEB" | awk '{print $1, $2, $6}' | sed 's| \./| /|' | sort >"$T/files"
cat >"$T/files.want" <<-'EOF'
	-rw-r--r-- root/root /etc/posagent/posagent.conf
	-rw-r--r-- root/root /lib/systemd/system/posagent.service
	-rw-r--r-- root/root /usr/share/doc/posagent/changelog.gz
	-rw-r--r-- root/root /usr/share/doc/posagent/copyright
	-rw-r--r-- root/root /usr/share/man/man1/posagent.1.gz
	-rwxr-xr-x root/root /usr/bin/posagent
EOF
# The search engineer's bash completion, once packaging/ has it.
if [ -f packaging/posagent.bash-completion ]; then
	echo '-rw-r--r-- root/root /usr/share/bash-completion/completions/posagent' >>"$T/files.want"
fi
grep -v '^d' "$T/files" | sort >"$T/files.got"
diff -u <(sort "$T/files.want") "$T/files.got" || fail "the package's files differ from the plan"
if grep '^d' "$T/files" | grep -v '^drwxr-xr-x root/root '; then
	fail "a directory is not root/root 0755"
fi
if grep -q '/var/' "$T/files"; then
	fail "the package ships something under /var (postinst makes /var/lib/posagent)"
fi

check "DEBIAN/: conffiles lists /etc/posagent/posagent.conf; md5sums; maintainer scripts parse"
dpkg-deb -e "$DEB" "$T/ctl"
[ "$(cat "$T/ctl/conffiles")" = /etc/posagent/posagent.conf ] || fail "conffiles is: $(cat "$T/ctl/conffiles")"
(cd "$R" && md5sum --quiet -c "$T/ctl/md5sums") || fail "md5sums does not match the files"
for s in preinst postinst prerm postrm; do
	[ -x "$T/ctl/$s" ] || fail "no executable $s"
	head -1 "$T/ctl/$s" | grep -qx '#!/bin/sh' || fail "$s does not start with #!/bin/sh"
	grep -qx 'set -e' "$T/ctl/$s" || fail "$s has no 'set -e'"
	sh -n "$T/ctl/$s" || fail "$s does not parse"
	if command -v shellcheck >/dev/null; then
		shellcheck -s sh "$T/ctl/$s" || fail "shellcheck: $s"
	fi
done
grep -q 'adduser .*--system' "$T/ctl/postinst" || fail "postinst makes no system user"
grep -q 'install -d -o posagent -g posagent -m 2770 ' "$T/ctl/postinst" || fail "postinst makes no 2770 state directory"
# shellcheck disable=SC2016 # the script's own text
grep -q 'posagent -c "$CONF" init' "$T/ctl/postinst" || fail "postinst runs no posagent init"

check "the unpacked posagent runs: --version says $VERSION"
expect_rc 0 "$R/usr/bin/posagent" --version
[ "$(cat "$T/out")" = "posagent $VERSION" ] || fail "--version printed '$(cat "$T/out")'"
LAST_CMD=

check "the conffile holds every configuration key with its default"
# AGENT.md's Configuration section; store, register and url are required:
# the example gives AGENT.md's example values.
cat >"$T/keys.want" <<-'EOF'
	agent.store=S0001
	agent.register=R01
	agent.database=/var/lib/posagent/posagent.db
	agent.currency=EUR
	hq.url=https://hq.example.com
	hq.ca_file=/etc/posagent/hq-ca.pem
	hq.token_file=/etc/posagent/token
	hq.client_cert=
	hq.client_key=
	hq.connect_timeout=5
	hq.request_timeout=30
	sync.batch_size=200
	sync.retry_max=300
	sync.idle_interval=60
	sync.long_poll=25
	eod.timeout=900
	doctor.waiting_warn=3600
	doctor.waiting_fail=86400
	metrics.textfile=/var/lib/prometheus/node-exporter/posagent.prom
	metrics.interval=15
	retention.keep_days=90
EOF
CONF=$R/etc/posagent/posagent.conf
awk '
	/^[ \t]*[;#]/ || /^[ \t]*$/ { next }
	/^\[/ { sec = $0; gsub(/[][ \t]/, "", sec); next }
	{
		line = $0; sub(/[ \t]+;.*$/, "", line)
		k = line; sub(/=.*/, "", k); gsub(/[ \t]/, "", k)
		v = line; sub(/^[^=]*=[ \t]*/, "", v); sub(/[ \t]+$/, "", v)
		print sec "." k "=" v
	}' "$CONF" >"$T/keys.got"
diff -u "$T/keys.want" "$T/keys.got" || fail "the conffile's keys or defaults differ from AGENT.md"
n_comments=$(grep -Ec '^[a-z_]+ = .*[[:space:]];[[:space:]]*[^[:space:]]' "$CONF" || true)
[ "$n_comments" -eq "$(wc -l <"$T/keys.want")" ] || fail "only $n_comments of the keys have a comment"

check "the conffile parses: with the database in the scratch root, init makes it 0660 at most under umask 000"
mkdir -m 2770 "$R/var" "$R/var/lib" "$R/var/lib/posagent"
sed "s|^database = /var/lib/posagent/posagent.db|database = $R/var/lib/posagent/posagent.db|" "$CONF" >"$T/pkg.conf"
[ "$(diff "$CONF" "$T/pkg.conf" | grep -c '^[<>]')" -eq 2 ] || fail "could not point the database into the scratch root"
(umask 000 && "$R/usr/bin/posagent" -c "$T/pkg.conf" init) >"$T/out" 2>"$T/err" || fail "init with the conffile failed"
DB=$R/var/lib/posagent/posagent.db
[ -f "$DB" ] || fail "init made no $DB"
(umask 000 && "$R/usr/bin/posagent" -c "$T/pkg.conf" customer create --first-name Ana --last-name Pkg) \
	>"$T/out" 2>"$T/err" || fail "customer create with the conffile failed"
for f in "$DB" "$DB-wal" "$DB-shm"; do
	[ -e "$f" ] || continue
	m=$(stat -c %a "$f")
	[ $((8#$m & ~8#660)) -eq 0 ] || fail "$f has mode $m: more than 0660 (others must get nothing)"
	echo "  $(basename "$f"): $m"
done
[ "$(sql 'SELECT count(*) FROM sqlite_master')" -gt 0 ] || fail "the database has no schema"
# The unmodified conffile parses too: any [agent] command gets past the
# configuration (74 when /var/lib/posagent/posagent.db does not exist here).
rc=0
"$R/usr/bin/posagent" -c "$CONF" --json customer list >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 74 ] || fail "the shipped conffile does not parse (exit $rc): $(cat "$T/err")"

check "the unit has every setting the service needs"
UNIT=$R/lib/systemd/system/posagent.service
for want in 'Type=notify' 'NotifyAccess=main' 'WatchdogSec=30s' 'SystemCallFilter=@system-service' \
	'ExecReload=/usr/bin/posagent -c /etc/posagent/posagent.conf run --check' 'User=posagent' 'Group=posagent' \
	'ExecStart=/usr/bin/posagent -c /etc/posagent/posagent.conf run' \
	'StateDirectory=posagent' 'StateDirectoryMode=2770' 'UMask=0007' 'Restart=on-failure' \
	'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' 'PrivateDevices=yes' \
	'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' 'CapabilityBoundingSet=' \
	'ConditionPathExists=/etc/posagent/token' 'Documentation=man:posagent(1)' 'WantedBy=multi-user.target'; do
	grep -qxF -- "$want" "$UNIT" || fail "the unit has no line '$want'"
done

check "systemd-analyze verify says nothing (on a copy whose ExecStart is the unpacked binary)"
mkdir "$T/unit"
sed "s|^\(Exec[A-Za-z]*\)=/usr/bin/posagent |\1=$R/usr/bin/posagent |" "$UNIT" >"$T/unit/posagent.service"
grep -q "^ExecStart=$R/usr/bin/posagent " "$T/unit/posagent.service" || fail "could not point ExecStart at the unpacked binary"
rc=0
(cd "$T/unit" && MANPATH=$R/usr/share/man SYSTEMD_LOG_COLOR=0 systemd-analyze verify "$T/unit/posagent.service") \
	>"$T/verify" 2>&1 || rc=$?
if [ "$rc" -ne 0 ] || [ -s "$T/verify" ]; then
	cat "$T/verify" >&2
	fail "systemd-analyze verify: exit $rc, or it had something to say"
fi

check "systemd-analyze security scores the unit 2.0 or lower"
(cd "$T/unit" && MANPATH=$R/usr/share/man SYSTEMD_LOG_COLOR=0 systemd-analyze security --offline=yes \
	"$T/unit/posagent.service") >"$T/security" 2>&1 || true
score=$(sed -n 's/.*Overall exposure level for posagent.service: \([0-9.]*\).*/\1/p' "$T/security")
echo "  exposure: ${score:-?}"
[ -n "$score" ] || { cat "$T/security" >&2; fail "systemd-analyze security gave no score"; }
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || { grep '✗' "$T/security" >&2; fail "exposure $score is over 2.0"; }

check "the man page renders without a warning (man -l, and man --warnings as lintian runs it)"
MAN=$R/usr/share/man/man1/posagent.1.gz
warn=$(MANWIDTH=80 man -l "$MAN" 2>&1 >/dev/null) || fail "man -l failed: $warn"
[ -z "$warn" ] || fail "man -l warns: $warn"
warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$MAN" 2>&1 >/dev/null) || fail "man --warnings failed"
[ -z "$warn" ] || fail "man --warnings: $warn"
LC_ALL=C MANWIDTH=200 man -l "$MAN" >"$T/man.txt" 2>/dev/null
head -1 "$T/man.txt" | grep -q '^POSAGENT(1)' || fail "the page's title is not POSAGENT(1)"
tail -1 "$T/man.txt" | grep -q "posagent $VERSION" || fail "the page's footer does not name version $VERSION"
for sec in NAME SYNOPSIS DESCRIPTION OPTIONS COMMANDS CONFIGURATION 'EXIT STATUS' ENVIRONMENT FILES 'SEE ALSO'; do
	grep -qx "$sec" "$T/man.txt" || fail "the man page has no $sec section"
done

check "the man page names every command and option the binary's --help lists"
"$R/usr/bin/posagent" --help >"$T/help"
commands=$(awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }' "$T/help")
[ "$(wc -w <<<"$commands")" -ge 9 ] || fail "--help lists only: $commands"
: >"$T/usage"
for cmd in $commands; do
	grep -qx "   $cmd\( .*\)\?" "$T/man.txt" || fail "the man page has no subsection for the command $cmd"
	"$R/usr/bin/posagent" -c /nonexistent "$cmd" --help >>"$T/usage" 2>/dev/null ||
		echo "  ($cmd --help is not there yet: its options are not checked)"
done
cat "$T/help" >>"$T/usage"
# Each usage line's options, in the subsection of its command.
grep -o 'posagent [a-z].*' "$T/usage" | sort -u >"$T/usage.lines"
: >"$T/subcommands"
while IFS= read -r line; do
	sub=$(grep -o '^posagent [a-z]\+\( [a-z]\+\)*' <<<"$line" | sed 's/^posagent //')
	echo "$sub" >>"$T/subcommands"
	awk -v h="   $sub" '$0 == h { on = 1; next } on && (/^   [a-z]/ || /^[A-Z]/) { exit } on' "$T/man.txt" >"$T/man.sub"
	[ -s "$T/man.sub" ] || fail "the man page has no subsection '$sub'"
	while IFS= read -r opt; do
		grep -qF -- "$opt" "$T/man.sub" || fail "the man page's '$sub' does not name its option $opt"
	done < <(grep -o -- '--[a-z][a-z0-9-]*' <<<"$line")
done <"$T/usage.lines"
sort -u -o "$T/subcommands" "$T/subcommands"
grep -o -- '--[a-z][a-z0-9-]*' "$T/usage" | sort -u >"$T/options"
for opt in $(cat "$T/options") -c --json --help --version --config; do
	grep -qF -- "$opt" "$T/man.txt" || fail "the man page does not name the option $opt"
done
echo "  $(wc -l <"$T/subcommands") commands, $(wc -l <"$T/options") options"

check "the man page names every exit code and configuration key (with its default)"
sed -n '/^EXIT STATUS$/,/^[A-Z]/p' "$T/man.txt" >"$T/man.exit"
for code in 0 1 64 65 69 74 75 78 130; do
	grep -Eq "^ +$code( |$)" "$T/man.exit" || fail "EXIT STATUS does not list $code"
done
sed -n '/^CONFIGURATION$/,/^[A-Z]/p' "$T/man.txt" >"$T/man.conf"
while IFS= read -r kv; do
	sec=${kv%%.*} kv=${kv#*.}
	key=${kv%%=*} def=${kv#*=}
	grep -qx "   \[$sec\]" "$T/man.conf" || fail "CONFIGURATION has no [$sec]"
	case "$key" in
	store | register | url) grep -Eq "^ +$key( |$)" "$T/man.conf" || fail "CONFIGURATION does not list $key" ;;
	client_cert | client_key | textfile) grep -Eq "^ +$key = \(empty\)" "$T/man.conf" || fail "CONFIGURATION does not list $key" ;;
	*) grep -qx " *$key = $def" "$T/man.conf" || fail "CONFIGURATION does not list '$key = $def'" ;;
	esac
done <"$T/keys.want"
grep -q POSAGENT_CONFIG "$T/man.txt" || fail "the man page does not name POSAGENT_CONFIG"

check "lintian reports no error and no warning"
t0=$(date +%s)
lintian --display-info "$DEB" >"$T/lintian" 2>&1 || true
echo "  lintian took $(($(date +%s) - t0)) s; it says:"
sed 's/^/  | /' "$T/lintian"
if grep -q '^[EW]: ' "$T/lintian"; then
	fail "lintian reports errors or warnings"
fi

echo "ok ($(($(date +%s) - started)) s)"
