#!/bin/bash
# Long poll: with nothing after the cursor, GET changes?wait=S holds until
# a change of that store is published -- and answers at once when one is
# -- or answers at S seconds with no changes and the same cursor. A change
# of another store does not end it; other requests are served meanwhile;
# a poll whose client went away is let go.
. "$(dirname "$0")/lib.bash"
hq_start
F=/v1/stores/S0001/changes
post "$(batches S0001-R01)" S0001-R01 "$(batch "$(customer "$(uuid)")")"
get "$F" S0001-R01
cur=$(jb .next)

t0=$(now)
get "$F?after=$cur&wait=0" S0001-R01
awk -v e="$(elapsed "$t0")" 'BEGIN{exit !(e < 10)}' || fail "wait=0 took $(elapsed "$t0") s"
t0=$(now)
get "$F?after=$cur&wait=2" S0001-R01
e=$(elapsed "$t0")
expect_status 200 "empty long poll"
awk -v e="$e" 'BEGIN{exit !(e >= 1.9 && e < 15)}' || fail "wait=2 answered after $e s"
eq "$(jb '.changes | length')" 0 "no changes at the end of the wait"
eq "$(jb .next)" "$cur" "same cursor at the end of the wait"
ok "wait=2 with nothing: answered after $e s, empty, same cursor"

# poll_bg NAME STORE-REG STORE WAIT: a long poll in the background.
poll_bg() {
	curl_as "$2" -o "$DIR/$1.out" -w '%{http_code} %{time_total}\n' \
		"$BASE/v1/stores/$3/changes?after=$cur&wait=$4" >"$DIR/$1.status" &
}
poll_bg p1 S0001-R02 S0001 20
pid1=$!
for _ in $(seq 600); do
	[ "$(state .long_polls_waiting)" = 1 ] && break
	sleep 0.05
done
eq "$(state .long_polls_waiting)" 1 "the long poll waiting"
t0=$(now)
get /v1/health ""
awk -v e="$(elapsed "$t0")" 'BEGIN{exit !(e < 10)}' || fail "health held up by a long poll"
c=$(uuid)
post "$(batches S0001-R01)" S0001-R01 "$(batch "$(customer "$c")")"
t1=$(now)
wait $pid1
e=$(elapsed "$t1")
read -r code total <"$DIR/p1.status"
eq "$code" 200 "long poll status"
awk -v e="$e" 'BEGIN{exit !(e < 10)}' || fail "the long poll answered $e s after the change"
eq "$(jq -r '[.changes[].type] | join(" ")' "$DIR/p1.out")" "account_assigned customer" "long poll changes"
eq "$(jq -r '.changes[0].async_id' "$DIR/p1.out")" "$c" "long poll async_id"
ok "a waiting long poll answers as soon as a change arrives ($e s after it, ${total} s in all)"

cur=$(jq -r .next "$DIR/p1.out")
poll_bg p2 S0001-R01 S0001 5
pid2=$!
for _ in $(seq 600); do
	[ "$(state .long_polls_waiting)" = 1 ] && break
	sleep 0.05
done
post "$(batches S0002-R01)" S0002-R01 "$(batch "$(customer "$(uuid)")")"
wait $pid2
read -r code total <"$DIR/p2.status"
eq "$code" 200 "p2 status"
eq "$(jq -r '.changes | length' "$DIR/p2.out")" 0 "another store's change"
awk -v e="$total" 'BEGIN{exit !(e >= 4.9)}' || fail "another store's change ended the poll after $total s"
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
