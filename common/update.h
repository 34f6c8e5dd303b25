/*
 * update: edits of records that HQ holds (or may hold), issue 12.
 *
 * A customer or address edited after its create may have reached HQ is
 * changed here at once and the change is queued as an update record
 * (HQ-API.md customer_update / address_update): a fresh update_id and only
 * the fields that changed. While an update lives here the record's HQ
 * values sit in record_base, and the row shows them with every living
 * update on top, in order (the overlay): so a download of HQ's record
 * never reverts an edit that is still travelling, or accepted at HQ but
 * not yet seen back in a `customer` change of at least its version.
 *
 * An update's life: pending (absorbs newer edits while in no batch) ->
 * in a frozen batch (never changed again) -> accepted (kept, with HQ's
 * version, until a change of that version is applied: then dropped) or
 * rejected (kept applied, shown, absorbs the next edit and goes up again
 * under the same update_id) or deferred (pending again, when HQ did not
 * know the record yet). `--discard-update` drops an unsent one and
 * restores HQ's values. When the record itself turns out not to be at HQ
 * (its create rejected, or still editable in place), its updates are
 * folded: the row already carries every edit, and the create carries it.
 *
 * Every function here runs inside the caller's write transaction and
 * returns 0 or a sysexits status with *e filled.
 */
#ifndef POSAGENT_UPDATE_H
#define POSAGENT_UPDATE_H

#include <stdbool.h>
#include <stdint.h>
#include <cJSON.h>

#include "common/err.h"
#include "common/store.h"

enum upd_kind { UPD_CUSTOMER, UPD_ADDRESS };

/* "customer_update" or "address_update". */
const char *upd_kind_name(enum upd_kind k);

/* Whether record (k, row), in state with batch (0: none), is corrected in
 * place: rejected, or pending, not possibly sent by a lost database (a
 * restored copy's maybe_sent, common/restore.h) and in no batch that may
 * have reached HQ (an unsent batch holding it is dropped, to be frozen
 * again). Otherwise HQ holds or may hold it and an edit travels as an
 * update. */
PA_MUST_USE int upd_in_place(struct store *st, enum upd_kind k, int64_t row, const char *state, int64_t batch,
                             bool *in_place, struct pa_err *e);

/* Folds the updates of record (k, row) that are in no batch into the
 * record (they are deleted: the row already carries their values), and
 * drops its base when no update remains. */
PA_MUST_USE int upd_fold(struct store *st, enum upd_kind k, int64_t row, struct pa_err *e);

/* Queues the edit before -> after of record (k, row) of customer cid
 * (HQ-API field names; the caller writes `after` to the row). Only the
 * fields that differ travel (attributes as the whole map, a cleared field
 * as null). Merged into the record's update that is in no batch (a
 * rejected one first: it goes up again under its update_id, after any
 * newer update); else a new update with a fresh update_id. *queued is
 * false when nothing changed. */
PA_MUST_USE int upd_queue(struct store *st, enum upd_kind k, int64_t row, int64_t cid, const cJSON *before,
              const cJSON *after, bool *queued, struct pa_err *e);

/* --discard-update: drops the updates of (k, row) in no batch (pending or
 * rejected); *restored gets the fields the row must now show: HQ's values
 * with what still travels on top. EX_DATAERR no_update when there is
 * nothing to discard (or only an update already sent). */
PA_MUST_USE int upd_discard(struct store *st, enum upd_kind k, int64_t row, cJSON **restored, struct pa_err *e);

/* After HQ's values hq of record (k, row) were stored in the row: when
 * updates of it live here, hq becomes the base and *out the fields to show
 * (hq with the updates on top, in order); else the base is dropped and
 * *out is NULL (the row stays HQ's). */
PA_MUST_USE int upd_overlay(struct store *st, enum upd_kind k, int64_t row, const cJSON *hq, cJSON **out, struct pa_err *e);

/* HQ's customer change of version `version` for customer cid was applied:
 * accepted updates of it and of its addresses with a version at most that
 * are done and dropped. */
PA_MUST_USE int upd_settle(struct store *st, int64_t cid, int64_t version, struct pa_err *e);

/* Adds "pending_update" (an update HQ has not accepted yet travels) and
 * "update_error" ({"code","message"} of a rejected update, else null) to
 * the document of record (k, row). */
PA_MUST_USE int upd_decorate(struct store *st, enum upd_kind k, int64_t row, cJSON *doc, struct pa_err *e);

/* What upd_decorate adds for a record with no update: a record created in
 * this transaction ("pending_update": false, "update_error": null). */
void upd_decorate_none(cJSON *doc);

/* Applies an update's fields onto rec (null clears; others replace). */
void upd_apply_fields(cJSON *rec, const cJSON *fields);

/* ---- the upload's side ---- */

/* The HQ-API record of update row id (the record it changes named by
 * account / address_id when known, else by async id). NULL with *e. */
cJSON *upd_record(struct store *st, int64_t id, struct pa_err *e);

/* HQ accepted (or answered duplicate for) update row id; version is HQ's
 * customer version after it, or -1 when the answer carried none (then the
 * update is done at once). */
PA_MUST_USE int upd_accepted(struct store *st, int64_t id, int64_t version, struct pa_err *e);

/* HQ rejected update row id with code and message. unknown_customer /
 * unknown_address while its record is not accepted here is no rejection:
 * pending again (*deferred true). */
PA_MUST_USE int upd_rejected(struct store *st, int64_t id, const char *code, const char *message, bool *deferred,
                 struct pa_err *e);

/* A rejected update, for status and doctor. */
struct upd_rejected_rec {
	const char *kind;       /* customer_update or address_update */
	char id[72];            /* the record's async id, else account (or address id) */
	char update_id[40];
	char code[48];          /* HQ's code */
	char local_number[40];  /* the customer's, "" none */
};

/* Calls each() for the rejected updates, oldest first, until it returns
 * non-zero or max were given; *total gets how many there are. */
PA_MUST_USE int upd_list_rejected(struct store *st, size_t max, int (*each)(void *ctx, const struct upd_rejected_rec *r),
                      void *ctx, int64_t *total, struct pa_err *e);

#endif
