#include "common/upload.h"

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

int up_step(struct store *st, struct hq_client *hq, const struct cfg *cfg, const char *priority_date,
            struct up_outcome *o, struct pa_err *e)
{
	struct hq_response r;
	struct pa_err e2; /* for the clean-up of a failure: keeps *e */
	sqlite3_stmt *s = NULL;
	char path[200], batch_id[UUID_LEN + 8], key[UUID_LEN + 8];
	char *body = NULL;
	size_t len = 0;
	int64_t bid = 0;
	int rc = 0, ok = 0, was_sent;

	memset(o, 0, sizeof(*o));
	memset(&r, 0, sizeof(r));
	o->retry_after = -1;
	if ((rc = store_query_i(st, "SELECT id FROM batch ORDER BY id LIMIT 1", 0, 0, 0, &bid, e)))
		return rc;
	/* One fsync a batch: the freeze commits without one, and the durable
	 * "sent" mark below makes it durable too (WAL is append-only), both
	 * before the POST; applying HQ's answer needs none (a lost apply
	 * resends the same batch, and HQ replays the same answer). */
	if (!bid && ((rc = store_set_durable(st, false, e)) ||
	             (rc = rec_freeze(st, (int)cfg->batch_size, priority_date, &bid, e)) ||
	             (rc = store_set_durable(st, true, e)))) {
		store_set_durable(st, true, &e2);
		return rc;
	}
	if (!bid) {
		o->result = UP_IDLE;
		return 0;
	}
	s = store_prepare(st, "SELECT batch_id, idem_key, body, records, sent FROM batch WHERE id = ?1", e);
	if (!s)
		return e->status;
	sqlite3_bind_int64(s, 1, bid);
	if (sqlite3_step(s) != SQLITE_ROW) {
		rc = store_fail(st, e, "read batch");
		goto cleanup;
	}
	util_copy(batch_id, sizeof(batch_id), store_col_text(s, 0));
	util_copy(key, sizeof(key), store_col_text(s, 1));
	len = (size_t)sqlite3_column_bytes(s, 2);
	body = malloc(len + 1);
	if (!body) {
		rc = err_set(e, EX_OSERR, "out_of_memory", NULL, "out of memory");
		goto cleanup;
	}
	memcpy(body, sqlite3_column_blob(s, 2), len);
	body[len] = '\0';
	o->records = sqlite3_column_int(s, 3);
	was_sent = sqlite3_column_int(s, 4);
	sqlite3_finalize(s);
	s = NULL;
	/* From here the batch may reach HQ: a person can no longer change its
	 * records (an edit would be lost as a duplicate). Durable before the
	 * POST, so a crash errs on the safe side. */
	if ((rc = store_exec_ii(st, "UPDATE batch SET attempts = attempts + 1, sent = 1 WHERE id = ?1", bid, 0, e)))
		goto cleanup;
	snprintf(path, sizeof(path), "/v1/stores/%s/registers/%s/batches", cfg->store, cfg->reg);
	hq_post(hq, path, body, len, key, &r);
	if (r.status == 0 && r.unsent && !was_sent &&
	    (rc = store_exec_ii(st, "UPDATE batch SET sent = 0 WHERE id = ?1", bid, 0, e)))
		goto cleanup; /* it never left: still editable offline */
	o->status = r.status;
	o->retry_after = r.retry_after;
	if (r.status == 200) {
		struct rec_tally t;
		if ((rc = store_set_durable(st, false, e)) ||
		    (rc = rec_apply_reply(st, bid, batch_id, r.body, &t, &ok, e)) ||
		    (rc = store_set_durable(st, true, e))) {
			store_set_durable(st, true, &e2);
			goto cleanup;
		}
		o->accepted = t.accepted;
		o->rejected = t.rejected;
		o->deferred = t.deferred;
		if (ok) {
			o->result = UP_DONE;
			log_info("batch %s: %d accepted, %d rejected, %d waiting for their customer%s", batch_id,
			         o->accepted, o->rejected, o->deferred, r.replayed ? " (replayed answer)" : "");
			goto cleanup;
		}
		o->result = UP_RETRY;
		snprintf(o->error, sizeof(o->error), "HQ's reply to batch %s does not match it; will resend", batch_id);
	} else if (r.status == 413) {
		int split_done = 0;
		if ((rc = rec_split(st, bid, &split_done, e)))
			goto cleanup;
		o->result = split_done ? UP_DONE : UP_RETRY;
		describe(&r, o->error, sizeof(o->error));
		if (!split_done && (rc = flag_batch(st, bid, "HQ answered 413 (too large) to a batch of one record, "
		                                             "far below its 4 MiB limit; kept and retried with backoff",
		                                    e)))
			goto cleanup;
	} else if (r.status == 422) {
		/* Not stored by HQ: freeze the members again under new ids. */
		if ((rc = store_begin(st, true, e)) || (rc = rec_batch_release(st, bid, e)) || (rc = store_commit(st, e)))
			goto cleanup;
		o->result = UP_RETRY;
		describe(&r, o->error, sizeof(o->error));
	} else if (r.status == 401 || r.status == 403) {
		o->result = UP_AUTH;
		describe(&r, o->error, sizeof(o->error));
	} else {
		o->result = UP_RETRY;
		describe(&r, o->error, sizeof(o->error));
		/* 409 request_in_progress: HQ is still handling our first send;
		 * ask again later, same key, not at once. */
		if (r.status == 409 && o->retry_after < 1)
			o->retry_after = 1;
		if (r.status == 400 && (rc = flag_batch(st, bid, o->error, e)))
			goto cleanup;
	}
	if (o->result != UP_DONE) {
		sqlite3_stmt *u = store_prepare(st, "UPDATE batch SET last_status = ?2, last_error = ?3 WHERE id = ?1", e);
		if (u) {
			sqlite3_bind_int64(u, 1, bid);
			sqlite3_bind_int64(u, 2, r.status);
			store_bind_text(u, 3, o->error[0] ? o->error : NULL);
			sqlite3_step(u);
			sqlite3_finalize(u);
		}
		log_warn("batch %s: %s", batch_id, o->error);
	}
cleanup:
	sqlite3_finalize(s);
	hq_response_free(&r);
	free(body);
	return rc;
}

int up_waiting(struct store *st, int64_t *n, struct pa_err *e)
{
	return rec_waiting(st, n, e);
}
