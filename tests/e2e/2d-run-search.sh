#!/bin/bash
# 2d-run-search: `customer search` answered by the running service over
# DATABASE-lookup (common/lookup.h), and by the command itself whenever the
# service does not answer.
# What must hold: with the service up, every search prints byte for byte
# what the command prints searching itself (text, --json, --limit, no
# match, a refused text with its exit code), and the command never opens
# the database (strace); the socket is 0660 with the database's group; a
# customer created after the service started is found at once; a stopped
# service (SIGSTOP) costs a search about a second, never a failure; a
# killed one leaves a stale socket that costs nothing and that a new
# service replaces; a stopped service removes its socket. No line of the
# service's log names a searched text or a customer.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
command -v strace >/dev/null || skip "needs strace (make deps installs it) to see that the command opens no database"
hq_start
pr init >/dev/null
# HQ down for the whole script: the register is offline, so the service
# syncs nothing and the customers' states stay as the reference saw them
hq_stop
SOCK=$DB-lookup
pid=
own_trap() {
	trap '[ -n "$pid" ] && kill -CONT "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null; hq_stop_quiet; chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT
}
own_trap

pr customer create --first-name Ana --last-name Silva --email ana.silva@example.com --phone "+351 911 234 567" >/dev/null
pr customer create --first-name João --last-name Silvestre --phone "+351 912 000 111" >/dev/null
pr customer create --kind organization --organization "Silva & Filhos" --email loja@silva.example >/dev/null
pr customer create --first-name Rui --last-name Costa >/dev/null
pr customer address add R01-000004 --line1 "Rua da Silveira 9" --city Porto --postal-code 4000-001 --country PT >/dev/null

# The searches: text, JSON, a limit, accents and word order, a phone, an
# address, no match, and a text the search refuses (65).
SEARCHES=("silv" "silva ana" "joao" "911 234" "silveira" "zzzzzz" "--limit=1 silv" "ana$(printf '\001')")
# run_all DIR: each search's stdout, stderr and exit code into DIR
run_all() {
	local dir=$1 i=0 s rc
	mkdir -p "$dir"
	for s in "${SEARCHES[@]}"; do
		for fmt in text json; do
			rc=0
			# shellcheck disable=SC2086 # "--limit=1 silv" is two words
			if [ "$fmt" = json ]; then
				if [ "${s#--}" != "$s" ]; then pr --json customer search ${s} || rc=$?; else pr --json customer search "$s" || rc=$?; fi
			else
				if [ "${s#--}" != "$s" ]; then pr customer search ${s} || rc=$?; else pr customer search "$s" || rc=$?; fi
			fi >"$dir/$i.$fmt.out" 2>"$dir/$i.$fmt.err"
			echo "$rc" >"$dir/$i.$fmt.rc"
		done
		i=$((i + 1))
	done
}

# opens_db ARGS...: whether `posagent ARGS...` opened the database file (strace)
opens_db() {
	strace -f -qq -e trace=open,openat -o "$T/strace" "$POSAGENT_BIN" -c "$CONF" "$@" >/dev/null 2>&1 || true
	grep -q "\"$DB\"" "$T/strace"
}
# answered: a search is answered by the service (the command opens no database)
answered() { [ -S "$SOCK" ] && ! opens_db customer search zzzzzz; }
start_service() {
	"$POSAGENT_BIN" -c "$CONF" run 2>>"$T/run.log" &
	pid=$!
	wait_until 10 "the service answering searches" answered
}

check "without the service, the command searches itself (the reference outputs)"
[ ! -e "$SOCK" ] || fail "a lookup socket exists before any service ran"
run_all "$T/self"
grep -q "Ana Silva" "$T/self/0.text.out" || fail "search silv did not find Ana Silva"
[ "$(jq length "$T/self/0.json.out")" = 4 ] || fail "search silv: want 4 customers (three names, one street), got $(jq length "$T/self/0.json.out")"
[ "$(cat "$T/self/5.text.rc")" = 0 ] && grep -q "no customers found" "$T/self/5.text.err" || fail "no match: want exit 0 and 'no customers found'"
[ "$(cat "$T/self/7.text.rc")" = 65 ] || fail "a control character: want exit 65, got $(cat "$T/self/7.text.rc")"
opens_db customer search silv || fail "strace saw no open of the database by a search without the service"

check "the service binds DATABASE-lookup, mode 0660, the database's group"
start_service
[ "$(stat -c %a "$SOCK")" = 660 ] || fail "socket mode $(stat -c %a "$SOCK"), want 660"
[ "$(stat -c %g "$SOCK")" = "$(stat -c %g "$DB")" ] || fail "socket group differs from the database's"

check "with the service, every search prints exactly what the command prints itself, without opening the database"
run_all "$T/svc"
diff -r "$T/self" "$T/svc" >"$T/diff" || { cat "$T/diff" >&2; fail "the service's answers differ from the command's own"; }
for s in silv "silva ana" "911 234"; do
	! opens_db customer search "$s" || fail "search \"$s\" opened the database although the service runs"
	! opens_db --json customer search "$s" || fail "search --json \"$s\" opened the database although the service runs"
done
# a refused text is the command's to report: it asks, then searches itself
opens_db customer search "ana$(printf '\001')" || fail "a refused text was not reported by the command itself"

check "a customer created after the service started is found at once"
pr customer create --first-name Silvana --last-name Nova >/dev/null
! opens_db customer search silvana || fail "search silvana opened the database"
pr customer search silvana | grep -q "Silvana Nova" || fail "the service did not see a commit made before the question"

check "a stopped service (SIGSTOP) costs a search about a second, never a failure"
pr customer search "silva ana" >"$T/want-silva-ana"
pr customer search silv >"$T/want-silv"
kill -STOP "$pid"
t0=$(date +%s%N)
expect_rc 0 timeout 30 "$POSAGENT_BIN" -c "$CONF" customer search "silva ana"
cmp -s "$T/out" "$T/want-silva-ana" || fail "search while the service is stopped printed something else"
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 20000 ] || fail "search while the service is stopped took $ms ms"
kill -CONT "$pid"

check "a killed service leaves a stale socket: searches go on at once, a new service replaces it"
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
pid=
[ -S "$SOCK" ] || fail "expected the stale socket to stay after SIGKILL"
expect_rc 0 timeout 30 "$POSAGENT_BIN" -c "$CONF" customer search silv
cmp -s "$T/out" "$T/want-silv" || fail "search with a stale socket printed something else"
opens_db customer search silv || fail "with a stale socket the command must search itself"
start_service
grep -q "another service was answering searches" "$T/run.log" && fail "a stale socket was taken for a live service"
! opens_db customer search silv || fail "the new service does not answer"

check "SIGTERM: the service stops and removes its socket"
kill -TERM "$pid"
wait "$pid" || fail "the service exited $? on SIGTERM"
pid=
[ ! -e "$SOCK" ] || fail "the lookup socket is still there after the service stopped"

check "the service's log names no searched text and no customer"
# the messages only: without the time, "posagent[PID]:" and the paths
# under the random $T, which could hold any of the words by chance
sed -e 's/^[^ ]* posagent\[[0-9]*\]: //' -e "s#$T#T#g" "$T/run.log" >"$T/run.msgs"
for w in silv Silva "Ana " joao João silveira Silvana "911 234" ana.silva@ Costa "silva ana" zzzzzz; do
	! grep -qi -- "$w" "$T/run.msgs" || fail "the service's log mentions \"$w\": $(grep -i -- "$w" "$T/run.msgs" | head -1)"
done
echo "PASS"
