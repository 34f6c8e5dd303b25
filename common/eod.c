#include "common/eod.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/record.h"

/* The customers a date's transactions refer to, however the POS named
 * them (async id, local number or account: each resolved to a row when the
 * transaction was recorded). */
#define REFERENCED "SELECT customer_id FROM txn WHERE business_date = ?1 AND customer_id IS NOT NULL"

/* The addresses a date's transactions name (delivery or invoice). */
#define REFERENCED_ADDR                                                                                  \
	"SELECT delivery_address_id FROM txn WHERE business_date = ?1 AND delivery_address_id IS NOT NULL" \
	" UNION SELECT invoice_address_id FROM txn WHERE business_date = ?1 AND invoice_address_id IS NOT NULL"

const char *eod_reason_name(enum eod_reason r)
{
	switch (r) {
	case EOD_WAIT_UPLOAD: return "waiting_for_upload";
	case EOD_UNREACHABLE: return "hq_unreachable";
	case EOD_WAIT_ASSIGN: return "waiting_for_assignment";
	case EOD_REJECTED: return "rejected";
	}
	return "waiting_for_upload";
}

/* Copies column col of s (or "" when NULL) into dst[n]. */
static void col_copy(char *dst, size_t n, sqlite3_stmt *s, int col)
{
	const char *v = store_col_text(s, col);

	util_copy(dst, n, v ? v : "");
}

int eod_oldest_open(struct store *st, char date[EOD_DATE_LEN + 1], bool *found, struct pa_err *e)
{
	/* One index seek per distinct date: min(business_date) over txn_date
	 * after the previous one. */
	sqlite3_stmt *s = store_prepare(st,
		"WITH RECURSIVE d(x) AS (SELECT (SELECT min(business_date) FROM txn)"
		" UNION ALL SELECT (SELECT min(business_date) FROM txn WHERE business_date > d.x) FROM d"
		" WHERE d.x IS NOT NULL)"
		" SELECT x FROM d WHERE x IS NOT NULL AND NOT EXISTS (SELECT 1 FROM statement st"
		" WHERE st.business_date = d.x AND st.state = 'posted') LIMIT 1", e);
	int rc = 0, step;

	*found = false;
	date[0] = '\0';
	if (!s)
		return e->status;
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		col_copy(date, EOD_DATE_LEN + 1, s, 0);
		*found = true;
	} else if (step != SQLITE_DONE) {
		rc = store_fail(st, e, "read business dates");
	}
	sqlite3_finalize(s);
	return rc;
}

/* Appends a zeroed block to g. Returns it, or NULL when out of memory. */
static struct eod_block *add_block(struct eod_gate *g, size_t *cap)
{
	struct eod_block *b;

	if (g->nblocks == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		b = realloc(g->blocks, ncap * sizeof(*b));
		if (!b)
			return NULL;
		g->blocks = b;
		*cap = ncap;
	}
	b = &g->blocks[g->nblocks++];
	memset(b, 0, sizeof(*b));
	return b;
}

/* The statement row of the date, if any, into g. */
static int gate_statement(struct store *st, const char *date, struct eod_gate *g, struct pa_err *e)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT state, statement_id, posting_id, last_code, last_message"
	                                    " FROM statement WHERE business_date = ?1", e);
	int rc = 0, step;

	if (!s)
		return e->status;
	sqlite3_bind_text(s, 1, date, -1, SQLITE_STATIC);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		col_copy(g->stmt_state, sizeof(g->stmt_state), s, 0);
		col_copy(g->statement_id, sizeof(g->statement_id), s, 1);
		col_copy(g->posting_id, sizeof(g->posting_id), s, 2);
		col_copy(g->stmt_code, sizeof(g->stmt_code), s, 3);
		col_copy(g->stmt_message, sizeof(g->stmt_message), s, 4);
	} else if (step != SQLITE_DONE) {
		rc = store_fail(st, e, "read statement");
	}
	sqlite3_finalize(s);
	return rc;
}

/* Decides from this run (net) and the bookkeeping whether uploads and
 * downloads are failing, and the error to show. */
static int gate_network(struct store *st, const struct eod_net *net, bool *up_bad, bool *down_bad, char *why,
                        size_t whylen, struct pa_err *e)
{
	char err_at[40], up_at[40], down_at[40], last[320];
	int rc;

	if ((rc = store_meta_get(st, "last_error_at", err_at, sizeof(err_at), e)) ||
	    (rc = store_meta_get(st, "last_upload", up_at, sizeof(up_at), e)) ||
	    (rc = store_meta_get(st, "last_download", down_at, sizeof(down_at), e)) ||
	    (rc = store_meta_get(st, "last_error", last, sizeof(last), e)))
		return rc;
	/* RFC 3339 texts of one format compare as times. */
	*up_bad = err_at[0] && strcmp(err_at, up_at) > 0;
	*down_bad = err_at[0] && strcmp(err_at, down_at) > 0;
	if (net) {
		/* This run downloads every round: its own outcome decides. Its
		 * upload may have been skipped (the service held the lock), so
		 * the bookkeeping still counts there. */
		*up_bad = *up_bad || net->up_failed;
		*down_bad = net->down_failed;
	}
	if (net && net->own_only) {
		*up_bad = net->up_failed;
		*down_bad = net->down_failed;
		util_copy(why, whylen, net->last_error);
		return 0;
	}
	util_copy(why, whylen, net && net->last_error[0] && (net->up_failed || net->down_failed) ? net->last_error : last);
	return 0;
}

/* Why a referenced record in state still waits (not synced). */
static enum eod_reason classify_state(const char *state, bool up_bad, bool down_bad)
{
	if (strcmp(state, "rejected") == 0)
		return EOD_REJECTED;
	if (strcmp(state, "uploaded") == 0)
		return down_bad ? EOD_UNREACHABLE : EOD_WAIT_ASSIGN;
	return up_bad ? EOD_UNREACHABLE : EOD_WAIT_UPLOAD;
}

/* Referenced customers (kind EOD_CUSTOMER) or addresses (EOD_ADDRESS):
 * counts into g, the ones not synced as blocks. */
static int gate_refs(struct store *st, const char *date, enum eod_kind kind, bool up_bad, bool down_bad,
                     struct eod_gate *g, size_t *cap, struct pa_err *e)
{
	sqlite3_stmt *s = store_prepare(st, kind == EOD_CUSTOMER
		? "SELECT async_id, local_number, state, last_code, last_message, NULL, NULL"
		  " FROM customer WHERE id IN (" REFERENCED ") ORDER BY id"
		: "SELECT a.async_id, c.local_number, a.state, a.last_code, a.last_message, a.address_id, a.purpose"
		  " FROM address a JOIN customer c ON c.id = a.customer_id WHERE a.id IN (" REFERENCED_ADDR ")"
		  " ORDER BY a.id", e);
	int rc = 0, step;

	if (!s)
		return e->status;
	sqlite3_bind_text(s, 1, date, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		const char *state = store_col_text(s, 2);
		struct eod_block *b;
		if (kind == EOD_CUSTOMER)
			g->customers++;
		else
			g->addresses++;
		if (state && strcmp(state, "synced") == 0) {
			g->synced++;
			continue;
		}
		if (!(b = add_block(g, cap))) {
			rc = err_set(e, EX_OSERR, "out_of_memory", NULL, "out of memory");
			goto cleanup;
		}
		b->kind = kind;
		col_copy(b->async_id, sizeof(b->async_id), s, 0);
		col_copy(b->local_number, sizeof(b->local_number), s, 1);
		col_copy(b->state, sizeof(b->state), s, 2);
		col_copy(b->address_id, sizeof(b->address_id), s, 5);
		col_copy(b->purpose, sizeof(b->purpose), s, 6);
		b->reason = classify_state(b->state, up_bad, down_bad);
		if (b->reason == EOD_REJECTED) {
			col_copy(b->code, sizeof(b->code), s, 3);
			col_copy(b->message, sizeof(b->message), s, 4);
			g->rejected++;
		}
		if (b->reason == EOD_UNREACHABLE)
			g->unreachable = true;
	}
	if (step != SQLITE_DONE)
		rc = store_fail(st, e, kind == EOD_CUSTOMER ? "read customers" : "read addresses");
cleanup:
	sqlite3_finalize(s);
	return rc;
}

/* Transactions of the date: counts into g, the rejected ones as blocks. */
static int gate_txns(struct store *st, const char *date, struct eod_gate *g, size_t *cap, struct pa_err *e)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT count(*), coalesce(sum(state = 'uploaded'), 0),"
	                                    " coalesce(sum(state = 'rejected'), 0) FROM txn WHERE business_date = ?1", e);
	int rc = 0, step;
	int64_t nrej = 0;

	if (!s)
		return e->status;
	sqlite3_bind_text(s, 1, date, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW) {
		rc = store_fail(st, e, "read transactions");
		goto cleanup;
	}
	g->txns = sqlite3_column_int64(s, 0);
	g->txns_uploaded = sqlite3_column_int64(s, 1);
	nrej = sqlite3_column_int64(s, 2);
	sqlite3_finalize(s);
	s = NULL;
	if (nrej == 0)
		goto cleanup;
	s = store_prepare(st, "SELECT txn_id, last_code, last_message FROM txn WHERE business_date = ?1"
	                      " AND state = 'rejected' ORDER BY id", e);
	if (!s) {
		rc = e->status;
		goto cleanup;
	}
	sqlite3_bind_text(s, 1, date, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		struct eod_block *b = add_block(g, cap);
		if (!b) {
			rc = err_set(e, EX_OSERR, "out_of_memory", NULL, "out of memory");
			goto cleanup;
		}
		b->kind = EOD_TRANSACTION;
		col_copy(b->txn_id, sizeof(b->txn_id), s, 0);
		util_copy(b->state, sizeof(b->state), "rejected");
		b->reason = EOD_REJECTED;
		col_copy(b->code, sizeof(b->code), s, 1);
		col_copy(b->message, sizeof(b->message), s, 2);
		g->rejected++;
	}
	if (step != SQLITE_DONE)
		rc = store_fail(st, e, "read transactions");
cleanup:
	sqlite3_finalize(s);
	return rc;
}

int eod_gate(struct store *st, const char *date, const struct eod_net *net, struct eod_gate *g,
             struct pa_err *e)
{
	size_t cap = 0;
	bool up_bad = false, down_bad = false;
	int rc;

	memset(g, 0, sizeof(*g));
	util_copy(g->date, sizeof(g->date), date);
	if ((rc = store_begin(st, false, e)))
		return rc;
	if ((rc = gate_statement(st, date, g, e)) ||
	    (rc = gate_network(st, net, &up_bad, &down_bad, g->last_error, sizeof(g->last_error), e)) ||
	    (rc = gate_refs(st, date, EOD_CUSTOMER, up_bad, down_bad, g, &cap, e)) ||
	    /* an HQ of before the revision never sees a sale's addresses: none
	     * to wait for (it never gives addresses their ids either) */
	    (!rec_legacy_hq() && (rc = gate_refs(st, date, EOD_ADDRESS, up_bad, down_bad, g, &cap, e))) ||
	    (rc = gate_txns(st, date, g, &cap, e)))
		goto cleanup;
	if (!g->unreachable)
		g->last_error[0] = '\0';
cleanup:
	store_rollback(st); /* a read transaction: nothing to keep */
	if (rc)
		eod_gate_free(g);
	return rc;
}

void eod_gate_free(struct eod_gate *g)
{
	free(g->blocks);
	g->blocks = NULL;
	g->nblocks = 0;
}

bool eod_ready(const struct eod_gate *g)
{
	return g->txns > 0 && g->synced == g->customers + g->addresses && g->txns_uploaded == g->txns;
}

/* Adds name: v as plain digits (cJSON prints doubles; money must stay
 * exact integers whatever their size). Returns 0 or -1. */
static int add_int(cJSON *o, const char *name, int64_t v)
{
	char text[24];

	snprintf(text, sizeof(text), "%lld", (long long)v);
	return cJSON_AddRawToObject(o, name, text) ? 0 : -1;
}

int eod_build(struct store *st, const char *date, const char *statement_id, char **body, size_t *len,
              int64_t *count, struct pa_err *e)
{
	sqlite3_stmt *s = NULL;
	cJSON *doc = cJSON_CreateObject(), *ids, *totals, *by;
	int64_t sales = 0;
	int rc = 0, step;
	bool oom = !doc;

	*body = NULL;
	*len = 0;
	*count = 0;
	if (oom)
		goto cleanup;
	s = store_prepare(st, "SELECT count(*), coalesce(sum(total_minor), 0) FROM txn WHERE business_date = ?1", e);
	if (!s) {
		rc = e->status;
		goto cleanup;
	}
	sqlite3_bind_text(s, 1, date, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW) {
		rc = store_fail(st, e, "sum transactions");
		goto cleanup;
	}
	*count = sqlite3_column_int64(s, 0);
	sales = sqlite3_column_int64(s, 1);
	sqlite3_finalize(s);
	s = NULL;
	oom = !cJSON_AddStringToObject(doc, "statement_id", statement_id) ||
	      !cJSON_AddStringToObject(doc, "business_date", date) ||
	      !cJSON_AddStringToObject(doc, "currency", st->currency) || add_int(doc, "transaction_count", *count) ||
	      !(ids = cJSON_AddArrayToObject(doc, "transactions"));
	if (oom)
		goto cleanup;
	s = store_prepare(st, "SELECT txn_id FROM txn WHERE business_date = ?1 ORDER BY id", e);
	if (!s) {
		rc = e->status;
		goto cleanup;
	}
	sqlite3_bind_text(s, 1, date, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		cJSON *id = cJSON_CreateString(store_col_text(s, 0) ? store_col_text(s, 0) : "");
		if (!id || !cJSON_AddItemToArray(ids, id)) {
			cJSON_Delete(id);
			oom = true;
			goto cleanup;
		}
	}
	if (step != SQLITE_DONE) {
		rc = store_fail(st, e, "list transactions");
		goto cleanup;
	}
	sqlite3_finalize(s);
	s = NULL;
	oom = !(totals = cJSON_AddObjectToObject(doc, "totals")) || add_int(totals, "sales_minor", sales) ||
	      !(by = cJSON_AddObjectToObject(totals, "by_tender"));
	if (oom)
		goto cleanup;
	s = store_prepare(st, "SELECT tn.type, sum(tn.amount_minor) FROM txn t JOIN tender tn ON tn.txn = t.id"
	                      " WHERE t.business_date = ?1 GROUP BY tn.type ORDER BY tn.type", e);
	if (!s) {
		rc = e->status;
		goto cleanup;
	}
	sqlite3_bind_text(s, 1, date, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		if (add_int(by, store_col_text(s, 0) ? store_col_text(s, 0) : "", sqlite3_column_int64(s, 1))) {
			oom = true;
			goto cleanup;
		}
	}
	if (step != SQLITE_DONE) {
		rc = store_fail(st, e, "sum tenders");
		goto cleanup;
	}
	*body = cJSON_PrintUnformatted(doc);
	oom = !*body;
	if (*body)
		*len = strlen(*body);
cleanup:
	if (oom && !rc)
		rc = err_set(e, EX_OSERR, "out_of_memory", NULL, "out of memory");
	sqlite3_finalize(s);
	cJSON_Delete(doc);
	return rc;
}

/* Reads the statement row of date into *s; *found false when none. */
static int load_row(struct store *st, const char *date, struct eod_stmt *s, bool *found, struct pa_err *e)
{
	sqlite3_stmt *q = store_prepare(st, "SELECT statement_id, idem_key, body, state, posting_id,"
	                                    " (SELECT count(*) FROM txn WHERE business_date = ?1)"
	                                    " FROM statement WHERE business_date = ?1", e);
	int rc = 0, step;

	*found = false;
	if (!q)
		return e->status;
	sqlite3_bind_text(q, 1, date, -1, SQLITE_STATIC);
	step = sqlite3_step(q);
	if (step == SQLITE_ROW) {
		const char *body = store_col_text(q, 2);
		util_copy(s->date, sizeof(s->date), date);
		col_copy(s->statement_id, sizeof(s->statement_id), q, 0);
		col_copy(s->idem_key, sizeof(s->idem_key), q, 1);
		col_copy(s->state, sizeof(s->state), q, 3);
		col_copy(s->posting_id, sizeof(s->posting_id), q, 4);
		s->txns = sqlite3_column_int64(q, 5);
		s->len = (size_t)sqlite3_column_bytes(q, 2);
		s->body = malloc(s->len + 1);
		if (!s->body) {
			rc = err_set(e, EX_OSERR, "out_of_memory", NULL, "out of memory");
			goto cleanup;
		}
		memcpy(s->body, body ? body : "", s->len);
		s->body[s->len] = '\0';
		*found = true;
	} else if (step != SQLITE_DONE) {
		rc = store_fail(st, e, "read statement");
	}
cleanup:
	sqlite3_finalize(q);
	return rc;
}

int eod_load(struct store *st, const char *date, struct eod_stmt *s, struct pa_err *e)
{
	bool found = false;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = load_row(st, date, s, &found, e)))
		return rc;
	if (!found)
		return err_set(e, EX_DATAERR, "no_statement", "business_date", "no statement is frozen for %s", date);
	return 0;
}

void eod_stmt_free(struct eod_stmt *s)
{
	free(s->body);
	s->body = NULL;
	s->len = 0;
}

int eod_freeze(struct store *st, const char *date, struct eod_stmt *s, struct pa_err *e)
{
	sqlite3_stmt *q = NULL;
	char key[UUID_LEN + 1];
	bool found = false;
	int64_t txns, not_uploaded, unsynced;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = store_begin(st, true, e)))
		return rc;
	if ((rc = load_row(st, date, s, &found, e)) || found)
		goto cleanup; /* frozen before: never rebuilt */
	q = store_prepare(st, "SELECT (SELECT count(*) FROM txn WHERE business_date = ?1),"
	                      " (SELECT count(*) FROM txn WHERE business_date = ?1 AND state <> 'uploaded'),"
	                      " (SELECT count(*) FROM customer WHERE id IN (" REFERENCED ") AND state <> 'synced')"
	                      " + (SELECT count(*) FROM address WHERE id IN (" REFERENCED_ADDR ") AND state <> 'synced'"
	                      " AND NOT ?2)", e);
	if (!q) {
		rc = e->status;
		goto cleanup;
	}
	sqlite3_bind_text(q, 1, date, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 2, rec_legacy_hq()); /* see eod_gate */
	if (sqlite3_step(q) != SQLITE_ROW) {
		rc = store_fail(st, e, "check the end-of-day gate");
		goto cleanup;
	}
	txns = sqlite3_column_int64(q, 0);
	not_uploaded = sqlite3_column_int64(q, 1);
	unsynced = sqlite3_column_int64(q, 2);
	if (txns == 0) {
		rc = err_set(e, EX_DATAERR, "no_transactions", "business_date", "%s has no transactions here", date);
		goto cleanup;
	}
	if (not_uploaded || unsynced) {
		rc = err_set(e, EX_TEMPFAIL, "not_ready", NULL,
		             "%s is not ready: %lld customers or addresses not synced, %lld transactions not uploaded", date,
		             (long long)unsynced, (long long)not_uploaded);
		goto cleanup;
	}
	if (util_uuid(s->statement_id) || util_uuid(key)) {
		rc = err_set(e, EX_OSERR, "no_randomness", NULL, "cannot make an id: no randomness from the kernel");
		goto cleanup;
	}
	if ((rc = eod_build(st, date, s->statement_id, &s->body, &s->len, &s->txns, e)))
		goto cleanup;
	sqlite3_finalize(q);
	q = store_prepare(st, "INSERT INTO statement(business_date, statement_id, idem_key, body, state, frozen_at)"
	                      " VALUES (?1, ?2, ?3, ?4, 'frozen', unixepoch())", e);
	if (!q) {
		rc = e->status;
		goto cleanup;
	}
	sqlite3_bind_text(q, 1, date, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, s->statement_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, s->body, (int)s->len, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE) {
		rc = store_fail(st, e, "freeze statement");
		goto cleanup;
	}
	if ((rc = store_commit(st, e)))
		goto cleanup;
	util_copy(s->date, sizeof(s->date), date);
	util_copy(s->idem_key, sizeof(s->idem_key), key);
	util_copy(s->state, sizeof(s->state), "frozen");
	log_info("froze statement %s of %s: %lld transactions", s->statement_id, date, (long long)s->txns);
cleanup:
	sqlite3_finalize(q);
	store_rollback(st);
	if (rc)
		eod_stmt_free(s);
	return rc;
}

/* Sends the transactions of date HQ says it does not hold (ids) back to
 * the queue: uploaded ones become pending again. *n: how many. */
static int requeue(struct store *st, const char *date, const cJSON *ids, int *n, struct pa_err *e)
{
	const cJSON *id;
	int rc;

	*n = 0;
	if ((rc = store_begin(st, true, e)))
		return rc;
	cJSON_ArrayForEach(id, ids) {
		if (cJSON_IsString(id) && (rc = rec_requeue_txn(st, id->valuestring, date, n, e)))
			goto cleanup;
	}
	rc = store_commit(st, e);
cleanup:
	store_rollback(st);
	return rc;
}

/* Records HQ's answer on the statement row: state (NULL: unchanged),
 * posting id (NULL: unchanged), last code and message. */
static int record(struct store *st, const char *date, const char *state, const char *posting, const char *code,
                  const char *msg, struct pa_err *e)
{
	sqlite3_stmt *s = store_prepare(st,
		"UPDATE statement SET state = coalesce(?2, state), posting_id = coalesce(?3, posting_id),"
		" posted_at = CASE WHEN ?2 = 'posted' THEN unixepoch() ELSE posted_at END,"
		" last_code = ?4, last_message = ?5 WHERE business_date = ?1 AND state <> 'posted'", e);
	int rc = 0;

	if (!s)
		return e->status;
	sqlite3_bind_text(s, 1, date, -1, SQLITE_STATIC);
	store_bind_text(s, 2, state);
	store_bind_text(s, 3, posting);
	store_bind_text(s, 4, code);
	store_bind_text(s, 5, msg);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = store_fail(st, e, "record HQ's answer to the statement");
	sqlite3_finalize(s);
	return rc;
}

/* Up to a few ids of arr, comma separated, into buf ("" when none). */
static void list_ids(const cJSON *arr, char *buf, size_t n)
{
	const cJSON *id;
	size_t used = 0;
	int shown = 0, total = cJSON_GetArraySize(arr);

	buf[0] = '\0';
	cJSON_ArrayForEach(id, arr) {
		int w;
		if (!cJSON_IsString(id))
			continue;
		if (shown == 5) {
			snprintf(buf + used, n - used, " and %d more", total - shown);
			return;
		}
		w = snprintf(buf + used, n - used, "%s%.72s", shown ? ", " : "", id->valuestring);
		if (w < 0 || (size_t)w >= n - used)
			return;
		used += (size_t)w;
		shown++;
	}
}

/* Reads HQ's reply into *o for a non-201 status. */
static void classify(const struct eod_stmt *s, const struct hq_response *r, struct eod_post_outcome *o)
{
	cJSON *doc = r->body ? cJSON_Parse(r->body) : NULL;
	cJSON *err = cJSON_GetObjectItemCaseSensitive(doc, "error");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(err, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(err, "message");
	const char *m = cJSON_IsString(msg) ? msg->valuestring : "";
	char ids[400];

	util_copy(o->code, sizeof(o->code), cJSON_IsString(code) ? code->valuestring : "");
	if (r->status == 0) {
		o->result = EOD_RETRY;
		util_copy(o->code, sizeof(o->code), "hq_unreachable");
		snprintf(o->error, sizeof(o->error), "%s", r->error[0] ? r->error : "no reply from HQ");
		goto cleanup;
	}
	if (r->status == 401 || r->status == 403) {
		o->result = EOD_AUTH;
		snprintf(o->error, sizeof(o->error), "HQ refused the credentials (%ld): %.200s", r->status, m);
		goto cleanup;
	}
	if (r->status == 409 && strcmp(o->code, "unknown_transactions") == 0) {
		o->result = EOD_UNKNOWN_TXNS;
		o->ids = cJSON_DetachItemFromObjectCaseSensitive(err, "txn_ids");
		list_ids(o->ids, ids, sizeof(ids));
		snprintf(o->error, sizeof(o->error), "HQ does not hold transactions %s yet", ids);
	} else if (r->status == 409 && strcmp(o->code, "unsynced_references") == 0) {
		char aids[400];
		const cJSON *it;
		o->result = EOD_UNSYNCED;
		list_ids(cJSON_GetObjectItemCaseSensitive(err, "customers"), ids, sizeof(ids));
		list_ids(cJSON_GetObjectItemCaseSensitive(err, "addresses"), aids, sizeof(aids));
		o->ids = cJSON_CreateArray();
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(err, "customers"))
			cJSON_AddItemToArray(o->ids, cJSON_Duplicate(it, 1));
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(err, "addresses"))
			cJSON_AddItemToArray(o->ids, cJSON_Duplicate(it, 1));
		snprintf(o->error, sizeof(o->error), "HQ has not synced %s%.250s%s%s%.250s yet", ids[0] ? "customers " : "", ids,
		         ids[0] && aids[0] ? " and " : "", aids[0] ? "addresses " : "", aids);
	} else if (r->status == 409 && strcmp(o->code, "unsynced_customers") == 0) {
		o->result = EOD_UNSYNCED;
		o->ids = cJSON_DetachItemFromObjectCaseSensitive(err, "async_ids");
		list_ids(o->ids, ids, sizeof(ids));
		snprintf(o->error, sizeof(o->error), "HQ has no account yet for customers %s", ids);
	} else if (r->status == 409 && strcmp(o->code, "already_posted") == 0) {
		const cJSON *other = cJSON_GetObjectItemCaseSensitive(err, "statement_id");
		o->result = EOD_REFUSED;
		snprintf(o->error, sizeof(o->error),
		         "HQ refused statement %s of %s: already_posted: HQ holds statement %.40s for this register"
		         " and date; a person must reconcile them with HQ",
		         s->statement_id, s->date, cJSON_IsString(other) ? other->valuestring : "(unnamed)");
	} else if (r->status == 422) {
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(err, "expected");
		const cJSON *xc = cJSON_GetObjectItemCaseSensitive(x, "transaction_count");
		const cJSON *xs = cJSON_GetObjectItemCaseSensitive(x, "sales_minor");
		o->result = EOD_REFUSED;
		if (cJSON_IsNumber(xc) && cJSON_IsNumber(xs))
			snprintf(o->error, sizeof(o->error),
			         "HQ refused statement %s of %s (%lld transactions): %.40s: %.200s (HQ counts %.0f"
			         " transactions, sales %.0f)", s->statement_id, s->date, (long long)s->txns,
			         o->code[0] ? o->code : "refused", m, xc->valuedouble, xs->valuedouble);
		else
			snprintf(o->error, sizeof(o->error), "HQ refused statement %s of %s: %.40s: %.200s",
			         s->statement_id, s->date, o->code[0] ? o->code : "refused", m);
	} else {
		/* 409 request_in_progress, 400, 429, 5xx and anything unforeseen:
		 * the same statement goes again later, unchanged. */
		o->result = EOD_RETRY;
		if (o->code[0])
			snprintf(o->error, sizeof(o->error), "HQ answered %ld: %.40s: %.200s", r->status, o->code, m);
		else
			snprintf(o->error, sizeof(o->error), "HQ answered %ld", r->status);
	}
cleanup:
	cJSON_Delete(doc);
}

/* Whether every async id of ids names a customer or address that is
 * synced here (then HQ's 409 unsynced_references is HQ catching up). */
static int all_synced(struct store *st, const cJSON *ids, bool *yes, struct pa_err *e)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT EXISTS (SELECT 1 FROM customer WHERE async_id = ?1 AND state = 'synced')"
	                                    " OR EXISTS (SELECT 1 FROM address WHERE async_id = ?1 AND state = 'synced')", e);
	const cJSON *id;
	int rc = 0;

	*yes = true;
	if (!s)
		return e->status;
	cJSON_ArrayForEach(id, ids) {
		if (!cJSON_IsString(id))
			continue;
		sqlite3_reset(s);
		sqlite3_bind_text(s, 1, id->valuestring, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_ROW) {
			rc = store_fail(st, e, "read references");
			break;
		}
		if (!sqlite3_column_int(s, 0)) {
			*yes = false;
			break;
		}
	}
	sqlite3_finalize(s);
	return rc;
}

void eod_read_reply(const struct eod_stmt *s, const struct hq_response *r, struct eod_post_outcome *o)
{
	if (r->status == 201 || r->status == 200) {
		cJSON *doc = r->body ? cJSON_Parse(r->body) : NULL;
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(doc, "posting_id");
		if (cJSON_IsString(p) && p->valuestring[0] && strlen(p->valuestring) < sizeof(o->posting_id)) {
			o->result = EOD_POSTED;
			util_copy(o->posting_id, sizeof(o->posting_id), p->valuestring);
		} else {
			o->result = EOD_RETRY;
			snprintf(o->error, sizeof(o->error), "HQ's reply to the statement has no posting_id; will resend");
		}
		cJSON_Delete(doc);
	} else {
		classify(s, r, o);
	}
}

int eod_post(struct store *st, struct hq_client *hq, const struct cfg *cfg, struct eod_stmt *s,
             struct eod_post_outcome *o, struct pa_err *e)
{
	struct hq_response r;
	char path[200];
	int rc = 0;

	memset(o, 0, sizeof(*o));
	memset(&r, 0, sizeof(r));
	o->retry_after = -1;
	snprintf(path, sizeof(path), "/v1/stores/%s/registers/%s/statements", cfg->store, cfg->reg);
	log_info("posting statement %s of %s", s->statement_id, s->date);
	hq_post(hq, path, s->body, s->len, s->idem_key, &r);
	o->status = r.status;
	o->retry_after = r.retry_after;
	o->replayed = r.replayed != 0;
	eod_read_reply(s, &r, o);
	switch (o->result) {
	case EOD_POSTED:
		if ((rc = record(st, s->date, "posted", o->posting_id, NULL, NULL, e)))
			goto cleanup;
		util_copy(s->state, sizeof(s->state), "posted");
		util_copy(s->posting_id, sizeof(s->posting_id), o->posting_id);
		log_info("statement %s of %s posted: %s%s", s->statement_id, s->date, o->posting_id,
		         o->replayed ? " (replayed answer)" : "");
		break;
	case EOD_REFUSED:
		if ((rc = record(st, s->date, "refused", NULL, o->code[0] ? o->code : "refused", o->error, e)))
			goto cleanup;
		util_copy(s->state, sizeof(s->state), "refused");
		break;
	case EOD_UNSYNCED:
		if ((rc = all_synced(st, o->ids, &o->all_synced_here, e)))
			goto cleanup;
		rc = record(st, s->date, NULL, NULL, o->code[0] ? o->code : "error", o->error, e);
		break;
	case EOD_UNKNOWN_TXNS:
		if ((rc = requeue(st, s->date, o->ids, &o->requeued, e)))
			goto cleanup;
		/* fall through */
	default:
		rc = record(st, s->date, NULL, NULL, o->code[0] ? o->code : "error", o->error, e);
		break;
	}
cleanup:
	hq_response_free(&r);
	return rc;
}
