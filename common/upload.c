#include "common/upload.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/record.h"
#include "common/util.h"

cJSON *up_customer_record(struct store *st, int64_t id, struct pa_err *e)
{
	return rec_record(st, REC_CUSTOMER, id, e);
}

/* Marks batch bid for a person (status, doctor) with why. Returns 0 or a
 * status. */
static int flag_batch(struct store *st, int64_t bid, const char *why, struct pa_err *e)
{
	sqlite3_stmt *f = store_prepare(st, "UPDATE batch SET flagged = ?2 WHERE id = ?1", e);
	int rc = 0;

	if (!f)
		return e->status;
	sqlite3_bind_int64(f, 1, bid);
	sqlite3_bind_text(f, 2, why, -1, SQLITE_STATIC);
	if (sqlite3_step(f) != SQLITE_DONE)
		rc = store_fail(st, e, "flag batch");
	sqlite3_finalize(f);
	return rc;
}

/* "HQ answered 503: code: message" from an error reply, into buf. */
static void describe(const struct hq_response *r, char *buf, size_t n)
{
	cJSON *doc = r->body ? cJSON_Parse(r->body) : NULL;
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(doc, "error");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(err, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(err, "message");

	if (r->status == 0)
		snprintf(buf, n, "%s", r->error[0] ? r->error : "no reply from HQ");
	else if (cJSON_IsString(code))
		snprintf(buf, n, "HQ answered %ld: %.60s: %.200s", r->status, code->valuestring,
		         cJSON_IsString(msg) ? msg->valuestring : "");
	else
		snprintf(buf, n, "HQ answered %ld", r->status);
	cJSON_Delete(doc);
}

/* The batch up_step sends: its row, ids and exact body. */
struct sending {
	int64_t bid;
	char batch_id[UUID_LEN + 8], key[UUID_LEN + 8];
	char *body;
	size_t len;
	int records, was_sent;
};

/* The batch frozen during the last flight, as stored: the next take_batch
 * sends it without reading its body back (a few hundred kB through an
 * overflow chain). Valid only on the same connection while the upload
 * lock has been held since (store's lock_gen unchanged): then no other
 * process can have sent it, and an edit that dropped it leaves no row of
 * that batch_id. One per thread (the uploader is one thread). */
static _Thread_local struct {
	const struct store *st;
	unsigned gen;
	int64_t bid;
	struct rec_body body;
} frozen;

static void forget_frozen(void)
{
	free(frozen.body.text);
	memset(&frozen, 0, sizeof(frozen));
}

/* HQ's 200 to the batch sent before, not applied yet: up_step applies it
 * while the next batch is in flight, so that a backlog waits on HQ and
 * one durable commit a batch, not also on applying every answer between
 * two POSTs. Valid only while the upload lock has been held since (same
 * store, lock_gen unchanged); dropped otherwise, which loses nothing: the
 * batch is still stored and marked sent, so it is resent under its key
 * and HQ replays the same answer (HQ-API "Idempotency"). */
static _Thread_local struct {
	const struct store *st;
	unsigned gen;
	struct sending b; /* its body already freed */
	struct hq_response r;
} held;

static void drop_held(void)
{
	hq_response_free(&held.r);
	memset(&held, 0, sizeof(held));
}

static bool have_held(const struct store *st)
{
	return held.b.bid && held.st == st && held.gen == st->lock_gen && st->lock_fd >= 0;
}

void up_forget(void)
{
	forget_frozen();
	drop_held();
}

/* Reads batch bid into b (inside take_batch's transaction): its ids, and
 * its body from frozen when that is valid, else from the row. Returns 0,
 * or a status; b->bid 0 when the row is gone. */
static int read_batch(struct store *st, struct sending *b, struct pa_err *e)
{
	bool cached = frozen.body.text && frozen.st == st && frozen.gen == st->lock_gen && frozen.bid == b->bid &&
	              st->lock_fd >= 0;
	sqlite3_stmt *s = store_prepare(st, cached ? "SELECT batch_id, idem_key FROM batch WHERE id = ?1"
	                                           : "SELECT batch_id, idem_key, body, records, sent FROM batch WHERE id = ?1",
	                                e);
	int rc = 0, step;

	if (!s)
		return e->status;
	sqlite3_bind_int64(s, 1, b->bid);
	if ((step = sqlite3_step(s)) != SQLITE_ROW) {
		rc = step == SQLITE_DONE ? 0 : store_fail(st, e, "read batch");
		b->bid = 0;
		goto cleanup;
	}
	util_copy(b->batch_id, sizeof(b->batch_id), store_col_text(s, 0));
	util_copy(b->key, sizeof(b->key), store_col_text(s, 1));
	if (cached && strcmp(frozen.body.batch_id, b->batch_id) == 0) {
		b->body = frozen.body.text; /* never sent: frozen by us, the lock held since */
		b->len = frozen.body.len;
		b->records = frozen.body.records;
		b->was_sent = 0;
		frozen.body.text = NULL;
		goto cleanup;
	}
	if (cached) { /* another batch under that row id: read it whole */
		sqlite3_finalize(s);
		forget_frozen();
		return read_batch(st, b, e);
	}
	b->len = (size_t)sqlite3_column_bytes(s, 2);
	if (!(b->body = malloc(b->len + 1))) {
		rc = err_set(e, EX_OSERR, "out_of_memory", NULL, "out of memory");
		goto cleanup;
	}
	memcpy(b->body, sqlite3_column_blob(s, 2), b->len);
	b->body[b->len] = '\0';
	b->records = sqlite3_column_int(s, 3);
	b->was_sent = sqlite3_column_int(s, 4);
cleanup:
	forget_frozen();
	sqlite3_finalize(s);
	return rc;
}

/* Takes the oldest open batch other than skip (the one whose answer is
 * held, 0: none), or, skip 0, freezes one (non-durable: the "sent"
 * mark below makes it durable, WAL being append-only), then reads it and
 * marks it sent in one write transaction, durably, before the POST: from
 * here it may reach HQ and a person can no longer change its records. A
 * batch an edit dropped meanwhile is not sent (b->bid 0, *gone). b->bid 0
 * and not *gone: nothing to send. Returns 0 or a status. */
static int take_batch(struct store *st, const struct cfg *cfg, const char *prio, int64_t skip, struct sending *b,
                      bool *gone, struct pa_err *e)
{
	struct pa_err e2; /* for the clean-up of a failure: keeps *e */
	int rc;

	*gone = false;
	if ((rc = store_query_i(st, "SELECT id FROM batch WHERE id <> ?1 ORDER BY id LIMIT 1", skip, 0, 0, &b->bid, e)))
		return rc;
	if (!b->bid && !skip && ((rc = store_set_durable(st, false, e)) ||
	                (rc = rec_freeze(st, (int)cfg->batch_size, prio, &b->bid, e)) ||
	                (rc = store_set_durable(st, true, e)))) {
		store_set_durable(st, true, &e2);
		return rc;
	}
	if (!b->bid || (rc = store_begin(st, true, e)))
		return rc;
	if (!(rc = read_batch(st, b, e)) && !b->bid)
		*gone = true;
	else if (!rc &&
	         !(rc = store_exec_ii(st, "UPDATE batch SET attempts = attempts + 1, sent = 1 WHERE id = ?1", b->bid, 0, e)))
		rc = store_commit(st, e);
	store_rollback(st);
	return rc;
}

/* A POST in a thread of its own, so that the next batch is frozen while
 * HQ handles this one. */
struct flight {
	struct hq_client *hq;
	const char *path;
	const struct sending *b;
	struct hq_response r;
};

static void *fly(void *arg)
{
	struct flight *f = arg;

	hq_post(f->hq, f->path, f->b->body, f->b->len, f->b->key, &f->r);
	return NULL;
}

static int settle(struct store *st, const struct sending *b, const struct hq_response *r, struct up_outcome *o,
                  struct pa_err *e);

/* The held answer applied, into *o (see settle), then let go. */
static int settle_held(struct store *st, struct up_outcome *o, struct pa_err *e)
{
	int rc;

	o->status = held.r.status;
	o->retry_after = held.r.retry_after;
	rc = settle(st, &held.b, &held.r, o, e);
	drop_held();
	return rc;
}

/* What the uploader does while batch `flying` is in flight: applies the
 * answer held for the batch before it, if any (outcome in *prev, status
 * in *prev_rc with *prev_e), then freezes the next batch (best effort: a
 * failure there is logged, and that batch is frozen later as usual). */
static void meanwhile(struct store *st, const struct cfg *cfg, const char *prio, int64_t flying,
                      struct up_outcome *prev, int *prev_rc, struct pa_err *prev_e)
{
	struct pa_err e2;
	int64_t next = 0;

	memset(&e2, 0, sizeof(e2));
	if (have_held(st) && (*prev_rc = settle_held(st, prev, prev_e)) != 0)
		return;
	forget_frozen();
	if (store_set_durable(st, false, &e2) ||
	    rec_freeze_next(st, (int)cfg->batch_size, prio, flying, &next, &frozen.body, &e2))
		log_warn("could not freeze the next batch while one is in flight (done after it): %s", e2.message);
	else if (next && frozen.body.text) {
		frozen.st = st;
		frozen.gen = st->lock_gen;
		frozen.bid = next;
	}
	if (store_set_durable(st, true, &e2))
		log_warn("cannot restore full durability: %s", e2.message);
}

/* POSTs batch b to path into *r, with meanwhile() run beside it (after
 * it, when no thread can be made). */
static void post(struct store *st, struct hq_client *hq, const struct cfg *cfg, const char *prio, const char *path,
                 const struct sending *b, struct hq_response *r, struct up_outcome *prev, int *prev_rc,
                 struct pa_err *prev_e)
{
	struct flight f = {hq, path, b, {0}};
	pthread_t th;

	if (pthread_create(&th, NULL, fly, &f) != 0) {
		hq_post(hq, path, b->body, b->len, b->key, r);
		meanwhile(st, cfg, prio, b->bid, prev, prev_rc, prev_e);
		return;
	}
	meanwhile(st, cfg, prio, b->bid, prev, prev_rc, prev_e);
	pthread_join(th, NULL);
	*r = f.r;
}

/* Applies HQ's answer r to batch b into *o (see up_step). Returns 0 or a
 * status. */
static int settle(struct store *st, const struct sending *b, const struct hq_response *r, struct up_outcome *o,
                  struct pa_err *e)
{
	struct pa_err e2;
	int rc = 0, ok = 0;

	if (r->status == 200) {
		struct rec_tally t;
		if ((rc = store_set_durable(st, false, e)) ||
		    (rc = rec_apply_reply(st, b->bid, b->batch_id, r->body, &t, &ok, e)) ||
		    (rc = store_set_durable(st, true, e))) {
			store_set_durable(st, true, &e2);
			return rc;
		}
		o->accepted = t.accepted;
		o->rejected = t.rejected;
		o->deferred = t.deferred;
		if (ok) {
			o->result = UP_DONE;
			log_info("batch %s: %d accepted, %d rejected, %d waiting for their customer%s", b->batch_id,
			         o->accepted, o->rejected, o->deferred, r->replayed ? " (replayed answer)" : "");
			return 0;
		}
		o->result = UP_RETRY;
		snprintf(o->error, sizeof(o->error), "HQ's reply to batch %s does not match it; will resend", b->batch_id);
	} else if (r->status == 413) {
		int split_done = 0;
		if ((rc = rec_split(st, b->bid, &split_done, e)))
			return rc;
		o->result = split_done ? UP_DONE : UP_RETRY;
		describe(r, o->error, sizeof(o->error));
		if (!split_done && (rc = flag_batch(st, b->bid, "HQ answered 413 (too large) to a batch of one record, "
		                                                "far below its 4 MiB limit; kept and retried with backoff",
		                                    e)))
			return rc;
	} else if (r->status == 422) {
		/* Not stored by HQ: freeze the members again under new ids. */
		if ((rc = store_begin(st, true, e)) || (rc = rec_batch_release(st, b->bid, e)) ||
		    (rc = store_commit(st, e))) {
			store_rollback(st);
			return rc;
		}
		o->result = UP_RETRY;
		describe(r, o->error, sizeof(o->error));
	} else {
		o->result = r->status == 401 || r->status == 403 ? UP_AUTH : UP_RETRY;
		describe(r, o->error, sizeof(o->error));
		/* 409 request_in_progress: HQ is still handling our first send;
		 * ask again later, same key, not at once. */
		if (r->status == 409 && o->retry_after < 1)
			o->retry_after = 1;
		if (r->status == 400 && (rc = flag_batch(st, b->bid, o->error, e)))
			return rc;
	}
	if (o->result != UP_DONE) {
		sqlite3_stmt *u = store_prepare(st, "UPDATE batch SET last_status = ?2, last_error = ?3 WHERE id = ?1", e);
		if (!u)
			return e->status;
		sqlite3_bind_int64(u, 1, b->bid);
		sqlite3_bind_int64(u, 2, r->status);
		store_bind_text(u, 3, o->error[0] ? o->error : NULL);
		if (sqlite3_step(u) != SQLITE_DONE)
			rc = store_fail(st, e, "note the batch's error");
		sqlite3_finalize(u);
		log_warn("batch %s: %s", b->batch_id, o->error);
	}
	return rc;
}

/* up_step's tail: the counts of the answer applied during the flight
 * (prev) added to o's. */
static void add_prev(struct up_outcome *o, const struct up_outcome *prev)
{
	o->accepted += prev->accepted;
	o->rejected += prev->rejected;
	o->deferred += prev->deferred;
}

int up_step(struct store *st, struct hq_client *hq, const struct cfg *cfg, const char *priority_date,
            struct up_outcome *o, struct pa_err *e)
{
	struct sending b;
	struct hq_response r;
	struct up_outcome prev;
	struct pa_err prev_e;
	char path[200];
	bool gone, current = true;
	int rc = 0, prev_rc = 0;

	memset(o, 0, sizeof(*o));
	memset(&prev, 0, sizeof(prev));
	memset(&b, 0, sizeof(b));
	memset(&r, 0, sizeof(r));
	o->retry_after = -1;
	prev.result = UP_DONE;
	if (held.b.bid && !have_held(st))
		drop_held(); /* the lock was let go since: resent, replayed */
	/* What HQ takes decides what a batch may carry (asked once a client).
	 * HQ not answering: the batch is frozen as for the last HQ this
	 * process knew (this revision, for one that never reached HQ) and the
	 * POST says what is wrong, as before; a batch that never left stays
	 * editable. */
	if (hq_revision(hq, &current, &r) == 0)
		rec_set_legacy_hq(!current);
	hq_response_free(&r);
	memset(&r, 0, sizeof(r));
	if ((rc = take_batch(st, cfg, priority_date, held.b.bid, &b, &gone, e)) || !b.bid) {
		/* no batch after the held answer's: it is applied alone */
		if (!rc && held.b.bid)
			rc = settle_held(st, o, e);
		else
			o->result = gone ? UP_DONE : UP_IDLE; /* gone: an edit dropped it, take the next */
		goto cleanup;
	}
	o->records = b.records;
	snprintf(path, sizeof(path), "/v1/stores/%s/registers/%s/batches", cfg->store, cfg->reg);
	post(st, hq, cfg, priority_date, path, &b, &r, &prev, &prev_rc, &prev_e);
	if (prev_rc || prev.result != UP_DONE) {
		/* The batch before is not applied: this one's answer is not
		 * kept, and both are resent in order (HQ replays the answers). */
		*o = prev;
		if ((rc = prev_rc))
			*e = prev_e;
		goto cleanup;
	}
	if (r.status == 0 && r.unsent && !b.was_sent &&
	    (rc = store_exec_ii(st, "UPDATE batch SET sent = 0 WHERE id = ?1", b.bid, 0, e)))
		goto cleanup; /* it never left: still editable offline */
	o->status = r.status;
	o->retry_after = r.retry_after;
	if (r.status == 200) { /* applied during the next one's flight, or alone */
		held.st = st;
		held.gen = st->lock_gen;
		held.b = b;
		held.b.body = NULL;
		held.r = r;
		memset(&r, 0, sizeof(r));
		o->result = UP_DONE;
	} else
		rc = settle(st, &b, &r, o, e);
	add_prev(o, &prev);
cleanup:
	hq_response_free(&r);
	free(b.body);
	return rc;
}

int up_finish(struct store *st, struct up_outcome *o, struct pa_err *e)
{
	memset(o, 0, sizeof(*o));
	o->retry_after = -1;
	if (!have_held(st)) {
		drop_held();
		return 0;
	}
	return settle_held(st, o, e);
}

int up_waiting(struct store *st, int64_t *n, struct pa_err *e)
{
	return rec_waiting(st, n, e);
}
