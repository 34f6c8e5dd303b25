#!/bin/bash
# POST .../batches: one result per record, in order; a record may refer to
# a customer earlier in the same batch; a record HQ already holds is
# `duplicate` whichever batch or register brings it (and stored once); a
# rejection fails only its record; references to customers HQ does not
# hold are unknown_customer / unknown_account; records HQ cannot read are
# invalid_record.
. "$(dirname "$0")/lib.bash"
hq_start --assign manual
c1=$(uuid) c2=$(uuid) c3=$(uuid) a1=$(uuid) a2=$(uuid) a3=$(uuid)

b=$(batch "$(customer "$c1")" "$(address "$a1" "$c1")" "$(txn S0001-R01-000001 "$c1")" \
	"$(txn S0001-R01-000002)" "$(customer "$c2" '.email = "not-an-email"')" \
	"$(address "$a2" "$c2")" "$(txn S0001-R01-000003 "$c2")")
post "$(batches S0001-R01)" S0001-R01 "$b"
expect_status 200 "mixed batch"
eq "$(jb .batch_id)" "$(jq -r .batch_id <<<"$b")" "batch_id echoed"
eq "$(jb '[.results[].id] | join(" ")')" "$c1 $a1 S0001-R01-000001 S0001-R01-000002 $c2 $a2 S0001-R01-000003" "ids in order"
eq "$(jb '[.results[].status] | join(" ")')" "accepted accepted accepted accepted rejected rejected rejected" "statuses"
eq "$(jb '[.results[] | .code // "-"] | join(" ")')" "- - - - invalid_email unknown_customer unknown_customer" "codes"
[ "$(jb '.results[4].message | length')" -gt 0 ] || fail "rejection without message"
ok "results in order; same-batch references; rejection fails only its record"

# The same records again, in another batch, and from another register.
b=$(batch "$(customer "$c1")" "$(address "$a1" "$c1")" "$(txn S0001-R01-000001 "$c1")" "$(customer "$c3" '.local_number = "R02-000001"')")
post "$(batches S0001-R02)" S0001-R02 "$b"
expect_status 200 "resend from R02"
eq "$(jb '[.results[].status] | join(" ")')" "duplicate duplicate duplicate accepted" "duplicates"
# A duplicate is a duplicate whatever its content now.
b=$(batch "$(customer "$c1" '.first_name = "Other"')" "$(customer "$c1")")
post "$(batches S0001-R01)" S0001-R01 "$b"
eq "$(jb '[.results[].status] | join(" ")')" "duplicate duplicate" "duplicates of changed content"
# Within one batch: the second copy is a duplicate of the first.
c4=$(uuid)
post "$(batches S0001-R01)" S0001-R01 "$(batch "$(customer "$c4")" "$(customer "$c4")")"
eq "$(jb '[.results[].status] | join(" ")')" "accepted duplicate" "twice in one batch"
eq "$(state '.customers | length')" 3 "customers held"
eq "$(state "[.customers[] | select(.async_id == \"$c1\")] | length")" 1 "c1 held once"
eq "$(state '.transactions')" 2 "transactions held"
eq "$(state '.addresses')" 1 "addresses held"
eq "$(state '.duplicates_seen')" 6 "duplicates_seen"
eq "$(state '.records_received')" 15 "records_received"
eq "$(state "[.customers[] | select(.async_id == \"$c3\")][0].register")" R02 "c3 from R02"
ok "duplicate across batches and registers; each record held once"

# A corrected record under the same id is accepted later (a rejection is not stored).
post "$(batches S0001-R01)" S0001-R01 "$(batch "$(customer "$c2")" "$(address "$a2" "$c2")")"
eq "$(jb '[.results[].status] | join(" ")')" "accepted accepted" "corrected records"
ok "a rejected id is accepted once corrected"

# References: unknown async id, unknown account, known account.
post "$(batches S0001-R01)" S0001-R01 "$(batch "$(address "$(uuid)" "$(uuid)")" \
	"$(address "$(uuid)" x '.customer = {account: "C999999"}')" \
	"$(txn S0001-R01-000010 "" 2026-11-25 '.customer = {account: "C999999"}')" \
	"$(txn S0001-R01-000011 "$(uuid)")")"
eq "$(jb '[.results[].code] | join(" ")')" "unknown_customer unknown_account unknown_account unknown_customer" "unknown references"
admin assign >/dev/null
acct=$(state "[.customers[] | select(.async_id == \"$c1\")][0].account")
post "$(batches S0001-R01)" S0001-R01 "$(batch "$(address "$a3" x ".customer = {account: \"$acct\"}")" \
	"$(txn S0001-R01-000012 "" 2026-11-25 ".customer = {account: \"$acct\"}")")"
eq "$(jb '[.results[].status] | join(" ")')" "accepted accepted" "references by account"
ok "unknown_customer, unknown_account, references by account"

# Records HQ cannot read: invalid_record, id null when there is none.
post "$(batches S0001-R01)" S0001-R01 "$(batch '"just a string"' '[1,2]' '{"async_id":"x"}' \
	'{"type":"refund","txn_id":"S0001-R01-9"}' '{"type":"customer"}' '{"type":"transaction","txn_id":7}' \
	"$(customer "$(uuid)" '.kind = 5')" "$(address "$(uuid)" x '.customer = "C000001"')" \
	"$(txn S0001-R01-000020 "" 2026-11-25 '.lines = "none"')")"
expect_status 200 "unreadable records"
eq "$(jb '[.results[].code] | unique | join(" ")')" "invalid_record" "all invalid_record"
eq "$(jb '[.results[].status] | unique | join(" ")')" "rejected" "all rejected"
eq "$(jb '.results[0].id, .results[1].id, .results[3].id' | tr '\n' ' ')" "null null S0001-R01-9 " "ids of unreadable records"
eq "$(jb '.results | length')" 9 "one result each"
ok "invalid_record for records HQ cannot read"
