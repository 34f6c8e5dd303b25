#!/bin/bash
# GET /v1/health needs no token and answers 200 {"status":"ok","time","api":1,
# "revision":"2026-11-30"} with a Date header (no revision after a start with
# --revision none: an older HQ); HQ's clock offset (--clock-offset, admin "clock")
# shifts both. Unknown paths are 404 and wrong methods 405, as JSON errors.
. "$(dirname "$0")/lib.bash"
hq_start

t_before=$(date +%s)
get /v1/health ""
t_after=$(date +%s)
expect_status 200 health
eq "$(jb .status)" ok "health status"
eq "$(jb .api)" 1 "health api"
eq "$(jb .revision)" 2026-11-30 "health revision"
[[ $(jb .time) =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]] || fail "time $(jb .time)"
date_h=$(header Date)
[[ $date_h =~ ^[A-Z][a-z]{2},\ [0-9]{2}\ [A-Z][a-z]{2}\ [0-9]{4}\ [0-9:]{8}\ GMT$ ]] || fail "Date '$date_h'"
# HQ's Date lies between the clock read before and after the request
# (a second of rounding each side), however slow a loaded machine is.
d=$(date -u -d "$date_h" +%s)
[ "$d" -ge $((t_before - 1)) ] && [ "$d" -le $((t_after + 1)) ] ||
	fail "Date $date_h is outside the request's time ($t_before..$t_after)"
[ "$(header Content-Type)" = application/json ] || fail "Content-Type $(header Content-Type)"
ok "health 200 with Date and time"

STATUS=$(curl_as "" -I -o /dev/null -w '%{http_code}' "$BASE/v1/health")
eq "$STATUS" 200 "HEAD health"
ok "HEAD health"

get /v1/nothing ""
expect_error 404 not_found "unknown path"
post /v1/health "" '{}'
expect_error 405 method_not_allowed "POST health"
[ -n "$(header Allow)" ] || fail "405 without Allow"
get "$(batches S0001-R01)" S0001-R01
expect_error 405 method_not_allowed "GET batches"
ok "404 and 405"

admin clock '{"offset":3600}' >/dev/null
get /v1/health ""
skew=$(($(date -u -d "$(header Date)" +%s) - $(date +%s)))
[ $skew -ge 3598 ] && [ $skew -le 3602 ] || fail "Date skew $skew with offset 3600"
skew=$(($(date -u -d "$(jb .time)" +%s) - $(date +%s)))
[ $skew -ge 3598 ] && [ $skew -le 3602 ] || fail "time skew $skew with offset 3600"
ok "admin clock shifts Date and time"

hq_start --clock-offset -600
get /v1/health ""
skew=$(($(date -u -d "$(header Date)" +%s) - $(date +%s)))
[ $skew -ge -602 ] && [ $skew -le -598 ] || fail "Date skew $skew with --clock-offset -600"
ok "--clock-offset"

hq_start --revision none
get /v1/health ""
expect_status 200 "health of an older HQ"
eq "$(jb 'has("revision")')" false "no revision"
hq_start
get /v1/health ""
eq "$(jb 'has("revision")')" false "--revision none kept across a restart"
hq_start --revision 2026-11-30
get /v1/health ""
eq "$(jb .revision)" 2026-11-30 "revision back"
ok "revision 2026-11-30, left out with --revision none"
