#!/bin/bash
# Record members HQ-API.md does not name (revision 2026-11-30): refused
# with invalid_record, never silently dropped, in every record type and
# inside references, lines and tenders; a record HQ already holds is
# `duplicate` before that check ("duplicates first").
# What happens: one batch of records each carrying one unnamed member,
# then a held customer sent again with an unnamed member.
# What must hold: each of those is rejected invalid_record naming the
# member and is not stored; the held one is duplicate.
. "$(dirname "$0")/lib.bash"
hq_start --assign manual
c1=$(uuid) a1=$(uuid)
post "$(batches S0001-R01)" S0001-R01 "$(batch "$(customer "$c1")" "$(address "$a1" "$c1")")"
eq "$(jb '[.results[].status] | join(" ")')" "accepted accepted" "plain records"

u=$(uuid)
recs=("$(customer "$(uuid)" '.nickname = "Aninhas"')"
	"$(customer "$(uuid)" '.email_verified = null')"
	"$(address "$(uuid)" "$c1" '.floor = "3"')"
	"$(address "$(uuid)" "$c1" ".customer = {async_id: \"$c1\", local_number: \"R01-000001\"}")"
	"$(txn S0001-R01-000001 "$c1" 2026-11-25 '.note = "gift"')"
	"$(txn S0001-R01-000002 "$c1" 2026-11-25 '.lines[0].discount = 0')"
	"$(txn S0001-R01-000003 "$c1" 2026-11-25 '.tenders[0].card = "visa"')"
	"$(txn S0001-R01-000004 "$c1" 2026-11-25 ".delivery_address = {async_id: \"$a1\", line1: \"x\"}")"
	"$(txn S0001-R01-000005 "$c1" 2026-11-25 ".delivery_address = {async_id: \"$a1\", address_id: \"A000001\"}")"
	"$(txn S0001-R01-000006 "$c1" 2026-11-25 ".invoice_address = \"$a1\"")")
post "$(batches S0001-R01)" S0001-R01 "$(batch "${recs[@]}")"
expect_status 200 "records with unnamed members"
eq "$(jb '[.results[].status] | unique | join(" ")')" rejected "all rejected"
eq "$(jb '[.results[].code] | unique | join(" ")')" invalid_record "all invalid_record"
jb '.results[0].message' | grep -q nickname || fail "the message does not name the member"
jb '.results[5].message' | grep -q 'lines\[0\].discount' || fail "the message does not name the line member"
eq "$(state '.customers | length') $(state .addresses) $(state .transactions)" "1 1 0" "nothing stored"
ok "unnamed members refused with invalid_record in customers, addresses, transactions, refs, lines, tenders"

post "$(batches S0001-R01)" S0001-R01 "$(batch "$(customer "$c1" '.nickname = "x"')" "$(address "$a1" "$c1" '.floor = 1')")"
eq "$(jb '[.results[].status] | join(" ")')" "duplicate duplicate" "held records"
ok "duplicates first: a held record is duplicate whatever it carries"

# A primary address needs a purpose.
post "$(batches S0001-R01)" S0001-R01 "$(batch "$(address "$(uuid)" "$c1" '.purpose = null')" \
	"$(address "$(uuid)" "$c1" '.purpose = null | .primary = false')")"
eq "$(jb '[.results[] | .code // .status] | join(" ")')" "invalid_address accepted" "primary without purpose"
ok "primary needs a purpose (invalid_address)"
