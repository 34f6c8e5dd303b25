#include "common/record.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/update.h"
#include "common/util.h"

static const char *const kind_names[REC_NKINDS] = {"customer", "address", "txn", "customer_update",
                                                    "address_update"};

const char *rec_kind_name(enum rec_kind k)
{
	return k >= 0 && k < REC_NKINDS ? kind_names[k] : "record";
}

int rec_kind_parse(const char *name, enum rec_kind *k)
{
	for (int i = 0; name && i < REC_NKINDS; i++) {
		if (strcmp(name, kind_names[i]) == 0) {
			*k = (enum rec_kind)i;
			return 0;
		}
	}
	return -1;
}

/* The statement of table kinds (customer, address, txn) for k, or NULL
 * for a kind that has no such statement (yet). */
static const char *pick(const char *const sql[3], enum rec_kind k)
{
	return k == REC_CUSTOMER || k == REC_ADDRESS || k == REC_TXN ? sql[k] : NULL;
}

/* Runs a per-kind statement with ?1 = row and text ?2..?3 (may be NULL). */
static int run_kind(struct store *st, const char *sql, int64_t row, const char *t2, const char *t3,
                    const char *what, struct pa_err *e)
{
	sqlite3_stmt *s;
	int rc = 0;

	if (!sql)
		return err_set(e, EX_SOFTWARE, "unknown_kind", NULL, "%s: no such record kind here", what);
	if (!(s = store_stmt(st, sql, e)))
		return e->status;
	sqlite3_bind_int64(s, 1, row);
	if (sqlite3_bind_parameter_count(s) >= 2)
		store_bind_text(s, 2, t2);
	if (sqlite3_bind_parameter_count(s) >= 3)
		store_bind_text(s, 3, t3);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = store_fail(st, e, what);
	store_release(st, s);
	return rc;
}

int rec_accepted(struct store *st, enum rec_kind k, int64_t row, struct pa_err *e)
{
	static const char *const sql[3] = {
		"UPDATE customer SET state = CASE state WHEN 'synced' THEN 'synced' ELSE 'uploaded' END,"
		" batch_id = NULL, last_code = NULL, last_message = NULL, updated_at = unixepoch() WHERE id = ?1",
		"UPDATE address SET state = CASE state WHEN 'synced' THEN 'synced' ELSE 'uploaded' END,"
		" batch_id = NULL, waiting_since = CASE state WHEN 'synced' THEN NULL ELSE waiting_since END,"
		" last_code = NULL, last_message = NULL, updated_at = unixepoch() WHERE id = ?1",
		"UPDATE txn SET state = 'uploaded', batch_id = NULL, waiting_since = NULL, last_code = NULL,"
		" last_message = NULL, updated_at = unixepoch() WHERE id = ?1",
	};
	return run_kind(st, pick(sql, k), row, NULL, NULL, "record HQ's answer", e);
}

/* rec_accepted for every record batch bid still holds, one statement a
 * table (the same moves as rec_accepted's): applying a batch's answer
 * moves the rejected and deferred members one by one first, which lets
 * them go, then the rest at once. */
static int accepted_all(struct store *st, int64_t bid, struct pa_err *e)
{
	static const char *const sql[3] = {
		"UPDATE customer SET state = CASE state WHEN 'synced' THEN 'synced' ELSE 'uploaded' END,"
		" batch_id = NULL, last_code = NULL, last_message = NULL, updated_at = unixepoch()"
		" WHERE batch_id = ?1",
		"UPDATE address SET state = CASE state WHEN 'synced' THEN 'synced' ELSE 'uploaded' END,"
		" batch_id = NULL, waiting_since = CASE state WHEN 'synced' THEN NULL ELSE waiting_since END,"
		" last_code = NULL, last_message = NULL, updated_at = unixepoch() WHERE batch_id = ?1",
		("UPDATE txn SET state = 'uploaded', batch_id = NULL, waiting_since = NULL, last_code = NULL,"
		 " last_message = NULL, updated_at = unixepoch() WHERE batch_id = ?1"),
	};
	int rc = 0;

	for (int k = 0; k < 3 && !rc; k++)
		rc = store_exec_ii(st, sql[k], bid, 0, e);
	return rc;
}

int rec_rejected(struct store *st, enum rec_kind k, int64_t row, const char *code, const char *msg,
                 struct pa_err *e)
{
	static const char *const sql[3] = {
		"UPDATE customer SET state = CASE state WHEN 'synced' THEN 'synced' ELSE 'rejected' END,"
		" batch_id = NULL, last_code = ?2, last_message = ?3, updated_at = unixepoch() WHERE id = ?1",
		"UPDATE address SET state = CASE state WHEN 'synced' THEN 'synced' ELSE 'rejected' END,"
		" batch_id = NULL, last_code = ?2, last_message = ?3, updated_at = unixepoch() WHERE id = ?1",
		"UPDATE txn SET state = 'rejected', batch_id = NULL, last_code = ?2, last_message = ?3,"
		" updated_at = unixepoch() WHERE id = ?1",
	};
	int rc = run_kind(st, pick(sql, k), row, code ? code : "rejected", msg ? msg : "rejected by HQ",
	                  "record HQ's answer", e);

	/* Edits queued while its create was in flight are folded into it:
	 * the person's correction resends the record with every edit. */
	if (!rc && (k == REC_CUSTOMER || k == REC_ADDRESS))
		rc = upd_fold(st, k == REC_CUSTOMER ? UPD_CUSTOMER : UPD_ADDRESS, row, e);
	return rc;
}

int rec_deferred(struct store *st, enum rec_kind k, int64_t row, const char *code, const char *msg,
                 struct pa_err *e)
{
	static const char *const sql[3] = {
		"UPDATE customer SET state = CASE state WHEN 'synced' THEN 'synced' ELSE 'pending' END,"
		" batch_id = NULL, last_code = ?2, last_message = ?3, updated_at = unixepoch() WHERE id = ?1",
		"UPDATE address SET state = CASE state WHEN 'synced' THEN 'synced' ELSE 'pending' END,"
		" batch_id = NULL, last_code = ?2, last_message = ?3, updated_at = unixepoch() WHERE id = ?1",
		"UPDATE txn SET state = 'pending', batch_id = NULL, last_code = ?2, last_message = ?3,"
		" updated_at = unixepoch() WHERE id = ?1",
	};
	return run_kind(st, pick(sql, k), row, code, msg, "record HQ's answer", e);
}

int rec_waits(struct store *st, enum rec_kind k, int64_t row, const char *code, bool *waits, struct pa_err *e)
{
	static const char *const sql[3] = {
		NULL,
		"SELECT c.state NOT IN ('uploaded', 'synced') FROM address a JOIN customer c ON c.id = a.customer_id"
		" WHERE a.id = ?1",
		"SELECT coalesce(c.state NOT IN ('uploaded', 'synced'), 0)"
		" OR coalesce(d.state NOT IN ('uploaded', 'synced'), 0)"
		" OR coalesce(i.state NOT IN ('uploaded', 'synced'), 0)"
		" FROM txn t LEFT JOIN customer c ON c.id = t.customer_id"
		" LEFT JOIN address d ON d.id = t.delivery_address_id"
		" LEFT JOIN address i ON i.id = t.invoice_address_id WHERE t.id = ?1",
	};
	const char *q = pick(sql, k);
	int64_t v = 0;
	int rc;

	*waits = false;
	if (!code || !q || (strcmp(code, "unknown_customer") != 0 && strcmp(code, "unknown_address") != 0))
		return 0;
	if ((rc = store_query_i(st, q, row, 0, 0, &v, e)))
		return rc;
	*waits = v != 0;
	return 0;
}

int rec_corrected(struct store *st, enum rec_kind k, int64_t row, struct pa_err *e)
{
	static const char *const sql[3] = {
		"UPDATE customer SET state = 'pending', last_code = NULL, last_message = NULL, updated_at = unixepoch(),"
		" waiting_since = CASE WHEN state = 'rejected' OR waiting_since IS NULL THEN unixepoch()"
		" ELSE waiting_since END WHERE id = ?1",
		"UPDATE address SET state = 'pending', last_code = NULL, last_message = NULL, updated_at = unixepoch(),"
		" waiting_since = CASE WHEN state = 'rejected' OR waiting_since IS NULL THEN unixepoch()"
		" ELSE waiting_since END WHERE id = ?1",
		"UPDATE txn SET state = 'pending', last_code = NULL, last_message = NULL, updated_at = unixepoch(),"
		" waiting_since = CASE WHEN state = 'rejected' OR waiting_since IS NULL THEN unixepoch()"
		" ELSE waiting_since END WHERE id = ?1",
	};
	return run_kind(st, pick(sql, k), row, NULL, NULL, "correct record", e);
}

/* The row id of the first row of a one-text-parameter query (0: none). */
static int find_row(struct store *st, const char *sql, const char *text, int64_t not_row, int64_t *row,
                    struct pa_err *e)
{
	sqlite3_stmt *s = store_stmt(st, sql, e);
	int rc = 0, step;

	*row = 0;
	if (!s)
		return e->status;
	sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(s) >= 2)
		sqlite3_bind_int64(s, 2, not_row);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW)
		*row = sqlite3_column_int64(s, 0);
	else if (step != SQLITE_DONE)
		rc = store_fail(st, e, "find record");
	store_release(st, s);
	return rc;
}

int rec_fold_customer(struct store *st, int64_t from, int64_t into, struct pa_err *e)
{
	int rc;

	if (from == into || !from || !into)
		return 0;
	if ((rc = store_exec_ii(st, "UPDATE address SET customer_id = ?2 WHERE customer_id = ?1", from, into, e)) ||
	    (rc = store_exec_ii(st, "UPDATE txn SET customer_id = ?2 WHERE customer_id = ?1", from, into, e)) ||
	    /* its edits (issue 12) follow it; HQ's values under them too */
	    (rc = store_exec_ii(st, "UPDATE record_update SET row = ?2 WHERE kind = 'customer_update' AND row = ?1",
	                        from, into, e)) ||
	    (rc = store_exec_ii(st, "UPDATE record_update SET customer_id = ?2 WHERE customer_id = ?1", from, into, e)) ||
	    (rc = store_exec_ii(st, "UPDATE OR IGNORE record_base SET row = ?2 WHERE kind = 'customer_update'"
	                            " AND row = ?1", from, into, e)) ||
	    (rc = store_exec_ii(st, "DELETE FROM record_base WHERE kind = 'customer_update' AND row = ?1", from, 0, e)) ||
	    (rc = store_exec_ii(st, "DELETE FROM customer WHERE id = ?1", from, 0, e)))
		return rc;
	return 0;
}

/* Sets a text column (?2) of row ?1 to synced, reporting whether it moved. */
static int assign_row(struct store *st, const char *sql, int64_t row, const char *value, bool *changed,
                      struct pa_err *e)
{
	sqlite3_stmt *s = store_stmt(st, sql, e);
	int rc = 0;

	if (!s)
		return e->status;
	sqlite3_bind_int64(s, 1, row);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = store_fail(st, e, "apply assignment");
	else
		*changed = sqlite3_changes(st->db) > 0;
	store_release(st, s);
	return rc;
}

int rec_assign_customer(struct store *st, const char *async_id, const char *account, bool *changed,
                        struct pa_err *e)
{
	int64_t id = 0, other = 0;
	int rc;

	*changed = false;
	if (!async_id || !account)
		return 0;
	if ((rc = find_row(st, "SELECT id FROM customer WHERE async_id = ?1", async_id, 0, &id, e)) || !id)
		return rc;
	/* A row cached under that account without async id is the same
	 * customer: fold it into this one. */
	if ((rc = find_row(st, "SELECT id FROM customer WHERE account = ?1 AND id <> ?2", account, id, &other, e)) ||
	    (rc = rec_fold_customer(st, other, id, e)))
		return rc;
	return assign_row(st,
		"UPDATE customer SET account = ?2, state = 'synced', waiting_since = NULL, last_code = NULL,"
		" last_message = NULL, updated_at = unixepoch() WHERE id = ?1 AND (state <> 'synced' OR account IS NOT ?2)",
		id, account, changed, e);
}

int rec_assign_address(struct store *st, const char *async_id, const char *address_id, bool *changed,
                       struct pa_err *e)
{
	int64_t id = 0, other = 0;
	int rc;

	*changed = false;
	if (!async_id || !address_id)
		return 0;
	if ((rc = find_row(st, "SELECT id FROM address WHERE async_id = ?1", async_id, 0, &id, e)) || !id)
		return rc;
	/* A cached copy under that address id (from a customer change seen
	 * first) is the same address: it goes, unless a sale names it. */
	if ((rc = find_row(st, "SELECT id FROM address WHERE address_id = ?1 AND id <> ?2", address_id, id, &other, e)))
		return rc;
	if (other && ((rc = store_exec_ii(st, "UPDATE txn SET delivery_address_id = ?2 WHERE delivery_address_id = ?1",
	                                  other, id, e)) ||
	              (rc = store_exec_ii(st, "UPDATE txn SET invoice_address_id = ?2 WHERE invoice_address_id = ?1",
	                                  other, id, e)) ||
	              (rc = store_exec_ii(st, "DELETE FROM address WHERE id = ?1", other, 0, e))))
		return rc;
	return assign_row(st,
		"UPDATE address SET address_id = ?2, state = 'synced', waiting_since = NULL, last_code = NULL,"
		" last_message = NULL, updated_at = unixepoch() WHERE id = ?1 AND (state <> 'synced' OR address_id IS NOT ?2)",
		id, address_id, changed, e);
}

int rec_customer_synced(struct store *st, int64_t row, const char *account, struct pa_err *e)
{
	bool changed = false;

	return assign_row(st,
		"UPDATE customer SET account = ?2, state = 'synced', waiting_since = NULL, last_code = NULL,"
		" last_message = NULL, updated_at = unixepoch() WHERE id = ?1", row, account, &changed, e);
}

int rec_requeue_txn(struct store *st, const char *txn_id, const char *date, int *n, struct pa_err *e)
{
	sqlite3_stmt *s = store_stmt(st, "UPDATE txn SET state = 'pending', waiting_since = unixepoch(),"
	                                    " updated_at = unixepoch()"
	                                    " WHERE txn_id = ?1 AND business_date = ?2 AND state = 'uploaded'", e);
	int rc = 0;

	if (!s)
		return e->status;
	sqlite3_bind_text(s, 1, txn_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, date, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = store_fail(st, e, "requeue transactions");
	else
		*n += sqlite3_changes(st->db);
	store_release(st, s);
	return rc;
}

int rec_waiting(struct store *st, int64_t *n, struct pa_err *e)
{
	return store_query_i(st,
		"SELECT (SELECT count(*) FROM customer WHERE state = 'pending')"
		" + (SELECT count(*) FROM address WHERE state = 'pending')"
		" + (SELECT count(*) FROM txn WHERE state = 'pending')"
		" + (SELECT count(*) FROM record_update WHERE state = 'pending')", 0, 0, 0, n, e);
}

/* ------------------------------------------------------------------ */
/* Records as a batch carries them                                     */
/* ------------------------------------------------------------------ */

/* Adds name: column text or null. */
static void put(cJSON *o, const char *name, sqlite3_stmt *s, int col)
{
	const char *v = store_col_text(s, col);
	if (v)
		cJSON_AddStringToObject(o, name, v);
	else
		cJSON_AddNullToObject(o, name);
}

/* {"strong": S} when column col_strong has a value, else {"async_id": ID}
 * (an account or an address id once HQ gave it, else the async id). */
static cJSON *ref(sqlite3_stmt *s, const char *strong, int col_async, int col_strong)
{
	cJSON *r = cJSON_CreateObject();

	if (store_col_text(s, col_strong))
		cJSON_AddStringToObject(r, strong, store_col_text(s, col_strong));
	else
		put(r, "async_id", s, col_async);
	return r;
}

static cJSON *customer_record(struct store *st, int64_t id, struct pa_err *e)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT async_id, local_number, created_at, kind, first_name, last_name, organization_name,"
		" email, phone, language, attributes FROM customer WHERE id = ?1", e);
	static const char *const names[] = {"async_id", "local_number", "created_at", "kind", "first_name",
	                                    "last_name", "organization_name", "email", "phone", "language"};
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
	for (int i = 0; i < 10; i++)
		put(r, names[i], s, i);
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

static cJSON *address_record(struct store *st, int64_t id, struct pa_err *e)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT a.async_id, c.async_id, c.account, a.purpose, a.is_primary, a.line1, a.line2, a.city,"
		" a.region, a.postal_code, a.country FROM address a JOIN customer c ON c.id = a.customer_id"
		" WHERE a.id = ?1", e);
	static const char *const names[] = {"line1", "line2", "city", "region", "postal_code", "country"};
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
	cJSON_AddItemToObject(r, "customer", ref(s, "account", 1, 2));
	put(r, "purpose", s, 3);
	cJSON_AddBoolToObject(r, "primary", sqlite3_column_int(s, 4));
	for (int i = 0; i < 6; i++)
		put(r, names[i], s, 5 + i);
cleanup:
	store_release(st, s);
	return r;
}

/* The HQ this process sends to predates HQ-API's 2026-11-30 revision. */
static atomic_bool legacy_hq;

void rec_set_legacy_hq(bool legacy)
{
	atomic_store(&legacy_hq, legacy);
}

bool rec_legacy_hq(void)
{
	return atomic_load(&legacy_hq);
}

/* A growing text (a batch body). oom: an allocation failed, the text is
 * incomplete. */
struct text {
	char *p;
	size_t len, cap;
	bool oom;
};

/* Appends s[0..n) to t. */
static void text_add(struct text *t, const char *s, size_t n)
{
	if (t->oom)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 65536;
		char *p;
		while (cap < t->len + n + 1)
			cap *= 2;
		if (!(p = realloc(t->p, cap))) {
			t->oom = true;
			return;
		}
		t->p = p;
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

static void text_str(struct text *t, const char *s)
{
	text_add(t, s, strlen(s));
}

/* Appends v as compact JSON (v NULL: out of memory). */
static void text_json(struct text *t, const cJSON *v)
{
	char *j = v ? cJSON_PrintUnformatted(v) : NULL;

	if (!j)
		t->oom = true;
	else
		text_str(t, j);
	free(j);
}

/* Appends ,"name":REF (see ref) to t. */
static void text_ref(struct text *t, const char *name, sqlite3_stmt *s, const char *strong, int col_async,
                     int col_strong)
{
	cJSON *r = ref(s, strong, col_async, col_strong);

	text_str(t, ",\"");
	text_str(t, name);
	text_str(t, "\":");
	text_json(t, r);
	cJSON_Delete(r);
}

/* Appends transaction row id as a batch carries it to t, its txn_id into
 * rid: the stored body (a compact JSON object without references, as
 * txn_record stored it) with its customer and address references as known
 * now appended as text, so that a drain never parses and prints again the
 * sales it sends. */
static int txn_text(struct store *st, int64_t id, struct text *t, char *rid, size_t n, struct pa_err *e)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT t.body, t.customer_id, c.async_id, c.account, t.delivery_address_id, d.async_id, d.address_id,"
		" t.invoice_address_id, i.async_id, i.address_id, t.txn_id FROM txn t"
		" LEFT JOIN customer c ON c.id = t.customer_id LEFT JOIN address d ON d.id = t.delivery_address_id"
		" LEFT JOIN address i ON i.id = t.invoice_address_id WHERE t.id = ?1", e);
	const char *body;
	size_t len;
	int rc = 0;

	if (!s)
		return e->status;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) != SQLITE_ROW) {
		rc = store_fail(st, e, "read transaction for upload");
		goto cleanup;
	}
	body = store_col_text(s, 0);
	len = body ? strlen(body) : 0;
	if (len < 3 || body[0] != '{' || body[len - 1] != '}' || !store_col_text(s, 10)) {
		rc = err_set(e, EX_IOERR, "database_corrupt", NULL, "stored transaction %lld is unreadable", (long long)id);
		goto cleanup;
	}
	util_copy(rid, n, store_col_text(s, 10));
	text_add(t, body, len - 1);
	if (sqlite3_column_type(s, 1) == SQLITE_NULL)
		text_str(t, ",\"customer\":null");
	else
		text_ref(t, "customer", s, "account", 2, 3);
	/* Only members that name an address, and never to an HQ of before the
	 * revision (HQ-API: "the agent sends it neither"): the sale goes as
	 * that HQ knows sales, the register keeps the address it names. */
	if (sqlite3_column_type(s, 4) != SQLITE_NULL && !atomic_load(&legacy_hq))
		text_ref(t, "delivery_address", s, "address_id", 5, 6);
	if (sqlite3_column_type(s, 7) != SQLITE_NULL && !atomic_load(&legacy_hq))
		text_ref(t, "invoice_address", s, "address_id", 8, 9);
	text_str(t, "}");
cleanup:
	store_release(st, s);
	return rc;
}

/* The record txn_text makes, as a document. */
static cJSON *txn_record(struct store *st, int64_t id, struct pa_err *e)
{
	struct text t = {NULL, 0, 0, false};
	char rid[REC_ID_LEN];
	cJSON *r = NULL;

	if (txn_text(st, id, &t, rid, sizeof(rid), e) == 0) {
		if (t.oom)
			err_set(e, EX_OSERR, "out_of_memory", NULL, "out of memory");
		else if (!(r = cJSON_Parse(t.p)))
			err_set(e, EX_IOERR, "database_corrupt", NULL, "stored transaction %lld is unreadable",
			        (long long)id);
	}
	free(t.p);
	return r;
}

cJSON *rec_record(struct store *st, enum rec_kind k, int64_t row, struct pa_err *e)
{
	switch (k) {
	case REC_CUSTOMER: return customer_record(st, row, e);
	case REC_ADDRESS: return address_record(st, row, e);
	case REC_TXN: return txn_record(st, row, e);
	case REC_CUSTOMER_UPDATE:
	case REC_ADDRESS_UPDATE: return upd_record(st, row, e);
	default:
		err_set(e, EX_SOFTWARE, "unknown_kind", NULL, "no record of kind %s here", rec_kind_name(k));
		return NULL;
	}
}

/* The record of a member, and its id (async id or txn_id) in rid. */
static cJSON *member_record(struct store *st, const struct rec_ref *m, char *rid, size_t n, struct pa_err *e)
{
	cJSON *r = rec_record(st, m->kind, m->row, e);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, m->kind == REC_TXN ? "txn_id"
	                                                   : m->kind >= REC_CUSTOMER_UPDATE ? "update_id" : "async_id");

	if (r && !cJSON_IsString(id)) {
		err_set(e, EX_IOERR, "database_corrupt", NULL, "%s %lld has no id", rec_kind_name(m->kind),
		        (long long)m->row);
		cJSON_Delete(r);
		return NULL;
	}
	if (r)
		util_copy(rid, n, id->valuestring);
	return r;
}

/* ------------------------------------------------------------------ */
/* Batches                                                             */
/* ------------------------------------------------------------------ */

/* Marks every member of batch bid (its row's members) as held by it: one
 * statement a kind. */
static int hold_members(struct store *st, int64_t bid, struct pa_err *e)
{
#define MEMBERS_OF(kinds)                                                                                  \
	" (SELECT value ->> 1 FROM json_each((SELECT members FROM batch WHERE id = ?1)) WHERE value ->> 0 " kinds ")"
	static const char *const mark[] = {
		"UPDATE customer SET batch_id = ?1 WHERE id IN" MEMBERS_OF("= 'customer'"),
		"UPDATE address SET batch_id = ?1 WHERE id IN" MEMBERS_OF("= 'address'"),
		"UPDATE txn SET batch_id = ?1 WHERE id IN" MEMBERS_OF("= 'txn'"),
		"UPDATE record_update SET batch_id = ?1 WHERE id IN" MEMBERS_OF("IN ('customer_update', 'address_update')"),
	};
#undef MEMBERS_OF
	int rc = 0;

	for (int k = 0; k < 4 && !rc; k++)
		rc = store_exec_ii(st, mark[k], bid, 0, e);
	return rc;
}

/* Appends member m's record to body and [kind, row, record id] to rows. */
static int add_member(struct store *st, const struct rec_ref *m, struct text *body, cJSON *rows, struct pa_err *e)
{
	char rid[REC_ID_LEN];
	cJSON *row;

	if (m->kind == REC_TXN) {
		if (txn_text(st, m->row, body, rid, sizeof(rid), e))
			return e->status;
	} else {
		cJSON *r = member_record(st, m, rid, sizeof(rid), e);
		if (!r)
			return e->status;
		text_json(body, r);
		cJSON_Delete(r);
	}
	row = cJSON_CreateArray();
	cJSON_AddItemToArray(rows, row);
	cJSON_AddItemToArray(row, cJSON_CreateString(rec_kind_name(m->kind)));
	cJSON_AddItemToArray(row, cJSON_CreateNumber((double)m->row));
	cJSON_AddItemToArray(row, cJSON_CreateString(rid));
	return 0;
}

/* Writes batch row bid's members and body from m[0..n) and, unless take
 * did already (held), marks the records as held by it. The body is
 * {"batch_id", "records": [...]}, put together as text; the members,
 * [[kind, row, record id], ...], go in the same row (one write, where a
 * row each in a table of members was the largest part of a freeze).
 * Inside a write transaction. */
static int build_batch(struct store *st, int64_t bid, const char *batch_id, const struct rec_ref *m, int n,
                       bool held, struct rec_body *out, struct pa_err *e)
{
	struct text body = {NULL, 0, 0, false};
	sqlite3_stmt *upd = NULL;
	cJSON *rows = cJSON_CreateArray();
	char *members = NULL;
	int rc = 0;

	text_str(&body, "{\"batch_id\":\"");
	text_str(&body, batch_id);
	text_str(&body, "\",\"records\":[");
	for (int i = 0; i < n && !rc; i++) {
		if (i)
			text_str(&body, ",");
		rc = add_member(st, &m[i], &body, rows, e);
	}
	text_str(&body, "]}");
	if (rc)
		goto cleanup;
	upd = store_prepare(st, "UPDATE batch SET body = ?2, records = ?3, members = ?4 WHERE id = ?1", e);
	if (!upd || body.oom || !rows || !(members = cJSON_PrintUnformatted(rows))) {
		rc = upd ? err_set(e, EX_OSERR, "out_of_memory", NULL, "out of memory") : e->status;
		goto cleanup;
	}
	sqlite3_bind_int64(upd, 1, bid);
	sqlite3_bind_blob(upd, 2, body.p, (int)body.len, SQLITE_STATIC);
	sqlite3_bind_int(upd, 3, n);
	sqlite3_bind_text(upd, 4, members, -1, SQLITE_STATIC);
	if (sqlite3_step(upd) != SQLITE_DONE)
		rc = store_fail(st, e, "freeze batch");
	else if (!held)
		rc = hold_members(st, bid, e);
	if (!rc && out) { /* the caller keeps the bytes stored */
		out->text = body.p;
		out->len = body.len;
		out->records = n;
		body.p = NULL;
	}
cleanup:
	sqlite3_finalize(upd);
	cJSON_Delete(rows);
	free(members);
	free(body.p);
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

/* The queues of freeze, per kind: ?1 the batch being frozen, ?2 the room
 * left, ?3 the priority date or NULL (every pending record). Each walks
 * its partial queue index (pending, in no batch) in id order and stops at
 * its LIMIT: INDEXED BY, because without statistics SQLite would take the
 * state index and sort every pending row per batch. A record goes only
 * after what it names is accepted, or in this batch. Each is the IN list
 * of one UPDATE that holds what it picks for the batch (one statement a
 * kind, not one a record). */
/* An update waits while an earlier update of the same record is held by
 * another batch (the one in flight, or one frozen before it): it must not
 * reach HQ first, whatever happens to that batch (413 split, 422). */
#define UPD_NOT_BEHIND                                                                                     \
	" AND NOT EXISTS (SELECT 1 FROM record_update o WHERE o.kind = u.kind AND o.row = u.row"            \
	" AND o.batch_id IS NOT NULL AND o.batch_id <> ?1)"
static const char *const hold_sql[REC_NKINDS] = {
	"UPDATE customer SET batch_id = ?1 WHERE id IN (SELECT id FROM customer INDEXED BY customer_queue"
	" WHERE state = 'pending' AND batch_id IS NULL"
	" AND (?3 IS NULL OR id IN (SELECT customer_id FROM txn WHERE business_date = ?3)) ORDER BY id LIMIT ?2)",
	"UPDATE address SET batch_id = ?1 WHERE id IN (SELECT a.id FROM address a INDEXED BY address_queue"
	" JOIN customer c ON c.id = a.customer_id WHERE a.state = 'pending' AND a.batch_id IS NULL"
	" AND (c.state IN ('uploaded', 'synced') OR c.batch_id = ?1)"
	" AND (?3 IS NULL OR a.id IN (SELECT delivery_address_id FROM txn WHERE business_date = ?3)"
	"  OR a.id IN (SELECT invoice_address_id FROM txn WHERE business_date = ?3)) ORDER BY a.id LIMIT ?2)",
	"UPDATE txn SET batch_id = ?1 WHERE id IN (SELECT t.id FROM txn t INDEXED BY txn_queue"
	" LEFT JOIN customer c ON c.id = t.customer_id"
	" LEFT JOIN address d ON d.id = t.delivery_address_id LEFT JOIN address i ON i.id = t.invoice_address_id"
	" WHERE t.state = 'pending' AND t.batch_id IS NULL"
	" AND (t.customer_id IS NULL OR c.state IN ('uploaded', 'synced') OR c.batch_id = ?1)"
	" AND (d.id IS NULL OR d.state IN ('uploaded', 'synced') OR d.batch_id = ?1)"
	" AND (i.id IS NULL OR i.state IN ('uploaded', 'synced') OR i.batch_id = ?1)"
	" AND (?3 IS NULL OR t.business_date = ?3) ORDER BY t.id LIMIT ?2)",
	/* Updates (issue 12), never for a priority date (they never block end
	 * of day): in the order made, once HQ accepted the record they change
	 * (or it goes earlier in this batch). */
	"UPDATE record_update SET batch_id = ?1 WHERE id IN (SELECT u.id FROM record_update u"
	" INDEXED BY record_update_queue JOIN customer c ON c.id = u.customer_id"
	" WHERE u.state = 'pending' AND u.batch_id IS NULL AND u.kind = 'customer_update' AND ?3 IS NULL"
	" AND (c.state IN ('uploaded', 'synced') OR c.batch_id = ?1)" UPD_NOT_BEHIND " ORDER BY u.id LIMIT ?2)",
	"UPDATE record_update SET batch_id = ?1 WHERE id IN (SELECT u.id FROM record_update u"
	" INDEXED BY record_update_queue JOIN address a ON a.id = u.row"
	" WHERE u.state = 'pending' AND u.batch_id IS NULL AND u.kind = 'address_update' AND ?3 IS NULL"
	" AND (a.state IN ('uploaded', 'synced') OR a.batch_id = ?1)" UPD_NOT_BEHIND " ORDER BY u.id LIMIT ?2)",
};

/* Holds the next records of the queue of kind k (see queue_sql) for bid
 * with one statement, and appends the ones it took to m in id order (a
 * record held earlier in this batch, by the priority pass, is not taken
 * twice). */
static int take(struct store *st, enum rec_kind k, const char *date, int64_t bid, struct rec_ref *m, int *n,
                int max, struct pa_err *e)
{
	static const char *const held_sql[REC_NKINDS] = {
		"SELECT id FROM customer INDEXED BY customer_batch WHERE batch_id = ?1 ORDER BY id",
		"SELECT id FROM address INDEXED BY address_batch WHERE batch_id = ?1 ORDER BY id",
		"SELECT id FROM txn INDEXED BY txn_batch WHERE batch_id = ?1 ORDER BY id",
		"SELECT id FROM record_update INDEXED BY record_update_batch WHERE batch_id = ?1"
		" AND kind = 'customer_update' ORDER BY id",
		"SELECT id FROM record_update INDEXED BY record_update_batch WHERE batch_id = ?1"
		" AND kind = 'address_update' ORDER BY id",
	};
	sqlite3_stmt *s = store_stmt(st, hold_sql[k], e), *q = NULL;
	int step = SQLITE_DONE, rc = 0, first = *n, kstart = *n;

	if (!s)
		return e->status;
	sqlite3_bind_int64(s, 1, bid);
	sqlite3_bind_int(s, 2, max - *n);
	store_bind_text(s, 3, date);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = store_fail(st, e, "pick records to upload");
	store_release(st, s);
	if (rc || sqlite3_changes(st->db) == 0)
		return rc;
	if (!(q = store_stmt(st, held_sql[k], e)))
		return e->status;
	while (kstart > 0 && m[kstart - 1].kind == k) /* taken by the priority pass */
		kstart--;
	sqlite3_bind_int64(q, 1, bid);
	while (*n < max && (step = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t row = sqlite3_column_int64(q, 0);
		bool seen = false;
		for (int i = kstart; i < first && !seen; i++)
			seen = m[i].row == row;
		if (seen)
			continue;
		m[*n].kind = k;
		m[*n].row = row;
		(*n)++;
	}
	if (step != SQLITE_DONE && step != SQLITE_ROW)
		rc = store_fail(st, e, "pick records to upload");
	store_release(st, q);
	return rc;
}

/* rec_freeze and rec_freeze_next: flying is the batch in flight (0:
 * none). A batch other than flying found frozen is *bid when oldest, else
 * nothing new is frozen (*bid 0). */
static int freeze(struct store *st, int max, const char *prio, int64_t flying, bool oldest, int64_t *bid,
                  struct rec_body *out, struct pa_err *e)
{
	struct rec_ref m[REC_MAX_BATCH];
	char batch_id[UUID_LEN + 1];
	int64_t other = 0;
	int n = 0, rc;

	*bid = 0;
	if (max < 1 || max > REC_MAX_BATCH)
		max = 200;
	if ((rc = store_begin(st, true, e)))
		return rc;
	if ((rc = store_query_i(st, "SELECT id FROM batch WHERE id <> ?1 ORDER BY id LIMIT 1", flying, 0, 0, &other,
	                        e)) || other) {
		*bid = oldest ? other : 0; /* one frozen meanwhile: send that first */
		goto cleanup;
	}
	if ((rc = new_batch(st, bid, batch_id, e)))
		goto cleanup;
	/* Kind by kind, dependencies first; within a kind, what the priority
	 * date names first, then the rest, oldest first. */
	for (int k = REC_CUSTOMER; k <= REC_TXN && n < max; k++)
		for (int pass = prio ? 0 : 1; pass < 2 && n < max; pass++)
			if ((rc = take(st, (enum rec_kind)k, pass == 0 ? prio : NULL, *bid, m, &n, max, e)))
				goto cleanup;
	/* updates never to an HQ of before the revision: they wait for it */
	for (int k = REC_CUSTOMER_UPDATE; k <= REC_ADDRESS_UPDATE && n < max && !atomic_load(&legacy_hq); k++)
		if ((rc = take(st, (enum rec_kind)k, NULL, *bid, m, &n, max, e)))
			goto cleanup;
	if (n == 0) {
		*bid = 0;
		goto cleanup;
	}
	if ((rc = build_batch(st, *bid, batch_id, m, n, true, out, e)) || (rc = store_commit(st, e)))
		goto cleanup;
	if (out)
		util_copy(out->batch_id, sizeof(out->batch_id), batch_id);
	log_info("froze batch %s: %d records%s", batch_id, n, flying ? " (while the one before is in flight)" : "");
cleanup:
	if (rc) {
		*bid = 0;
		if (out) {
			free(out->text);
			out->text = NULL;
		}
	}
	store_rollback(st);
	return rc;
}

int rec_freeze(struct store *st, int max, const char *prio, int64_t *bid, struct pa_err *e)
{
	return freeze(st, max, prio, 0, true, bid, NULL, e);
}

int rec_freeze_next(struct store *st, int max, const char *prio, int64_t flying, int64_t *bid, struct rec_body *body,
                    struct pa_err *e)
{
	return freeze(st, max, prio, flying, false, bid, body, e);
}

/* Parsed with cJSON, not json_each: SQL's ->> parsed each member's array
 * again for every column, 6.5% of a drain's CPU. */
int rec_batch_members(struct store *st, int64_t bid, struct rec_ref *m, char (*rid)[REC_ID_LEN], int *n,
                      struct pa_err *e)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT members FROM batch WHERE id = ?1", e);
	cJSON *doc = NULL;
	const cJSON *it;
	int step, rc = 0;

	*n = 0;
	if (!s)
		return e->status;
	sqlite3_bind_int64(s, 1, bid);
	if ((step = sqlite3_step(s)) != SQLITE_ROW) {
		if (step != SQLITE_DONE)
			rc = store_fail(st, e, "read batch");
		goto cleanup; /* no such batch: no members */
	}
	doc = cJSON_Parse(store_col_text(s, 0) ? store_col_text(s, 0) : "");
	if (!cJSON_IsArray(doc)) {
		rc = err_set(e, EX_IOERR, "database_corrupt", NULL, "batch %lld has unreadable members", (long long)bid);
		goto cleanup;
	}
	cJSON_ArrayForEach(it, doc) {
		const cJSON *kind = cJSON_GetArrayItem(it, 0), *row = cJSON_GetArrayItem(it, 1);
		const cJSON *id = cJSON_GetArrayItem(it, 2);
		enum rec_kind k = REC_TXN;
		if (*n == REC_MAX_BATCH)
			break;
		if (!cJSON_IsString(kind) || rec_kind_parse(kind->valuestring, &k) != 0 || !cJSON_IsNumber(row) ||
		    !cJSON_IsString(id)) {
			rc = err_set(e, EX_IOERR, "database_corrupt", NULL, "batch %lld has a member of unknown kind",
			             (long long)bid);
			break;
		}
		m[*n].kind = k;
		m[*n].row = (int64_t)row->valuedouble;
		if (rid)
			util_copy(rid[*n], REC_ID_LEN, id->valuestring);
		(*n)++;
	}
cleanup:
	cJSON_Delete(doc);
	sqlite3_finalize(s);
	return rc;
}

int rec_batch_release(struct store *st, int64_t bid, struct pa_err *e)
{
	int rc;

	if ((rc = store_exec_ii(st, "UPDATE customer SET batch_id = NULL WHERE batch_id = ?1", bid, 0, e)) ||
	    (rc = store_exec_ii(st, "UPDATE address SET batch_id = NULL WHERE batch_id = ?1", bid, 0, e)) ||
	    (rc = store_exec_ii(st, "UPDATE txn SET batch_id = NULL WHERE batch_id = ?1", bid, 0, e)) ||
	    (rc = store_exec_ii(st, "UPDATE record_update SET batch_id = NULL WHERE batch_id = ?1", bid, 0, e)) ||
	    (rc = store_exec_ii(st, "DELETE FROM batch WHERE id = ?1", bid, 0, e)))
		return rc;
	return 0;
}

int rec_split(struct store *st, int64_t bid, int *split_done, struct pa_err *e)
{
	struct rec_ref m[REC_MAX_BATCH];
	char batch_id[UUID_LEN + 1];
	int n = 0, rc, half;
	int64_t b1 = 0, b2 = 0;

	*split_done = 0;
	if ((rc = store_begin(st, true, e)))
		return rc;
	if ((rc = rec_batch_members(st, bid, m, NULL, &n, e)) || n <= 1)
		goto cleanup;
	half = n / 2;
	if ((rc = rec_batch_release(st, bid, e)) || (rc = new_batch(st, &b1, batch_id, e)) ||
	    (rc = build_batch(st, b1, batch_id, m, half, false, NULL, e)) || (rc = new_batch(st, &b2, batch_id, e)) ||
	    (rc = build_batch(st, b2, batch_id, m + half, n - half, false, NULL, e)))
		goto cleanup;
	*split_done = 1;
	log_info("HQ found a batch of %d records too large: split in %d and %d", n, half, n - half);
cleanup:
	if (!rc)
		rc = store_commit(st, e);
	store_rollback(st);
	return rc;
}

/* True when the results array matches members rid[0..n) one for one, in
 * order, each with a status HQ-API names. Nothing is written. */
static bool reply_matches(const cJSON *doc, const char *batch_id, char (*rid)[REC_ID_LEN], int n)
{
	const cJSON *results = cJSON_GetObjectItemCaseSensitive(doc, "results"), *r;
	const cJSON *bidj = cJSON_GetObjectItemCaseSensitive(doc, "batch_id");
	int i = 0;

	if (!cJSON_IsArray(results) || cJSON_GetArraySize(results) != n ||
	    (bidj && (!cJSON_IsString(bidj) || strcmp(bidj->valuestring, batch_id) != 0)))
		return false;
	cJSON_ArrayForEach(r, results) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "id");
		const cJSON *status = cJSON_GetObjectItemCaseSensitive(r, "status");
		if (!cJSON_IsString(id) || !cJSON_IsString(status) || strcmp(id->valuestring, rid[i]) != 0)
			return false;
		if (strcmp(status->valuestring, "accepted") && strcmp(status->valuestring, "duplicate") &&
		    strcmp(status->valuestring, "rejected"))
			return false;
		i++;
	}
	return true;
}

/* An update's result (issue 12): accepted or duplicate with HQ's customer
 * version after it, rejected for a person, or deferred while the record
 * it changes is not accepted here (common/update). */
static int apply_update(struct store *st, const struct rec_ref *m, const char *rid, const cJSON *r,
                        struct rec_tally *t, struct pa_err *e)
{
	const char *status = cJSON_GetObjectItemCaseSensitive(r, "status")->valuestring;
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(r, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(r, "message");
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(r, "version");
	const char *c = cJSON_IsString(code) ? code->valuestring : "rejected";
	bool deferred = false;
	int rc;

	if (strcmp(status, "rejected") != 0) {
		t->accepted++;
		return upd_accepted(st, m->row, cJSON_IsNumber(ver) && ver->valuedouble >= 0 && ver->valuedouble < 9e15
		                                ? (int64_t)ver->valuedouble : -1, e);
	}
	rc = upd_rejected(st, m->row, c, cJSON_IsString(msg) ? msg->valuestring : "rejected by HQ", &deferred, e);
	if (deferred) {
		t->deferred++;
	} else {
		t->rejected++;
		log_warn("HQ rejected %s %s: %s", rec_kind_name(m->kind), rid, c);
	}
	return rc;
}

/* Moves member m (record id rid) as its result r says. */
static int apply_one(struct store *st, const struct rec_ref *m, const char *rid, const cJSON *r,
                     struct rec_tally *t, struct pa_err *e)
{
	const char *status = cJSON_GetObjectItemCaseSensitive(r, "status")->valuestring;
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(r, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(r, "message");
	const char *c = cJSON_IsString(code) ? code->valuestring : "rejected";
	const char *text = cJSON_IsString(msg) ? msg->valuestring : "rejected by HQ";
	bool waits = false;
	int rc;

	if (m->kind == REC_CUSTOMER_UPDATE || m->kind == REC_ADDRESS_UPDATE)
		return apply_update(st, m, rid, r, t, e);
	if (strcmp(status, "rejected") != 0) {
		t->accepted++;
		if (m->kind == REC_CUSTOMER || m->kind == REC_ADDRESS || m->kind == REC_TXN)
			return 0; /* with the others, by accepted_all */
		return rec_accepted(st, m->kind, m->row, e);
	}
	if ((rc = rec_waits(st, m->kind, m->row, c, &waits, e)))
		return rc;
	if (waits) {
		t->deferred++;
		return rec_deferred(st, m->kind, m->row, c, text, e);
	}
	t->rejected++;
	log_warn("HQ rejected %s %s: %s", rec_kind_name(m->kind), rid, c);
	return rec_rejected(st, m->kind, m->row, c, text, e);
}

int rec_apply_reply(struct store *st, int64_t bid, const char *batch_id, const char *reply, struct rec_tally *t,
                    int *ok, struct pa_err *e)
{
	static const char *const detach_sql[3] = {
		"UPDATE customer SET batch_id = NULL WHERE id = ?1",
		"UPDATE address SET batch_id = NULL WHERE id = ?1",
		"UPDATE txn SET batch_id = NULL WHERE id = ?1",
	};
	struct rec_ref m[REC_MAX_BATCH];
	char rid[REC_MAX_BATCH][REC_ID_LEN], now[21];
	cJSON *doc = reply ? cJSON_Parse(reply) : NULL;
	const cJSON *r;
	int n = 0, i = 0, rc;

	*ok = 0;
	memset(t, 0, sizeof(*t));
	if ((rc = store_begin(st, true, e)))
		goto out;
	if ((rc = rec_batch_members(st, bid, m, rid, &n, e)) || n == 0 || !reply_matches(doc, batch_id, rid, n))
		goto cleanup;
	/* The rejected let go of the batch, the rest are accepted at once,
	 * then the rejected are judged in order: a record's dependencies come
	 * before it in a batch, so each sees them moved as one by one would. */
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc, "results")) {
		if (strcmp(cJSON_GetObjectItemCaseSensitive(r, "status")->valuestring, "rejected") == 0 &&
		    pick(detach_sql, m[i].kind) &&
		    (rc = run_kind(st, pick(detach_sql, m[i].kind), m[i].row, NULL, NULL, "record HQ's answer", e)))
			goto cleanup;
		i++;
	}
	if ((rc = accepted_all(st, bid, e)))
		goto cleanup;
	i = 0;
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc, "results")) {
		if ((rc = apply_one(st, &m[i], rid[i], r, t, e)))
			goto cleanup;
		i++;
	}
	util_rfc3339(time(NULL), now);
	if ((rc = store_exec_ii(st, "DELETE FROM batch WHERE id = ?1", bid, 0, e)) ||
	    (rc = store_meta_set(st, "last_upload", now, e)) || (rc = store_commit(st, e)))
		goto cleanup;
	*ok = 1;
cleanup:
	if (!*ok)
		memset(t, 0, sizeof(*t));
	store_rollback(st);
out:
	cJSON_Delete(doc);
	return rc;
}
