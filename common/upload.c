#include "common/upload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

#define MAX_MEMBERS 500 /* HQ-API's largest batch */

/* A batch member: kind 'c' customer, 'a' address, 't' transaction. */
struct member {
	char kind;
	int64_t row;
};

static const char *kind_name(char k)
{
	return k == 'c' ? "customer" : k == 'a' ? "address" : "txn";
}

/* Adds name: column text or null. */
static void put(cJSON *o, const char *name, sqlite3_stmt *s, int col)
{
	const char *v = store_col_text(s, col);
	if (v)
		cJSON_AddStringToObject(o, name, v);
	else
		cJSON_AddNullToObject(o, name);
}

cJSON *up_customer_record(struct store *st, int64_t id, struct pa_err *e)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT async_id, local_number, created_at, kind, first_name, last_name, organization_name,"
		" email, phone, language, attributes FROM customer WHERE id = ?1", e);
	cJSON *r = NULL, *attrs;

	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) != SQLITE_ROW) {
		store_fail(st, e, "read customer for upload");
		goto cleanup;
	}
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "type", "customer");
	put(r, "async_id", s, 0);
	put(r, "local_number", s, 1);
	put(r, "created_at", s, 2);
	put(r, "kind", s, 3);
	put(r, "first_name", s, 4);
	put(r, "last_name", s, 5);
	put(r, "organization_name", s, 6);
	put(r, "email", s, 7);
	put(r, "phone", s, 8);
	put(r, "language", s, 9);
	attrs = cJSON_Parse(store_col_text(s, 10) ? store_col_text(s, 10) : "{}");
	if (!cJSON_IsObject(attrs)) {
		cJSON_Delete(attrs);
		attrs = cJSON_CreateObject();
	}
	cJSON_AddItemToObject(r, "attributes", attrs);
cleanup:
	store_release(st, s);
	return r;
}

/* {"account": A} when the customer has one, else {"async_id": ID}. */
static cJSON *customer_ref(sqlite3_stmt *s, int col_async, int col_account)
{
	cJSON *ref = cJSON_CreateObject();

	if (store_col_text(s, col_account))
		cJSON_AddStringToObject(ref, "account", store_col_text(s, col_account));
	else
		put(ref, "async_id", s, col_async);
	return ref;
}

static cJSON *address_record(struct store *st, int64_t id, struct pa_err *e)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT a.async_id, c.async_id, c.account, a.purpose, a.is_primary, a.line1, a.line2, a.city,"
		" a.region, a.postal_code, a.country FROM address a JOIN customer c ON c.id = a.customer_id"
		" WHERE a.id = ?1", e);
	cJSON *r = NULL;

	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) != SQLITE_ROW) {
		store_fail(st, e, "read address for upload");
		goto cleanup;
	}
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "type", "address");
	put(r, "async_id", s, 0);
	cJSON_AddItemToObject(r, "customer", customer_ref(s, 1, 2));
	put(r, "purpose", s, 3);
	cJSON_AddBoolToObject(r, "primary", sqlite3_column_int(s, 4));
	put(r, "line1", s, 5);
	put(r, "line2", s, 6);
	put(r, "city", s, 7);
	put(r, "region", s, 8);
	put(r, "postal_code", s, 9);
	put(r, "country", s, 10);
cleanup:
	store_release(st, s);
	return r;
}

static cJSON *txn_record_json(struct store *st, int64_t id, struct pa_err *e)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT t.body, t.customer_id, c.async_id, c.account FROM txn t"
	                                    " LEFT JOIN customer c ON c.id = t.customer_id WHERE t.id = ?1", e);
	cJSON *r = NULL;

	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) != SQLITE_ROW) {
		store_fail(st, e, "read transaction for upload");
		goto cleanup;
	}
	r = cJSON_Parse(store_col_text(s, 0));
	if (!r) {
		err_set(e, EX_IOERR, "database_corrupt", NULL, "stored transaction %lld is unreadable", (long long)id);
		goto cleanup;
	}
	if (sqlite3_column_type(s, 1) == SQLITE_NULL)
		cJSON_AddNullToObject(r, "customer");
	else
		cJSON_AddItemToObject(r, "customer", customer_ref(s, 2, 3));
cleanup:
	store_release(st, s);
	return r;
}

/* The record of a member, and its id (async id or txn_id) in rid. */
static cJSON *member_record(struct store *st, const struct member *m, char *rid, size_t n, struct pa_err *e)
{
	cJSON *r = m->kind == 'c' ? up_customer_record(st, m->row, e)
	           : m->kind == 'a' ? address_record(st, m->row, e) : txn_record_json(st, m->row, e);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, m->kind == 't' ? "txn_id" : "async_id");

	if (r && !cJSON_IsString(id)) {
		err_set(e, EX_IOERR, "database_corrupt", NULL, "%s %lld has no id", kind_name(m->kind),
		        (long long)m->row);
		cJSON_Delete(r);
		return NULL;
	}
	if (r)
		util_copy(rid, n, id->valuestring);
	return r;
}

/* Writes batch row bid's members and body from m[0..n) and marks the
 * records as held by it. Inside a write transaction. */
static int build_batch(struct store *st, int64_t bid, const char *batch_id, const struct member *m, int n,
                       struct pa_err *e)
{
	static const char *const mark[] = { /* one statement a kind, not a row */
		"UPDATE customer SET batch_id = ?1 WHERE id IN"
		" (SELECT row FROM batch_member WHERE batch = ?1 AND kind = 'customer')",
		"UPDATE address SET batch_id = ?1 WHERE id IN"
		" (SELECT row FROM batch_member WHERE batch = ?1 AND kind = 'address')",
		"UPDATE txn SET batch_id = ?1 WHERE id IN"
		" (SELECT row FROM batch_member WHERE batch = ?1 AND kind = 'txn')",
	};
	sqlite3_stmt *ins = NULL, *upd = NULL;
	cJSON *body = cJSON_CreateObject(), *recs;
	char rid[80], *text = NULL;
	int rc = 0;

	cJSON_AddStringToObject(body, "batch_id", batch_id);
	recs = cJSON_AddArrayToObject(body, "records");
	ins = store_stmt(st, "INSERT INTO batch_member(batch, seq, kind, row, record_id) VALUES (?1, ?2, ?3, ?4, ?5)", e);
	if (!ins) {
		rc = e->status;
		goto cleanup;
	}
	for (int i = 0; i < n; i++) {
		cJSON *r = member_record(st, &m[i], rid, sizeof(rid), e);
		if (!r) {
			rc = e->status;
			goto cleanup;
		}
		cJSON_AddItemToArray(recs, r);
		sqlite3_reset(ins);
		sqlite3_bind_int64(ins, 1, bid);
		sqlite3_bind_int(ins, 2, i);
		sqlite3_bind_text(ins, 3, kind_name(m[i].kind), -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 4, m[i].row);
		sqlite3_bind_text(ins, 5, rid, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(ins) != SQLITE_DONE) {
			rc = store_fail(st, e, "freeze batch");
			goto cleanup;
		}
	}
	for (int k = 0; k < 3; k++)
		if ((rc = store_exec_ii(st, mark[k], bid, 0, e)))
			goto cleanup;
	text = cJSON_PrintUnformatted(body);
	upd = store_prepare(st, "UPDATE batch SET body = ?2, records = ?3 WHERE id = ?1", e);
	if (!upd || !text) {
		rc = upd ? err_set(e, EX_OSERR, "out_of_memory", NULL, "out of memory") : e->status;
		goto cleanup;
	}
	sqlite3_bind_int64(upd, 1, bid);
	sqlite3_bind_blob(upd, 2, text, (int)strlen(text), SQLITE_STATIC);
	sqlite3_bind_int(upd, 3, n);
	if (sqlite3_step(upd) != SQLITE_DONE)
		rc = store_fail(st, e, "freeze batch");
cleanup:
	store_release(st, ins);
	sqlite3_finalize(upd);
	cJSON_Delete(body);
	free(text);
	return rc;
}

/* Inserts an empty batch row with a fresh batch id and key. */
static int new_batch(struct store *st, int64_t *bid, char batch_id[UUID_LEN + 1], struct pa_err *e)
{
	char key[UUID_LEN + 1];
	sqlite3_stmt *s;
	int rc = 0;

	if (util_uuid(batch_id) || util_uuid(key))
		return err_set(e, EX_OSERR, "no_randomness", NULL, "cannot make an id: no randomness from the kernel");
	s = store_prepare(st, "INSERT INTO batch(batch_id, idem_key, body, records, created_at)"
	                      " VALUES (?1, ?2, x'', 0, unixepoch())", e);
	if (!s)
		return e->status;
	sqlite3_bind_text(s, 1, batch_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = store_fail(st, e, "freeze batch");
	*bid = sqlite3_last_insert_rowid(st->db);
	sqlite3_finalize(s);
	return rc;
}

/* Appends rows of query s (first column the row id) as members of kind k,
 * marking each as held by bid at once so later queries see it. */
static int take(struct store *st, sqlite3_stmt *s, char k, int64_t bid, struct member *m, int *n, int max,
                struct pa_err *e)
{
	static const char *const mark[] = {
		"UPDATE customer SET batch_id = ?2 WHERE id = ?1",
		"UPDATE address SET batch_id = ?2 WHERE id = ?1",
		"UPDATE txn SET batch_id = ?2 WHERE id = ?1",
	};
	int step = SQLITE_DONE, rc = 0, first = *n;

	while (*n < max && (step = sqlite3_step(s)) == SQLITE_ROW) {
		m[*n].kind = k;
		m[*n].row = sqlite3_column_int64(s, 0);
		(*n)++;
	}
	if (*n < max && step != SQLITE_DONE)
		return store_fail(st, e, "pick records to upload");
	sqlite3_reset(s);
	for (int i = first; i < *n && !rc; i++)
		rc = store_exec_ii(st, mark[k == 'c' ? 0 : k == 'a' ? 1 : 2], m[i].row, bid, e);
	return rc;
}

/* Freezes the next batch of what is pending, in dependency order. *bid is
 * 0 when there is nothing to send. */
static int freeze(struct store *st, const struct cfg *cfg, const char *prio, int64_t *bid, struct pa_err *e)
{
	struct member m[MAX_MEMBERS];
	sqlite3_stmt *qc = NULL, *qa = NULL, *qt = NULL;
	char batch_id[UUID_LEN + 1];
	int n = 0, max = cfg->batch_size > 0 && cfg->batch_size <= MAX_MEMBERS ? (int)cfg->batch_size : 200;
	int rc;

	*bid = 0;
	if ((rc = store_begin(st, true, e)))
		return rc;
	if ((rc = store_query_i(st, "SELECT id FROM batch ORDER BY id LIMIT 1", 0, 0, 0, bid, e)) || *bid)
		goto cleanup; /* one frozen meanwhile: send that first */
	if ((rc = new_batch(st, bid, batch_id, e)))
		goto cleanup;
	/* For eod, the customers its date's transactions name, and those
	 * transactions, go first; then the rest, oldest first. Each query
	 * walks its partial queue index (pending, in no batch) in id order and
	 * stops at its LIMIT: INDEXED BY, because without statistics SQLite
	 * would take the state index and sort every pending row per batch. */
	if (prio) {
		qc = store_prepare(st, "SELECT id FROM customer INDEXED BY customer_queue WHERE state = 'pending'"
		                       " AND batch_id IS NULL AND id IN (SELECT customer_id FROM txn WHERE business_date = ?2) ORDER BY id LIMIT ?1", e);
		if (!qc) {
			rc = e->status;
			goto cleanup;
		}
		sqlite3_bind_int(qc, 1, max);
		sqlite3_bind_text(qc, 2, prio, -1, SQLITE_TRANSIENT);
		if ((rc = take(st, qc, 'c', *bid, m, &n, max, e)))
			goto cleanup;
		sqlite3_finalize(qc);
	}
	qc = store_prepare(st, "SELECT id FROM customer INDEXED BY customer_queue"
	                       " WHERE state = 'pending' AND batch_id IS NULL ORDER BY id LIMIT ?1", e);
	qa = store_prepare(st,
		"SELECT a.id FROM address a INDEXED BY address_queue JOIN customer c ON c.id = a.customer_id"
		" WHERE a.state = 'pending' AND a.batch_id IS NULL"
		" AND (c.state IN ('uploaded', 'synced') OR c.batch_id = ?1) ORDER BY a.id LIMIT ?2", e);
	qt = store_prepare(st,
		"SELECT t.id FROM txn t INDEXED BY txn_queue LEFT JOIN customer c ON c.id = t.customer_id"
		" WHERE t.state = 'pending' AND t.batch_id IS NULL"
		" AND (t.customer_id IS NULL OR c.state IN ('uploaded', 'synced') OR c.batch_id = ?1)"
		" AND (?3 IS NULL OR t.business_date = ?3) ORDER BY t.id LIMIT ?2", e);
	if (!qc || !qa || !qt) {
		rc = e->status;
		goto cleanup;
	}
	sqlite3_bind_int(qc, 1, max - n);
	if (n < max && (rc = take(st, qc, 'c', *bid, m, &n, max, e)))
		goto cleanup;
	sqlite3_bind_int64(qa, 1, *bid);
	sqlite3_bind_int(qa, 2, max - n);
	if (n < max && (rc = take(st, qa, 'a', *bid, m, &n, max, e)))
		goto cleanup;
	for (int pass = prio ? 0 : 1; pass < 2 && n < max; pass++) {
		sqlite3_reset(qt);
		sqlite3_bind_int64(qt, 1, *bid);
		sqlite3_bind_int(qt, 2, max - n);
		if (pass == 0)
			sqlite3_bind_text(qt, 3, prio, -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(qt, 3);
		if ((rc = take(st, qt, 't', *bid, m, &n, max, e)))
			goto cleanup;
	}
	if (n == 0) {
		*bid = 0;
		store_rollback(st);
		goto cleanup;
	}
	if ((rc = build_batch(st, *bid, batch_id, m, n, e)))
		goto cleanup;
	rc = store_commit(st, e);
	if (!rc)
		log_info("froze batch %s: %d records", batch_id, n);
cleanup:
	sqlite3_finalize(qc);
	sqlite3_finalize(qa);
	sqlite3_finalize(qt);
	if (rc)
		*bid = 0;
	store_rollback(st);
	return rc;
}

/* Reads the members of batch bid in order into m (at most MAX_MEMBERS). */
static int members(struct store *st, int64_t bid, struct member *m, char (*rid)[80], int *n, struct pa_err *e)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT kind, row, record_id FROM batch_member WHERE batch = ?1"
	                                    " ORDER BY seq", e);
	int step, rc = 0;

	*n = 0;
	if (!s)
		return e->status;
	sqlite3_bind_int64(s, 1, bid);
	while ((step = sqlite3_step(s)) == SQLITE_ROW && *n < MAX_MEMBERS) {
		m[*n].kind = store_col_text(s, 0)[0] == 'c' ? 'c' : store_col_text(s, 0)[0] == 'a' ? 'a' : 't';
		m[*n].row = sqlite3_column_int64(s, 1);
		if (rid)
			util_copy(rid[*n], 80, store_col_text(s, 2));
		(*n)++;
	}
	if (step != SQLITE_DONE && step != SQLITE_ROW)
		rc = store_fail(st, e, "read batch");
	sqlite3_finalize(s);
	return rc;
}

/* 413: the batch was too large. Drops it and freezes its members again in
 * two batches of half the size, same order, new ids and keys. A batch of
 * one record that HQ still finds too large (far below its 4 MiB limit, so
 * halving cannot explain it) is not split and never rejected: *split_done
 * is 0 and the caller keeps it, flags it and retries with backoff. */
static int split(struct store *st, int64_t bid, int *split_done, struct pa_err *e)
{
	struct member m[MAX_MEMBERS];
	char batch_id[UUID_LEN + 1];
	int n = 0, rc, half;
	int64_t b1 = 0, b2 = 0;

	*split_done = 0;
	if ((rc = store_begin(st, true, e)))
		return rc;
	if ((rc = members(st, bid, m, NULL, &n, e)))
		goto cleanup;
	if (n <= 1)
		goto cleanup;
	half = n / 2;
	if ((rc = store_batch_drop(st, bid, e)) || (rc = new_batch(st, &b1, batch_id, e)) ||
	    (rc = build_batch(st, b1, batch_id, m, half, e)) || (rc = new_batch(st, &b2, batch_id, e)) ||
	    (rc = build_batch(st, b2, batch_id, m + half, n - half, e)))
		goto cleanup;
	*split_done = 1;
	log_info("HQ found a batch of %d records too large: split in %d and %d", n, half, n - half);
cleanup:
	if (!rc)
		rc = store_commit(st, e);
	store_rollback(st);
	return rc;
}

/* Applies HQ's 200 reply to batch bid in one transaction. A reply that does
 * not match the batch member for member changes nothing: *ok = 0. */
static int apply(struct store *st, int64_t bid, const char *batch_id, const char *reply, struct up_outcome *o,
                 int *ok, struct pa_err *e)
{
	static const char *const done_sql[] = {
		"UPDATE customer SET state = CASE state WHEN 'synced' THEN 'synced' ELSE 'uploaded' END,"
		" batch_id = NULL, last_code = NULL, last_message = NULL, updated_at = unixepoch() WHERE id = ?1",
		"UPDATE address SET state = 'uploaded', batch_id = NULL, waiting_since = NULL, last_code = NULL,"
		" last_message = NULL, updated_at = unixepoch() WHERE id = ?1",
		"UPDATE txn SET state = 'uploaded', batch_id = NULL, waiting_since = NULL, last_code = NULL,"
		" last_message = NULL, updated_at = unixepoch() WHERE id = ?1",
	};
	static const char *const rej_sql[] = {
		"UPDATE customer SET state = CASE state WHEN 'synced' THEN 'synced' ELSE ?4 END,"
		" batch_id = NULL, last_code = ?2, last_message = ?3, updated_at = unixepoch() WHERE id = ?1",
		"UPDATE address SET state = ?4, batch_id = NULL, last_code = ?2, last_message = ?3,"
		" updated_at = unixepoch() WHERE id = ?1",
		"UPDATE txn SET state = ?4, batch_id = NULL, last_code = ?2, last_message = ?3,"
		" updated_at = unixepoch() WHERE id = ?1",
	};
	static const char *const cust_state_sql[] = {
		NULL,
		"SELECT c.state IN ('uploaded', 'synced') FROM address a JOIN customer c ON c.id = a.customer_id"
		" WHERE a.id = ?1",
		"SELECT c.state IN ('uploaded', 'synced') FROM txn t JOIN customer c ON c.id = t.customer_id"
		" WHERE t.id = ?1",
	};
	struct member m[MAX_MEMBERS];
	char rid[MAX_MEMBERS][80];
	cJSON *doc = cJSON_Parse(reply);
	const cJSON *results = cJSON_GetObjectItemCaseSensitive(doc, "results"), *r;
	const cJSON *bidj = cJSON_GetObjectItemCaseSensitive(doc, "batch_id");
	int n = 0, i, rc;

	*ok = 0;
	if ((rc = store_begin(st, true, e)))
		goto out;
	if ((rc = members(st, bid, m, rid, &n, e)))
		goto cleanup;
	/* Check everything before writing anything. */
	if (!cJSON_IsArray(results) || cJSON_GetArraySize(results) != n ||
	    (cJSON_IsString(bidj) && strcmp(bidj->valuestring, batch_id) != 0) || (bidj && !cJSON_IsString(bidj)))
		goto cleanup;
	i = 0;
	cJSON_ArrayForEach(r, results) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "id");
		const cJSON *status = cJSON_GetObjectItemCaseSensitive(r, "status");
		if (!cJSON_IsString(id) || !cJSON_IsString(status) || strcmp(id->valuestring, rid[i]) != 0)
			goto cleanup;
		if (strcmp(status->valuestring, "accepted") && strcmp(status->valuestring, "duplicate") &&
		    strcmp(status->valuestring, "rejected"))
			goto cleanup;
		i++;
	}
	i = 0;
	cJSON_ArrayForEach(r, results) {
		const char *status = cJSON_GetObjectItemCaseSensitive(r, "status")->valuestring;
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(r, "code");
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(r, "message");
		int k = m[i].kind == 'c' ? 0 : m[i].kind == 'a' ? 1 : 2;
		if (strcmp(status, "rejected") != 0) {
			rc = store_exec_ii(st, done_sql[k], m[i].row, 0, e);
			o->accepted++;
		} else {
			const char *c = cJSON_IsString(code) ? code->valuestring : "rejected";
			const char *state = "rejected";
			sqlite3_stmt *s;
			if (k > 0 && strcmp(c, "unknown_customer") == 0) {
				int64_t known = 0;
				if ((rc = store_query_i(st, cust_state_sql[k], m[i].row, 0, 0, &known, e)))
					goto cleanup;
				if (!known)
					state = "pending"; /* waits for its customer; no person needed */
			}
			if (!(s = store_prepare(st, rej_sql[k], e))) {
				rc = e->status;
				goto cleanup;
			}
			sqlite3_bind_int64(s, 1, m[i].row);
			sqlite3_bind_text(s, 2, c, -1, SQLITE_STATIC);
			store_bind_text(s, 3, cJSON_IsString(msg) ? msg->valuestring : "rejected by HQ");
			sqlite3_bind_text(s, 4, state, -1, SQLITE_STATIC);
			if (sqlite3_step(s) != SQLITE_DONE)
				rc = store_fail(st, e, "record HQ's answer");
			sqlite3_finalize(s);
			if (strcmp(state, "pending") == 0)
				o->deferred++;
			else {
				o->rejected++;
				log_warn("HQ rejected %s %s: %s", kind_name(m[i].kind), rid[i], c);
			}
		}
		if (rc)
			goto cleanup;
		i++;
	}
	if ((rc = store_exec_ii(st, "DELETE FROM batch_member WHERE batch = ?1", bid, 0, e)) ||
	    (rc = store_exec_ii(st, "DELETE FROM batch WHERE id = ?1", bid, 0, e)))
		goto cleanup;
	{
		char now[21];
		util_rfc3339(time(NULL), now);
		if ((rc = store_meta_set(st, "last_upload", now, e)))
			goto cleanup;
	}
	if ((rc = store_commit(st, e)))
		goto cleanup;
	*ok = 1;
cleanup:
	store_rollback(st);
out:
	cJSON_Delete(doc);
	return rc;
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
	if (!bid && (rc = freeze(st, cfg, priority_date, &bid, e)))
		return rc;
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
		if ((rc = apply(st, bid, batch_id, r.body, o, &ok, e)))
			goto cleanup;
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
		if ((rc = split(st, bid, &split_done, e)))
			goto cleanup;
		o->result = split_done ? UP_DONE : UP_RETRY;
		describe(&r, o->error, sizeof(o->error));
		if (!split_done && (rc = flag_batch(st, bid, "HQ answered 413 (too large) to a batch of one record, "
		                                             "far below its 4 MiB limit; kept and retried with backoff",
		                                    e)))
			goto cleanup;
	} else if (r.status == 422) {
		/* Not stored by HQ: freeze the members again under new ids. */
		if ((rc = store_begin(st, true, e)) || (rc = store_batch_drop(st, bid, e)) || (rc = store_commit(st, e)))
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
	return store_query_i(st,
		"SELECT (SELECT count(*) FROM customer WHERE state = 'pending')"
		" + (SELECT count(*) FROM address WHERE state = 'pending')"
		" + (SELECT count(*) FROM txn WHERE state = 'pending')", 0, 0, 0, n, e);
}
