#!/bin/bash
# The customer synchronization job in its three modes: immediate (the
# assignment is published before the batch's reply), manual (only when
# asked: admin "assign", optionally {"count": N}), and after a delay
# (--assign DELAY_MS). Numbers run C000001 upwards in acceptance order,
# across registers and restarts.
. "$(dirname "$0")/lib.bash"
F=/v1/stores/S0001/changes
accounts() { jb '[.changes[] | select(.type == "account_assigned") | "\(.async_id)=\(.account)"] | join(" ")'; }

hq_start --assign immediate
c1=$(uuid)
post "$(batches S0001-R01)" S0001-R01 "$(batch "$(customer "$c1")")"
get "$F" S0001-R02
eq "$(accounts)" "$c1=C000001" "immediate: visible right after the reply"
cur=$(jb .next)
ok "immediate"

hq_start --assign manual
eq "$(state .assign)" manual "mode after restart"
c2=$(uuid) c3=$(uuid) c4=$(uuid)
post "$(batches S0001-R02)" S0001-R02 "$(batch "$(customer "$c2" '.local_number = "R02-000001"')")"
post "$(batches S0001-R01)" S0001-R01 "$(batch "$(customer "$c3")")"
post "$(batches S0001-R02)" S0001-R02 "$(batch "$(customer "$c4" '.local_number = "R02-000002"')")"
get "$F?after=$cur&wait=1" S0001-R01
eq "$(jb '.changes | length')" 0 "manual: nothing before the job"
eq "$(state .pending_customers)" 3 "pending customers"
eq "$(admin assign '{"count":1}' | jq -r '[.assigned[] | "\(.async_id)=\(.account)"] | join(" ")')" "$c2=C000002" "assign one"
eq "$(admin assign | jq -r '[.assigned[] | "\(.async_id)=\(.account)"] | join(" ")')" "$c3=C000003 $c4=C000004" "assign the rest"
eq "$(admin assign | jq -r '.assigned | length')" 0 "nothing left"
get "$F?after=$cur" S0001-R01
eq "$(accounts)" "$c2=C000002 $c3=C000003 $c4=C000004" "manual: in acceptance order"
eq "$(jb '[.changes[].type] | join(" ")')" "account_assigned customer account_assigned customer account_assigned customer" "each followed by its customer"
cur=$(jb .next)
ok "manual, in acceptance order across registers"

hq_start --assign 1500
c5=$(uuid)
post "$(batches S0001-R01)" S0001-R01 "$(batch "$(customer "$c5")")"
t0=$(now)
get "$F?after=$cur" S0001-R01
eq "$(jb '.changes | length')" 0 "delay: not at once"
get "$F?after=$cur&wait=10" S0001-R01
e=$(elapsed "$t0")
eq "$(accounts)" "$c5=C000005" "delay: assigned"
awk -v e="$e" 'BEGIN{exit !(e >= 1.2 && e < 3.5)}' || fail "assigned after $e s, expected about 1.5 s"
cur=$(jb .next)
ok "after a delay of 1500 ms (published $e s after the reply)"

# Pending customers survive a restart and the job carries on.
hq_start --assign manual
c6=$(uuid)
post "$(batches S0001-R01)" S0001-R01 "$(batch "$(customer "$c6")")"
hq_start --assign 300
get "$F?after=$cur&wait=10" S0001-R01
eq "$(accounts)" "$c6=C000006" "assigned after a restart in delay mode"
cur=$(jb .next)
eq "$(admin mode '{"assign":"manual"}' | jq -r .assign)" manual "admin mode manual"
c7=$(uuid)
post "$(batches S0001-R01)" S0001-R01 "$(batch "$(customer "$c7")")"
eq "$(state .pending_customers)" 1 "pending in manual mode"
eq "$(admin mode '{"assign":"immediate"}' | jq -r .assign)" immediate "admin mode immediate"
get "$F?after=$cur" S0001-R01
eq "$(accounts)" "$c7=C000007" "switching to immediate assigns what waits"
ok "restarts and mode switches keep the order"
