#!/bin/bash
# 47-help-man: every command and subcommand has its own --help, and the man
# page documents every option that --help shows (issue 13).
#
# What happens: the commands are read from `posagent --help`, the
# subcommands from each command's usage lines ("posagent customer address
# add ..."), and `--help` is run on every one of them and on every prefix
# ("customer address"); every --OPTION in any of those outputs is looked
# up in packaging/posagent.1.
# Then packaging/posagent.bash-completion is loaded into bash and asked for
# completions as a shell would.
# What must hold: each --help exits 0 with nothing on stderr and prints its
# own usage first ("usage: posagent customer address edit ..." for that
# subcommand, not another one's); every option shown appears in the man
# page; no database or configuration is needed for any of it; the
# completion offers every command and subcommand, every option each one's
# --help shows, and the --state, --kind and --purpose values.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
setup

MAN=$TOP/packaging/posagent.1
[ -f "$MAN" ] || fail "no man page at $MAN"
sed 's/\\-/-/g' "$MAN" >"$T/man.txt"

# help PATH...: runs `posagent PATH --help`, checks it, appends the output to $T/all
help() {
	local path="$*"
	LAST_CMD="posagent $path --help"
	# shellcheck disable=SC2086
	"$POSAGENT_BIN" $path --help >"$T/out" 2>"$T/err" || fail "\`posagent $path --help\` exited $?"
	[ ! -s "$T/err" ] || fail "\`posagent $path --help\` wrote to stderr"
	head -n 1 "$T/out" | grep -q "^usage: posagent $path\( \|$\)" ||
		fail "\`posagent $path --help\` does not start with its own usage: $(head -n 1 "$T/out")"
	cat "$T/out" >>"$T/all"
	cp "$T/out" "$T/help.${path// /_}"
}

check "posagent --help and --version"
: >"$T/all"
expect_rc 0 "$POSAGENT_BIN" --help
grep -q '^usage: posagent ' "$T/out" || fail "posagent --help prints no usage"
cat "$T/out" >>"$T/all"
commands=$(sed -n '/^commands:/,/^$/s/^  \([a-z]\+\) .*/\1/p' "$T/out")
[ "$(echo "$commands" | wc -w)" -ge 9 ] || fail "posagent --help lists too few commands: $commands"
expect_rc 0 "$POSAGENT_BIN" --version
grep -Eq '^posagent [0-9]+\.[0-9]+\.[0-9]+' "$T/out" || fail "--version prints no version"

check "every command and subcommand: its own --help, exit 0"
n=0
for cmd in $commands; do
	help "$cmd"
	n=$((n + 1))
	# subcommands: the lower-case words after "posagent CMD" on each usage line
	subs=$(sed -n 's/^\(usage: \|       \)posagent \(\([a-z][a-z0-9]* \?\)*\).*/\2/p' "$T/out" | sed 's/ *$//' | sort -u)
	while IFS= read -r sub; do
		[ -n "$sub" ] && [ "$sub" != "$cmd" ] || continue
		# every prefix too: "customer address" before "customer address add"
		set -- $sub
		p=$1
		shift
		for w in "$@"; do
			p="$p $w"
			grep -qxF "$p" "$T/done" 2>/dev/null && continue
			echo "$p" >>"$T/done"
			help "$p"
			n=$((n + 1))
		done
	done <<<"$subs"
done
echo "  $n --help outputs checked"
grep -qxF "customer address edit" "$T/done" && grep -qxF "customer address" "$T/done" && grep -qxF "txn record" "$T/done" ||
	fail "the subcommands were not all found: $(tr '\n' ',' <"$T/done")"

check "every option shown by --help is in the man page"
missing=
for opt in $(grep -o -- '--[a-z][a-z0-9-]*' "$T/all" | sort -u); do
	grep -q -- "$opt\b" "$T/man.txt" || missing="$missing $opt"
done
[ -z "$missing" ] || fail "options shown by --help but not in packaging/posagent.1:$missing"
for opt in -c --json --help --version; do
	grep -q -- "$opt\b" "$T/man.txt" || fail "the man page lacks the global option $opt"
done

check "bash completion: commands, subcommands, every option of each --help, --state values"
COMP=$TOP/packaging/posagent.bash-completion
[ -f "$COMP" ] || fail "no $COMP"
# complete WORDS...: what the completion offers for the last word, sorted, one line
complete_words() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _posagent; printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' \
		_ "$COMP" "$@"
}
[ "$(complete_words posagent "")" = "$(echo "$commands" | sort | tr '\n' ' ')" ] ||
	fail "commands offered: $(complete_words posagent "")"
[ "$(complete_words posagent customer "")" = "address create edit list search show " ] ||
	fail "customer subcommands offered: $(complete_words posagent customer "")"
[ "$(complete_words posagent -c /etc/x.conf customer address "")" = "add edit " ] || fail "address subcommands"
[ "$(complete_words posagent customer list --state "")" = "pending rejected synced uploaded " ] || fail "--state values"
[ "$(complete_words posagent customer list --state s)" = "synced " ] || fail "--state s"
[ "$(complete_words posagent customer create --kind "")" = "organization person " ] || fail "--kind values"
[ "$(complete_words posagent customer address add X --purpose "")" = "delivery home invoice " ] || fail "--purpose values"
[ "$(complete_words posagent --js)" = "--json " ] || fail "global options"
for f in "$T"/help.*; do
	path=${f#"$T/help."}
	path=${path//_/ }
	grep -q "^$path " "$T/done" && continue # a parent (customer, txn): its children are checked
	# shellcheck disable=SC2086
	offered=$(complete_words posagent $path -)
	for opt in $(grep -o -- '--[a-z][a-z0-9-]*' "$f" | sort -u); do
		case " $offered " in *" $opt "*) ;; *) fail "the completion of \`posagent $path -\` lacks $opt (offers: $offered)" ;; esac
	done
done

echo "ok"
