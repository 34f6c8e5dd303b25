#!/bin/bash
# Long poll: with nothing after the cursor, GET changes?wait=S holds until
# a change of that store is published -- and answers at once when one is
# -- or answers at S seconds with no changes and the same cursor. A change
# of another store does not end it; other requests are served meanwhile;
# a poll whose client went away is let go.
. "$(dirname "$0")/lib.bash"
hq_start
F=/v1/stores/S0001/changes
# logged TEXT: how many hq.log lines have TEXT (method, path, status).
# served_ms TEXT N: how long HQ itself took over the request whose line is
# the one after the first N with TEXT (waiting up to 2 s for HQ to write
# it): HQ's own clock, not a client's wall time, which a loaded machine
# stretches by seconds (process start).
logged() { grep -cF " $1 " "$DIR/hq.log" || true; }
served_ms() {
	local i
	for i in $(seq 20); do
		[ "$(logged "$1")" -gt "$2" ] && break
		sleep 0.1
	done
	grep -F " $1 " "$DIR/hq.log" | sed -n "$(($2 + 1))s/.* \([0-9][0-9]*\)ms\$/\1/p"
}
post "$(batches S0001-R01)" S0001-R01 "$(batch "$(customer "$(uuid)")")"
get "$F" S0001-R01
cur=$(jb .next)

n=$(logged "GET $F 200")
get "$F?after=$cur&wait=0" S0001-R01
ms=$(served_ms "GET $F 200" "$n")
[ -n "$ms" ] && [ "$ms" -lt 1000 ] || fail "wait=0 held the request ${ms:-?} ms"
t0=$(now)
n=$(logged "GET $F 200")
get "$F?after=$cur&wait=2" S0001-R01
e=$(elapsed "$t0")
expect_status 200 "empty long poll"
ms=$(served_ms "GET $F 200" "$n")
awk -v e="$e" -v ms="${ms:-0}" 'BEGIN{exit !(e >= 1.9 && ms >= 1900 && ms < 3500)}' || fail "wait=2 answered after $e s (HQ: ${ms:-?} ms)"
eq "$(jb '.changes | length')" 0 "no changes at the end of the wait"
eq "$(jb .next)" "$cur" "same cursor at the end of the wait"
ok "wait=2 with nothing: answered after $e s, empty, same cursor"

# poll_bg NAME STORE-REG STORE WAIT: a long poll in the background.
poll_bg() {
	curl_as "$2" -o "$DIR/$1.out" -w '%{http_code} %{time_total}\n' \
		"$BASE/v1/stores/$3/changes?after=$cur&wait=$4" >"$DIR/$1.status" &
}
np1=$(logged "GET $F 200")
poll_bg p1 S0001-R02 S0001 20
pid1=$!
sleep 0.5
n=$(logged "GET /v1/health 200")
get /v1/health ""
ms=$(served_ms "GET /v1/health 200" "$n")
[ -n "$ms" ] && [ "$ms" -lt 1000 ] || fail "health held up by a long poll (${ms:-?} ms)"
c=$(uuid)
post "$(batches S0001-R01)" S0001-R01 "$(batch "$(customer "$c")")"
t1=$(now)
wait $pid1
e=$(elapsed "$t1")
read -r code total <"$DIR/p1.status"
eq "$code" 200 "long poll status"
# Woken by the change: HQ answered it well before its 20 s wait ended.
ms=$(served_ms "GET $F 200" "$np1")
[ -n "$ms" ] && [ "$ms" -lt 15000 ] || fail "the long poll was not woken by the change (HQ held it ${ms:-?} ms)"
eq "$(jq -r '[.changes[].type] | join(" ")' "$DIR/p1.out")" "account_assigned customer" "long poll changes"
eq "$(jq -r '.changes[0].async_id' "$DIR/p1.out")" "$c" "long poll async_id"
ok "a waiting long poll answers as soon as a change arrives ($e s after it, ${total} s in all)"

cur=$(jq -r .next "$DIR/p1.out")
poll_bg p2 S0001-R01 S0001 2
pid2=$!
sleep 0.3
post "$(batches S0002-R01)" S0002-R01 "$(batch "$(customer "$(uuid)")")"
wait $pid2
read -r code total <"$DIR/p2.status"
eq "$code" 200 "p2 status"
eq "$(jq -r '.changes | length' "$DIR/p2.out")" 0 "another store's change"
awk -v e="$total" 'BEGIN{exit !(e >= 1.9)}' || fail "another store's change ended the poll after $total s"
ok "a change of another store does not end the long poll"

# A client that gives up: HQ notices (within about a second) and lets go.
curl_as S0001-R01 --max-time 1 -o /dev/null "$BASE$F?after=$(jq -r .next "$DIR/p2.out")&wait=30" 2>/dev/null || true
for _ in $(seq 30); do
	[ "$(state .long_polls_waiting)" = 0 ] && break
	sleep 0.1
done
eq "$(state .long_polls_waiting)" 0 "long polls left after the client went"
eq "$(state '.requests["GET /v1/stores/S0001/changes gone"]')" 1 "counted as gone"
ok "a long poll whose client went away is let go"
