/*
 * upload: the P-job. Picks what is pending in dependency order (a customer
 * before its addresses and before any transaction that names it), freezes
 * it as a batch (id, Idempotency-Key, members and exact body stored before
 * the first send), POSTs it, and applies every result in one transaction.
 *
 * One batch is in flight at a time, the oldest open one. While HQ handles
 * it, the answer to the one before is applied and the next is frozen
 * (rec_freeze_next: nothing in it depends on the batch in flight), so
 * that a backlog drains at HQ's pace rather than HQ's plus ours
 * (rec_freeze_next says why nothing in it can overtake what it must
 * follow, even after a 413 split or a 422). A 200 is therefore applied
 * one step later (or by up_finish); until then its batch stays stored
 * and marked sent. A crash leaves batches frozen or sent and unapplied,
 * and the next up_step sends the very same bytes under the same key,
 * oldest first (HQ replays its answers). The caller holds the upload
 * lock (store_lock_upload) so no batch is ever in flight twice.
 */
#ifndef POSAGENT_UPLOAD_H
#define POSAGENT_UPLOAD_H

#include "common/config.h"
#include "common/err.h"
#include "common/hqclient.h"
#include "common/store.h"

enum up_result {
	UP_IDLE,  /* nothing to send */
	UP_DONE,  /* a batch was answered and applied, or split/refrozen: go on */
	UP_RETRY, /* transient failure: wait, then resend the same batch */
	UP_AUTH,  /* 401/403: credentials refused; back off to the cap */
};

struct up_outcome {
	enum up_result result;
	long status;      /* HTTP status, 0 when none */
	long retry_after; /* HQ's Retry-After in seconds, -1 when none */
	int records;      /* records in the batch sent */
	int accepted;     /* accepted or duplicate */
	int rejected;     /* rejected for a person */
	int deferred;     /* unknown_customer while its customer waits: pending again */
	char error[320];  /* what went wrong, for logs and status */
};

/* One step: send the oldest open batch, or freeze and send a new one.
 * priority_date (may be NULL) puts the customers that transactions of that
 * business date name, and those transactions, first. Fills *o. Returns 0,
 * or a status for a local failure (database) with *e. */
PA_MUST_USE int up_step(struct store *st, struct hq_client *hq, const struct cfg *cfg, const char *priority_date,
            struct up_outcome *o, struct pa_err *e);

/* Applies the answer up_step holds (HQ's 200 to the last batch it sent,
 * kept to be applied while the next one is in flight), if any, into *o:
 * called before the upload lock is let go. Returns 0 or a status. */
PA_MUST_USE int up_finish(struct store *st, struct up_outcome *o, struct pa_err *e);

/* Forgets the body of a batch up_step froze ahead (called when the upload
 * lock is let go: it is known as never sent only while the lock is held). */
void up_forget(void);

/* Records waiting to go up (pending and not in a batch, or in an open
 * batch) in *n. */
PA_MUST_USE int up_waiting(struct store *st, int64_t *n, struct pa_err *e);

/* The HQ-API customer record of row id (what a batch carries). */
cJSON *up_customer_record(struct store *st, int64_t id, struct pa_err *e);

#endif
