/*
 * record: the one owner of a record's states.
 *
 * A record is a customer, an address or a transaction made here (and,
 * with issue 12, an update of a customer or an address). Its life:
 *
 *   pending --freeze--> in a batch --HQ accepted/duplicate--> uploaded
 *   uploaded --account_assigned / address_assigned / customer change--> synced
 *   in a batch --HQ rejected--> rejected --a person's correction--> pending
 *   in a batch --unknown_customer/unknown_address while what it names is
 *       not accepted here--> pending (deferred: waits for it, no person)
 *   in a batch --413/422, batch dropped--> pending (frozen again later)
 *   uploaded transaction --statement 409 unknown_transactions--> pending
 *   cached customer (from HQ) --its async twin assigned--> folded into it
 *
 * States only move forward (a late `accepted` never turns a synced record
 * back); only a person moves `rejected` back to `pending`. Every UPDATE of
 * a record's state column lives in common/record.c; upload, download, eod,
 * customer and txn call these functions. Each runs inside the caller's
 * write transaction unless it says it opens its own. Functions return 0
 * or a sysexits status with *e filled.
 */
#ifndef POSAGENT_RECORD_H
#define POSAGENT_RECORD_H

#include <stdbool.h>
#include <stdint.h>
#include <cJSON.h>

#include "common/err.h"
#include "common/store.h"

/* The record kinds, one spelling each (a batch's members, status, logs). */
enum rec_kind {
	REC_CUSTOMER,
	REC_ADDRESS,
	REC_TXN,
	REC_CUSTOMER_UPDATE, /* issue 12 */
	REC_ADDRESS_UPDATE,  /* issue 12 */
	REC_NKINDS
};

#define REC_MAX_BATCH 500 /* HQ-API's largest batch */
#define REC_ID_LEN 80     /* room for an async id, txn_id or update id */

/* "customer", "address", "txn", "customer_update", "address_update". */
const char *rec_kind_name(enum rec_kind k);

/* The kind spelt name into *k. Returns 0, or -1 for an unknown name. */
int rec_kind_parse(const char *name, enum rec_kind *k);

/* One member of a batch: the record's kind and its row id. */
struct rec_ref {
	enum rec_kind kind;
	int64_t row;
};

/* --- one record's transitions (inside the caller's write transaction) --- */

/* HQ answered accepted or duplicate: out of its batch, uploaded (a synced
 * record stays synced), its last error cleared. */
PA_MUST_USE int rec_accepted(struct store *st, enum rec_kind k, int64_t row, struct pa_err *e);

/* HQ rejected it for a person: rejected with HQ's code and message (a
 * synced customer stays synced, keeping the code). */
PA_MUST_USE int rec_rejected(struct store *st, enum rec_kind k, int64_t row, const char *code, const char *msg,
                 struct pa_err *e);

/* HQ answered unknown_customer/unknown_address while what it names is not
 * accepted here: back to pending, out of its batch, the code kept as the
 * reason it waits; no person needed. */
PA_MUST_USE int rec_deferred(struct store *st, enum rec_kind k, int64_t row, const char *code, const char *msg,
                 struct pa_err *e);

/* Whether a rejection with code of record k/row only means it waits:
 * code is unknown_customer or unknown_address and the customer or an
 * address the record names is neither uploaded nor synced here. */
PA_MUST_USE int rec_waits(struct store *st, enum rec_kind k, int64_t row, const char *code, bool *waits, struct pa_err *e);

/* A person corrected it (edit of a pending or rejected record): pending,
 * last error cleared; a rejected one starts waiting again now. */
PA_MUST_USE int rec_corrected(struct store *st, enum rec_kind k, int64_t row, struct pa_err *e);

/* account_assigned: the customer with async_id becomes synced with
 * account; a cached row holding that account is folded into it first.
 * Unknown async ids are ignored. *changed: a row moved. */
PA_MUST_USE int rec_assign_customer(struct store *st, const char *async_id, const char *account, bool *changed,
                        struct pa_err *e);

/* address_assigned: the address with async_id becomes synced with HQ's
 * address_id. Unknown async ids are ignored. *changed: a row moved. */
PA_MUST_USE int rec_assign_address(struct store *st, const char *async_id, const char *address_id, bool *changed,
                       struct pa_err *e);

/* A customer change from HQ for row: synced with account (HQ's record is
 * the authority; its last error cleared). */
PA_MUST_USE int rec_customer_synced(struct store *st, int64_t row, const char *account, struct pa_err *e);

/* A cached customer row `from` (HQ's, by account) is the same customer as
 * row `into`: its addresses and transactions move to `into`, then it goes. */
PA_MUST_USE int rec_fold_customer(struct store *st, int64_t from, int64_t into, struct pa_err *e);

/* Statement 409 unknown_transactions: the uploaded transaction txn_id of
 * date goes back to pending (HQ does not hold it). *n += 1 when it did. */
PA_MUST_USE int rec_requeue_txn(struct store *st, const char *txn_id, const char *date, int *n, struct pa_err *e);

/* --- batches --- */

/* Freezes the next batch of what is pending, in dependency order (a
 * customer before its addresses, both before a transaction naming them;
 * the same batch allowed), at most max records; prio (may be NULL) puts
 * the records that transactions of that business date name, and those
 * transactions, first. Opens its own write transaction. *bid is the
 * oldest open batch if one exists, else the new one, else 0 (nothing to
 * send). */
PA_MUST_USE int rec_freeze(struct store *st, int max, const char *prio, int64_t *bid, struct pa_err *e);

/* For this process: the HQ it sends to predates HQ-API's 2026-11-30
 * revision (no "revision" in /v1/health). Batches frozen from then on
 * carry no updates (they wait, pending, for an HQ that takes them) and
 * sales without their delivery_address/invoice_address members. */
void rec_set_legacy_hq(bool legacy);

/* What rec_set_legacy_hq last set (false until then). */
bool rec_legacy_hq(void);

/* A frozen batch's body as stored (text: malloc'd, the caller frees it). */
struct rec_body {
	char batch_id[40];
	char *text;
	size_t len;
	int records;
};

/* While batch flying is in flight: freezes the next batch as rec_freeze
 * does, or nothing when another batch is open already; *bid: the new
 * batch or 0. Nothing in it can need flying to go first, whatever becomes
 * of flying (answered, split, frozen again): a record whose customer or
 * address is in flying waits, as does an update of a record whose
 * earlier update is in flying. It goes up after flying (oldest first).
 * body (may be NULL): the new batch's id and exact body, when one was
 * frozen (text NULL otherwise). */
PA_MUST_USE int rec_freeze_next(struct store *st, int max, const char *prio, int64_t flying, int64_t *bid,
                                struct rec_body *body, struct pa_err *e);

/* 413: drops batch bid and freezes its members again in two batches of
 * half the size, same order, new ids and keys: *split_done = 1. A batch
 * of one record (far below HQ's limit: halving cannot explain the 413) is
 * left as it is, never rejected: *split_done = 0, the caller flags it and
 * retries with backoff. Own transaction. */
PA_MUST_USE int rec_split(struct store *st, int64_t bid, int *split_done, struct pa_err *e);

/* Drops batch bid: its members go back to the queue (pending, no batch),
 * the batch and its member rows are deleted. Not an answer from HQ. */
PA_MUST_USE int rec_batch_release(struct store *st, int64_t bid, struct pa_err *e);

/* The members of batch bid in order (at most REC_MAX_BATCH) into m, and
 * their record ids into rid when not NULL. */
PA_MUST_USE int rec_batch_members(struct store *st, int64_t bid, struct rec_ref *m, char (*rid)[REC_ID_LEN], int *n,
                      struct pa_err *e);

/* What applying a batch's results did. */
struct rec_tally {
	int accepted; /* accepted or duplicate */
	int rejected; /* rejected for a person */
	int deferred; /* waits for the record it names: pending again */
};

/* Applies HQ's 200 reply text to batch bid (batch_id its id) in one
 * transaction of its own: a reply that does not match the batch member
 * for member (count, ids in order, known statuses, batch_id) changes
 * nothing and *ok = 0; else each record moves (accepted, rejected or
 * deferred), the batch is deleted, last_upload is stamped and *ok = 1. */
PA_MUST_USE int rec_apply_reply(struct store *st, int64_t bid, const char *batch_id, const char *reply, struct rec_tally *t,
                    int *ok, struct pa_err *e);

/* Records waiting to go up (pending, in a batch or not) in *n. */
PA_MUST_USE int rec_waiting(struct store *st, int64_t *n, struct pa_err *e);

/* The HQ-API record of k/row as a batch carries it (references by
 * account / address_id when known, else by async id). NULL with *e. */
cJSON *rec_record(struct store *st, enum rec_kind k, int64_t row, struct pa_err *e);

#endif
