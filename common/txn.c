#include "common/txn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "common/validate.h"

/* The transaction in a fixed member order without its customer: what is
 * stored, compared on a retry, and later sent (customer added then). */
static cJSON *canonical(const cJSON *rec, const char *created_at)
{
	cJSON *c = cJSON_CreateObject(), *arr, *it;
	const char *copy[] = {"txn_id", "kind", "business_date"};

	cJSON_AddStringToObject(c, "type", "transaction");
	for (size_t i = 0; i < 3; i++)
		cJSON_AddStringToObject(c, copy[i], cJSON_GetObjectItemCaseSensitive(rec, copy[i])->valuestring);
	if (created_at)
		cJSON_AddStringToObject(c, "created_at", created_at);
	cJSON_AddStringToObject(c, "currency", cJSON_GetObjectItemCaseSensitive(rec, "currency")->valuestring);
	arr = cJSON_AddArrayToObject(c, "lines");
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(rec, "lines")) {
		cJSON *l = cJSON_CreateObject();
		cJSON_AddStringToObject(l, "sku", cJSON_GetObjectItemCaseSensitive(it, "sku")->valuestring);
		cJSON_AddNumberToObject(l, "qty", cJSON_GetObjectItemCaseSensitive(it, "qty")->valuedouble);
		cJSON_AddNumberToObject(l, "unit_price_minor",
		                        cJSON_GetObjectItemCaseSensitive(it, "unit_price_minor")->valuedouble);
		cJSON_AddItemToArray(arr, l);
	}
	arr = cJSON_AddArrayToObject(c, "tenders");
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(rec, "tenders")) {
		cJSON *t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "type", cJSON_GetObjectItemCaseSensitive(it, "type")->valuestring);
		cJSON_AddNumberToObject(t, "amount_minor", cJSON_GetObjectItemCaseSensitive(it, "amount_minor")->valuedouble);
		cJSON_AddItemToArray(arr, t);
	}
	cJSON_AddNumberToObject(c, "total_minor", cJSON_GetObjectItemCaseSensitive(rec, "total_minor")->valuedouble);
	return c;
}

/* Resolves the transaction's customer member to a row id (0 for none). */
static int resolve_ref(struct store *st, const cJSON *ref, int64_t *cid, struct pa_err *e)
{
	static const char *const by[] = {"async_id", "local_number", "account"};
	static const char *const sql[] = {
		"SELECT id FROM customer WHERE async_id = ?1",
		"SELECT id FROM customer WHERE local_number = ?1",
		"SELECT id FROM customer WHERE account = ?1",
	};
	sqlite3_stmt *s;
	int rc = 0, step;

	*cid = 0;
	if (!ref || cJSON_IsNull(ref))
		return 0;
	for (size_t i = 0; i < 3; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(ref, by[i]);
		if (!cJSON_IsString(v))
			continue;
		if (!(s = store_prepare(st, sql[i], e)))
			return e->status;
		sqlite3_bind_text(s, 1, v->valuestring, -1, SQLITE_STATIC);
		step = sqlite3_step(s);
		if (step == SQLITE_ROW)
			*cid = sqlite3_column_int64(s, 0);
		else if (step == SQLITE_DONE)
			rc = err_set(e, EX_DATAERR, "unknown_customer", "customer",
			             "customer: no customer here has the %s \"%.80s\"", by[i], v->valuestring);
		else /* a failed read is no "not found" (it was 65; an I/O error is 74) */
			rc = store_fail(st, e, "find customer");
		sqlite3_finalize(s);
		return rc;
	}
	return err_set(e, EX_DATAERR, "invalid_record", "customer",
	               "customer: must be {\"async_id\"}, {\"local_number\"} or {\"account\"}");
}

/* Resolves the address member name of rec ({"async_id"} or
 * {"address_id"}) to a row id (0 when absent or null): it must be known
 * here and an address of customer cid (a sale without a customer names
 * none). EX_DATAERR naming the member otherwise. */
static int resolve_addr(struct store *st, const cJSON *rec, const char *name, int64_t cid, int64_t *aid,
                        struct pa_err *e)
{
	const cJSON *ref = cJSON_GetObjectItemCaseSensitive(rec, name);
	const cJSON *as = cJSON_GetObjectItemCaseSensitive(ref, "async_id");
	const cJSON *ad = cJSON_GetObjectItemCaseSensitive(ref, "address_id");
	const char *by = cJSON_IsString(as) ? "async_id" : "address_id";
	const char *v = cJSON_IsString(as) ? as->valuestring : cJSON_IsString(ad) ? ad->valuestring : NULL;
	sqlite3_stmt *s;
	int64_t owner = 0;
	int rc = 0;

	*aid = 0;
	if (!v)
		return 0;
	if (!cid)
		return err_set(e, EX_DATAERR, "address_mismatch", name,
		               "%s: a sale without a customer cannot name an address", name);
	s = store_prepare(st, cJSON_IsString(as) ? "SELECT id, customer_id FROM address WHERE async_id = ?1"
	                                         : "SELECT id, customer_id FROM address WHERE address_id = ?1", e);
	if (!s)
		return e->status;
	sqlite3_bind_text(s, 1, v, -1, SQLITE_STATIC);
	switch (store_step(st, s, "find address", e)) {
	case 1:
		*aid = sqlite3_column_int64(s, 0);
		owner = sqlite3_column_int64(s, 1);
		break;
	case -1:
		sqlite3_finalize(s);
		return e->status;
	}
	sqlite3_finalize(s);
	if (!*aid)
		rc = err_set(e, EX_DATAERR, "unknown_address", name, "%s: no address here has the %s \"%.80s\"", name,
		             by, v);
	else if (owner != cid)
		rc = err_set(e, EX_DATAERR, "address_mismatch", name,
		             "%s: address %.80s is not an address of this transaction's customer", name, v);
	return rc;
}

/* Appends to warnings one entry for each record the transaction row names
 * that HQ rejected: end of day waits for its correction. */
static int add_warnings(struct store *st, int64_t row, cJSON *warnings, struct pa_err *e)
{
	sqlite3_stmt *s = store_prepare(st,
		"SELECT 'customer_rejected', 'customer ' || coalesce(c.local_number, c.account, c.async_id), c.last_code"
		" FROM txn t JOIN customer c ON c.id = t.customer_id WHERE t.id = ?1 AND c.state = 'rejected'"
		" UNION ALL SELECT 'address_rejected', 'address ' || coalesce(a.address_id, a.async_id) || ' ('"
		" || coalesce(a.purpose, 'no purpose') || ') of customer ' || coalesce(c.local_number, c.account, ''),"
		" a.last_code FROM txn t JOIN address a ON a.id IN (t.delivery_address_id, t.invoice_address_id)"
		" JOIN customer c ON c.id = a.customer_id WHERE t.id = ?1 AND a.state = 'rejected'", e);
	int step, rc = 0;
	char msg[400];

	if (!s)
		return e->status;
	sqlite3_bind_int64(s, 1, row);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		cJSON *w = cJSON_CreateObject();
		snprintf(msg, sizeof(msg), "%s was rejected by HQ (%s): end of day will wait for its correction",
		         store_col_text(s, 1) ? store_col_text(s, 1) : "?",
		         store_col_text(s, 2) ? store_col_text(s, 2) : "rejected");
		cJSON_AddStringToObject(w, "code", store_col_text(s, 0));
		cJSON_AddStringToObject(w, "message", msg);
		cJSON_AddItemToArray(warnings, w);
	}
	if (step != SQLITE_DONE)
		rc = store_fail(st, e, "read transaction");
	sqlite3_finalize(s);
	return rc;
}

/* The output document: txn_id, state, customer {async_id, account}. */
static int txn_doc(struct store *st, const char *txn_id, cJSON **out, struct pa_err *e)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT t.state, t.customer_id, c.async_id, c.account, t.id FROM txn t"
	                                    " LEFT JOIN customer c ON c.id = t.customer_id WHERE t.txn_id = ?1", e);
	cJSON *d = NULL;
	int rc = 0;

	*out = NULL;
	if (!s)
		return e->status;
	sqlite3_bind_text(s, 1, txn_id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW) {
		rc = store_fail(st, e, "read transaction");
		goto cleanup;
	}
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "txn_id", txn_id);
	cJSON_AddStringToObject(d, "state", store_col_text(s, 0));
	if (sqlite3_column_type(s, 1) == SQLITE_NULL) {
		cJSON_AddNullToObject(d, "customer");
	} else {
		cJSON *c = cJSON_AddObjectToObject(d, "customer");
		const char *a = store_col_text(s, 2), *acc = store_col_text(s, 3);
		if (a)
			cJSON_AddStringToObject(c, "async_id", a);
		else
			cJSON_AddNullToObject(c, "async_id");
		if (acc)
			cJSON_AddStringToObject(c, "account", acc);
		else
			cJSON_AddNullToObject(c, "account");
	}
	rc = add_warnings(st, sqlite3_column_int64(s, 4), cJSON_AddArrayToObject(d, "warnings"), e);
cleanup:
	sqlite3_finalize(s);
	if (rc) {
		cJSON_Delete(d);
		d = NULL;
	}
	*out = d;
	return rc;
}

/* Compares the stored transaction txn_id with the new one. */
static int same_txn(struct store *st, const char *txn_id, const cJSON *rec, const int64_t ids[3], bool *same,
                    struct pa_err *e)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT body, coalesce(customer_id, 0), coalesce(delivery_address_id, 0),"
	                                    " coalesce(invoice_address_id, 0) FROM txn WHERE txn_id = ?1", e);
	cJSON *have = NULL, *want = NULL;
	const cJSON *at = cJSON_GetObjectItemCaseSensitive(rec, "created_at");
	int rc = 0;

	*same = false;
	if (!s)
		return e->status;
	sqlite3_bind_text(s, 1, txn_id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW) {
		rc = store_fail(st, e, "read transaction");
		goto cleanup;
	}
	have = cJSON_Parse(store_col_text(s, 0));
	if (!have) {
		rc = err_set(e, EX_IOERR, "database_corrupt", NULL, "stored transaction %s is unreadable", txn_id);
		goto cleanup;
	}
	if (!cJSON_IsString(at))
		cJSON_DeleteItemFromObjectCaseSensitive(have, "created_at");
	want = canonical(rec, cJSON_IsString(at) ? at->valuestring : NULL);
	*same = sqlite3_column_int64(s, 1) == ids[0] && sqlite3_column_int64(s, 2) == ids[1] &&
	        sqlite3_column_int64(s, 3) == ids[2] && cJSON_Compare(have, want, 1);
cleanup:
	sqlite3_finalize(s);
	cJSON_Delete(have);
	cJSON_Delete(want);
	return rc;
}

int txn_record(struct store *st, const char *json, size_t len, cJSON **out, bool *created,
               struct pa_err *e)
{
	struct val_err ve;
	cJSON *rec = NULL, *canon = NULL;
	sqlite3_stmt *s = NULL;
	char prefix[80], now[21], *body = NULL;
	const char *txn_id, *date, *currency;
	const cJSON *at, *it;
	int64_t cid = 0, have = 0, closed = 0, id, ids[3] = {0, 0, 0};
	int rc = 0;
	bool intx = false;

	*out = NULL;
	*created = false;
	if (len > TXN_MAX_JSON)
		return err_set(e, EX_DATAERR, "too_large", NULL, "transaction document over %d bytes", TXN_MAX_JSON);
	if (util_json_has_nul(json, len)) {
		rc = err_set(e, EX_DATAERR, "invalid_text", NULL,
		             "a text holds a NUL character (\\u0000 or a NUL byte): it would be cut short");
		goto cleanup;
	}
	rec = util_json_parse(json, len);
	if (!rec) {
		rc = err_set(e, EX_DATAERR, "invalid_json", NULL, "not valid JSON (or nested too deep)");
		goto cleanup;
	}
	if (!val_json_plain_numbers(json, len)) {
		rc = err_set(e, EX_DATAERR, "invalid_number", NULL,
		             "every number must be written as plain digits (no fraction or exponent)");
		goto cleanup;
	}
	if (!cJSON_GetObjectItemCaseSensitive(rec, "type") && cJSON_IsObject(rec))
		cJSON_AddStringToObject(rec, "type", "transaction");
	if (val_transaction(rec, true, &ve) != 0) {
		rc = err_set(e, EX_DATAERR, ve.code, ve.field, "%s", ve.message);
		goto cleanup;
	}
	txn_id = cJSON_GetObjectItemCaseSensitive(rec, "txn_id")->valuestring;
	date = cJSON_GetObjectItemCaseSensitive(rec, "business_date")->valuestring;
	currency = cJSON_GetObjectItemCaseSensitive(rec, "currency")->valuestring;
	snprintf(prefix, sizeof(prefix), "%s-%s-", st->store_id, st->reg);
	if (strncmp(txn_id, prefix, strlen(prefix)) != 0 || strlen(txn_id) == strlen(prefix)) {
		rc = err_set(e, EX_DATAERR, "invalid_txn_id", "txn_id",
		             "txn_id: must begin with %s (this register's store and register)", prefix);
		goto cleanup;
	}
	if (strcmp(currency, st->currency) != 0) {
		rc = err_set(e, EX_DATAERR, "wrong_currency", "currency",
		             "currency: %s is not this register's currency %s", currency, st->currency);
		goto cleanup;
	}
	if ((rc = store_begin(st, true, e)))
		goto cleanup;
	intx = true;
	if ((rc = resolve_ref(st, cJSON_GetObjectItemCaseSensitive(rec, "customer"), &cid, e)) ||
	    (rc = resolve_addr(st, rec, "delivery_address", cid, &ids[1], e)) ||
	    (rc = resolve_addr(st, rec, "invoice_address", cid, &ids[2], e)))
		goto cleanup;
	ids[0] = cid;
	s = store_prepare(st, "SELECT (SELECT count(*) FROM statement WHERE business_date = ?1),"
	                      " (SELECT count(*) FROM txn WHERE txn_id = ?2)", e);
	if (!s) {
		rc = e->status;
		goto cleanup;
	}
	sqlite3_bind_text(s, 1, date, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, txn_id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW) {
		rc = store_fail(st, e, "read transactions");
		goto cleanup;
	}
	have = sqlite3_column_int64(s, 1);
	closed = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	s = NULL;
	if (have) {
		bool same = false;
		int64_t old = 0, rejected = 0;
		if ((rc = same_txn(st, txn_id, rec, ids, &same, e)))
			goto cleanup;
		if (same) {
			store_rollback(st);
			intx = false;
			rc = txn_doc(st, txn_id, out, e);
			goto cleanup;
		}
		if (!(s = store_prepare(st, "SELECT id, state = 'rejected' FROM txn WHERE txn_id = ?1", e))) {
			rc = e->status;
			goto cleanup;
		}
		sqlite3_bind_text(s, 1, txn_id, -1, SQLITE_STATIC);
		switch (store_step(st, s, "find transaction", e)) {
		case 1:
			old = sqlite3_column_int64(s, 0);
			rejected = sqlite3_column_int64(s, 1);
			break;
		case -1:
			rc = e->status;
			goto cleanup;
		}
		sqlite3_finalize(s);
		s = NULL;
		if (!rejected) {
			rc = err_set(e, EX_DATAERR, "txn_id_reused", "txn_id",
			             "txn_id %s is already recorded with different content", txn_id);
			goto cleanup;
		}
		/* HQ rejected it: a person's corrected record replaces it and
		 * goes up again under the same txn_id. */
		if ((rc = store_exec_ii(st, "DELETE FROM tender WHERE txn = ?1", old, 0, e)) ||
		    (rc = store_exec_ii(st, "DELETE FROM txn WHERE id = ?1", old, 0, e)))
			goto cleanup;
	}
	if (closed) {
		rc = err_set(e, EX_DATAERR, "date_closed", "business_date",
		             "business_date: %s is closed (its end-of-day statement exists)", date);
		goto cleanup;
	}
	at = cJSON_GetObjectItemCaseSensitive(rec, "created_at");
	util_rfc3339(time(NULL), now);
	canon = canonical(rec, cJSON_IsString(at) ? at->valuestring : now);
	body = cJSON_PrintUnformatted(canon);
	s = store_prepare(st, "INSERT INTO txn(txn_id, kind, business_date, customer_id, total_minor, body, state,"
	                      " waiting_since, updated_at, delivery_address_id, invoice_address_id)"
	                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', unixepoch(), unixepoch(), ?7, ?8)", e);
	if (!s || !body) {
		rc = s ? err_set(e, EX_OSERR, "out_of_memory", NULL, "out of memory") : e->status;
		goto cleanup;
	}
	sqlite3_bind_text(s, 1, txn_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, cJSON_GetObjectItemCaseSensitive(rec, "kind")->valuestring, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, date, -1, SQLITE_STATIC);
	if (cid)
		sqlite3_bind_int64(s, 4, cid);
	sqlite3_bind_int64(s, 5, (int64_t)cJSON_GetObjectItemCaseSensitive(rec, "total_minor")->valuedouble);
	sqlite3_bind_text(s, 6, body, -1, SQLITE_STATIC);
	for (int i = 1; i <= 2; i++)
		if (ids[i])
			sqlite3_bind_int64(s, 6 + i, ids[i]);
	if (sqlite3_step(s) != SQLITE_DONE) {
		rc = store_fail(st, e, "store transaction");
		goto cleanup;
	}
	id = sqlite3_last_insert_rowid(st->db);
	sqlite3_finalize(s);
	s = store_prepare(st, "INSERT INTO tender(txn, type, amount_minor) VALUES (?1, ?2, ?3)", e);
	if (!s) {
		rc = e->status;
		goto cleanup;
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(rec, "tenders")) {
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_text(s, 2, cJSON_GetObjectItemCaseSensitive(it, "type")->valuestring, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, (int64_t)cJSON_GetObjectItemCaseSensitive(it, "amount_minor")->valuedouble);
		if (sqlite3_step(s) != SQLITE_DONE) {
			rc = store_fail(st, e, "store tender");
			goto cleanup;
		}
	}
	if ((rc = store_commit(st, e)))
		goto cleanup;
	intx = false;
	*created = true;
	rc = txn_doc(st, txn_id, out, e);
cleanup:
	sqlite3_finalize(s);
	if (intx)
		store_rollback(st);
	cJSON_Delete(rec);
	cJSON_Delete(canon);
	free(body);
	return rc;
}

/* Adds name: column text or null. */
static void add_col(cJSON *o, const char *name, sqlite3_stmt *s, int col)
{
	const char *v = store_col_text(s, col);

	if (v)
		cJSON_AddStringToObject(o, name, v);
	else
		cJSON_AddNullToObject(o, name);
}

#define SHOW_COLS                                                                                          \
	"t.body, t.state, t.last_code, t.last_message, t.customer_id, c.async_id, c.local_number, c.account,"  \
	" c.state, t.delivery_address_id, d.async_id, d.address_id, d.state, t.invoice_address_id, i.async_id," \
	" i.address_id, i.state FROM txn t LEFT JOIN customer c ON c.id = t.customer_id"                      \
	" LEFT JOIN address d ON d.id = t.delivery_address_id LEFT JOIN address i ON i.id = t.invoice_address_id"

/* The address reference member for txn show: null, or its ids and state
 * from columns col (row id), col+1 async_id, col+2 address_id, col+3 state. */
static cJSON *show_addr(sqlite3_stmt *s, int col)
{
	cJSON *a;

	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return cJSON_CreateNull();
	a = cJSON_CreateObject();
	add_col(a, "async_id", s, col + 1);
	add_col(a, "address_id", s, col + 2);
	add_col(a, "state", s, col + 3);
	return a;
}

/* The txn show document of a row of SHOW_COLS: the HQ-API transaction with
 * its references as objects with ids and state, plus state and last_error. */
static cJSON *show_doc(sqlite3_stmt *s)
{
	cJSON *body = cJSON_Parse(store_col_text(s, 0) ? store_col_text(s, 0) : ""), *d = cJSON_CreateObject(), *it;

	cJSON_ArrayForEach(it, body) {
		cJSON_AddItemToObject(d, it->string, cJSON_Duplicate(it, 1));
		if (strcmp(it->string, "currency") != 0)
			continue;
		if (sqlite3_column_type(s, 4) == SQLITE_NULL) {
			cJSON_AddNullToObject(d, "customer");
		} else {
			cJSON *c = cJSON_AddObjectToObject(d, "customer");
			add_col(c, "async_id", s, 5);
			add_col(c, "local_number", s, 6);
			add_col(c, "account", s, 7);
			add_col(c, "state", s, 8);
		}
		cJSON_AddItemToObject(d, "delivery_address", show_addr(s, 9));
		cJSON_AddItemToObject(d, "invoice_address", show_addr(s, 13));
	}
	cJSON_Delete(body);
	add_col(d, "state", s, 1);
	if (store_col_text(s, 2)) {
		cJSON *le = cJSON_AddObjectToObject(d, "last_error");
		add_col(le, "code", s, 2);
		add_col(le, "message", s, 3);
	} else {
		cJSON_AddNullToObject(d, "last_error");
	}
	return d;
}

int txn_show(struct store *st, const char *txn_id, cJSON **out, struct pa_err *e)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT " SHOW_COLS " WHERE t.txn_id = ?1", e);
	int rc = 0, step;

	*out = NULL;
	if (!s)
		return e->status;
	sqlite3_bind_text(s, 1, txn_id, -1, SQLITE_STATIC);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW)
		*out = show_doc(s);
	else if (step == SQLITE_DONE)
		rc = err_set(e, EX_DATAERR, "unknown_transaction", "txn_id", "no transaction here has the txn_id \"%.80s\"",
		             txn_id);
	else
		rc = store_fail(st, e, "read transaction");
	sqlite3_finalize(s);
	return rc;
}

int txn_list(struct store *st, const char *date, const char *state, int limit, cJSON **out, struct pa_err *e)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT " SHOW_COLS " WHERE (?1 IS NULL OR t.business_date = ?1)"
	                                    " AND (?2 IS NULL OR t.state = ?2) ORDER BY t.id DESC LIMIT ?3", e);
	cJSON *arr = cJSON_CreateArray();
	int rc = 0, step;

	*out = NULL;
	if (!s) {
		cJSON_Delete(arr);
		return e->status;
	}
	store_bind_text(s, 1, date);
	store_bind_text(s, 2, state);
	sqlite3_bind_int(s, 3, limit);
	while ((step = sqlite3_step(s)) == SQLITE_ROW)
		cJSON_AddItemToArray(arr, show_doc(s));
	if (step != SQLITE_DONE) {
		rc = store_fail(st, e, "list transactions");
		cJSON_Delete(arr);
		arr = NULL;
	}
	sqlite3_finalize(s);
	*out = arr;
	return rc;
}
