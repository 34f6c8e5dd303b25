#!/bin/bash
# A cashier may correct a customer made offline even after a sync attempt
# froze it into a batch, as long as no byte of that batch reached HQ: the
# unsent batch is dropped and its records go up later, corrected. Once a
# batch may have reached HQ (HQ answered 500), an edit of its records is
# applied here and travels as an update after the batch (issue 12).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
hq_start --prepare-only
pr init >/dev/null
pr customer create --first-name Ana --email ana@exmaple.com >/dev/null

check "HQ down: sync freezes a batch that never leaves; the edit still works"
expect_rc 69 pr sync
[ "$(sql "SELECT count(*) FROM batch")" = 1 ] || fail "sync should have frozen a batch"
expect_rc 0 pr customer edit R01-000001 --email ana@example.com
[ "$(sql "SELECT count(*) FROM batch")" = 0 ] || fail "the unsent batch should be dropped"

check "HQ up: the corrected customer is what HQ holds"
hq_start
expect_rc 0 pr sync
[ "$(sql "SELECT state FROM customer")" = synced ] || fail "not synced"
hq_admin state >"$T/state.json"
[ "$(jq '.customers | length' "$T/state.json")" = 1 ] || fail "HQ should hold one customer"

check "a batch that may have reached HQ (answered 500): the edit travels as an update after it"
pr customer create --first-name Bo >/dev/null
hq_admin fault '{"path":"/v1/stores/S0001/registers/R01/batches","kind":"status","status":500,"count":3}' >/dev/null
expect_rc 69 pr sync
expect_rc 0 pr customer edit R01-000002 --first-name Bob
[ "$(sql "SELECT count(*) FROM record_update")" = 1 ] || fail "the edit of a customer in a sent batch was not queued"
expect_rc 0 pr sync
[ "$(sql "SELECT state, first_name FROM customer WHERE local_number='R01-000002'")" = "synced|Bob" ] ||
	fail "Bob not synced with his corrected name"
[ "$(sql "SELECT count(*) FROM record_update")" = 0 ] || fail "the update is still waiting"
echo ok
