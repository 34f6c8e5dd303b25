#!/bin/bash
# Load: 50 long polls wait at once while 200 more connections are served
# concurrently (150 health requests each held 1.5 s by an injected delay,
# so that they overlap, and 50 batch uploads); nothing stalls: the 200 end
# while the 50 polls (wait 60 s) are still waiting (served one after another
# they would take 225 s), and all 50 answer with the change once it is
# published. No bound on seconds: a loaded machine must not fail it.
. "$(dirname "$0")/lib.bash"
hq_start
F=/v1/stores/S0001/changes
get "$F" S0001-R01
cur=$(jb .next)
mkdir "$DIR/lp" "$DIR/load"

# 50 long polls in one curl, all connections opened at once.
# (In a curl config, "next" starts a transfer with fresh options: each
# gets its own; common() prints those they share.)
common() {
	printf 'cacert = "%s"\nsilent\nshow-error\nwrite-out = "%%{http_code} %%{time_total}\\n"\n' "$DIR/ca.pem"
}
{
	for i in $(seq 50); do
		[ "$i" = 1 ] || echo next
		common
		printf 'url = "%s"\noutput = "%s"\nheader = "Authorization: Bearer %s"\n' \
			"$BASE$F?after=$cur&wait=60" "$DIR/lp/$i.json" "$(tok S0001-R02)"
	done
} >"$DIR/lp.cfg"
t_lp=$(now)
curl --parallel --parallel-immediate --parallel-max 50 -K "$DIR/lp.cfg" >"$DIR/lp.status" 2>"$DIR/lp.err" &
lp=$!
for _ in $(seq 200); do
	[ "$(state .long_polls_waiting)" = 50 ] && break
	sleep 0.1
done
eq "$(state .long_polls_waiting)" 50 "long polls waiting"
ok "50 long polls waiting"

# 200 concurrent connections: 150 held 1.5 s each, and 50 uploads to
# S0002, whose changes must not end S0001's long polls.
admin fault '{"path":"/v1/health","kind":"delay","delay_ms":1500,"count":150}' >/dev/null
{
	for i in $(seq 150); do
		[ "$i" = 1 ] || echo next
		common
		printf 'url = "%s"\noutput = "%s"\n' "$BASE/v1/health" "$DIR/load/h$i.json"
	done
	for i in $(seq 50); do
		echo next
		batch "$(customer "$(uuid)" '.local_number = "R01-'"$i"'"')" >"$DIR/load/b$i.req"
		common
		printf 'url = "%s"\noutput = "%s"\nheader = "Authorization: Bearer %s"\n' \
			"$BASE$(batches S0002-R01)" "$DIR/load/b$i.json" "$(tok S0002-R01)"
		printf 'header = "Idempotency-Key: %s"\nheader = "Content-Type: application/json"\ndata-binary = "@%s"\n' \
			"$(uuid)" "$DIR/load/b$i.req"
	done
} >"$DIR/load.cfg"
t0=$(now)
curl --parallel --parallel-immediate --parallel-max 200 -K "$DIR/load.cfg" >"$DIR/load.status" 2>"$DIR/load.err" || true
e=$(elapsed "$t0")
# The polls wait 60 s at most (HQ-API's cap). On a machine so loaded that
# the 200 took nearly that long, "still waiting" cannot be told from
# "never held": say so and count the test as skipped, not passed.
age=$(elapsed "$t_lp")
if awk -v a="$age" 'BEGIN{exit !(a > 50)}'; then
	echo "SKIP: the polls are $age s old after 200 requests ($e s); their 60 s wait cannot be checked on a machine this loaded"
	exit 77
fi
eq "$(wc -l <"$DIR/load.status")" 200 "200 transfers"
eq "$(awk '$1 != 200' "$DIR/load.status" | wc -l)" 0 "every one 200 ($(sort "$DIR/load.status" | awk '{print $1}' | uniq -c | tr '\n' ' '))"
eq "$(cat "$DIR"/load/b*.json | jq -r '.results[0].status' | sort -u)" accepted "uploads accepted"
eq "$(state '.requests["GET /v1/health 200"]')" 151 "health requests served"
eq "$(state .long_polls_waiting)" 50 "long polls still waiting"
ok "200 concurrent connections served in $e s while 50 long polls wait"

# Only now a change is published; every long poll answers at once.
t0=$(now)
post "$(batches S0001-R02)" S0001-R02 "$(batch "$(customer "$(uuid)" '.local_number = "R02-000001"')")"
expect_status 200 "the change"
wait $lp || true
e=$(elapsed "$t0")
eq "$(wc -l <"$DIR/lp.status")" 50 "50 long polls answered"
eq "$(awk '$1 != 200' "$DIR/lp.status" | wc -l)" 0 "long polls 200"
for i in $(seq 50); do
	[ "$(jq -r '.changes[0].type' "$DIR/lp/$i.json")" = account_assigned ] || fail "long poll $i: $(head -c 200 "$DIR/lp/$i.json")"
done
ok "all 50 long polls answered with the change, $e s after it"
