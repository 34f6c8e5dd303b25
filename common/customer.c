#include "common/customer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/fold.h"
#include "common/record.h"
#include "common/search.h"
#include "common/update.h"
#include "common/util.h"
#include "common/validate.h"

/* The customer fields a person or the POS may set, in HQ-API order. */
static const char *const cust_fields[] = {"kind", "first_name", "last_name", "organization_name",
                                          "email", "phone", "language"};
#define N_CUST_FIELDS (sizeof(cust_fields) / sizeof(cust_fields[0]))

/* The address fields, HQ-API names, and their column names. */
static const char *const addr_fields[] = {"purpose", "line1", "line2", "city",
                                          "region", "postal_code", "country"};
#define N_ADDR_FIELDS (sizeof(addr_fields) / sizeof(addr_fields[0]))

#define CUST_COLS                                                                                  \
	"id, async_id, local_number, account, state, kind, first_name, last_name, organization_name," \
	" email, phone, language, attributes, created_at, last_code, last_message, batch_id"

/* Text of a string member, or NULL when absent, null or not a string. */
static const char *str(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* Adds name: text, or null when text is NULL. */
static void add_text(cJSON *o, const char *name, const char *text)
{
	if (text)
		cJSON_AddStringToObject(o, name, text);
	else
		cJSON_AddNullToObject(o, name);
}

/* The error document member last_error from code and message columns. */
static void add_last_error(cJSON *o, const char *code, const char *message)
{
	cJSON *le;

	if (!code) {
		cJSON_AddNullToObject(o, "last_error");
		return;
	}
	le = cJSON_AddObjectToObject(o, "last_error");
	add_text(le, "code", code);
	add_text(le, "message", message);
}

/* Turns a validation failure into an EX_DATAERR error. */
static int val_fail(struct pa_err *e, const struct val_err *ve)
{
	return err_set(e, EX_DATAERR, ve->code, ve->field, "%s", ve->message);
}

void cust_search_name(const cJSON *rec, char *out, size_t n)
{
	const char *parts[3] = {str(rec, "first_name"), str(rec, "last_name"), str(rec, "organization_name")};
	size_t used = 0;
	int w;

	out[0] = '\0';
	for (int i = 0; i < 3; i++) {
		if (!parts[i] || !*parts[i])
			continue;
		if (used + 1 < n) { /* a space before each: " ana silva" */
			out[used++] = ' ';
			out[used] = '\0';
		}
		w = fold_text(parts[i], out + used, n - used);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

/* An address document from a row of ADDR_COLS. */
#define ADDR_COLS                                                                                    \
	"a.id, a.async_id, a.purpose, a.is_primary, a.line1, a.line2, a.city, a.region, a.postal_code," \
	" a.country, a.state, a.last_code, a.last_message, c.async_id, c.account, a.address_id"

static cJSON *addr_doc(sqlite3_stmt *s)
{
	cJSON *a = cJSON_CreateObject(), *ref;

	add_text(a, "async_id", store_col_text(s, 1));
	add_text(a, "address_id", store_col_text(s, 15));
	if (store_col_text(s, 13)) {
		ref = cJSON_AddObjectToObject(a, "customer");
		cJSON_AddStringToObject(ref, "async_id", store_col_text(s, 13));
	} else {
		ref = cJSON_AddObjectToObject(a, "customer");
		add_text(ref, "account", store_col_text(s, 14));
	}
	add_text(a, "purpose", store_col_text(s, 2));
	cJSON_AddBoolToObject(a, "primary", sqlite3_column_int(s, 3));
	add_text(a, "line1", store_col_text(s, 4));
	add_text(a, "line2", store_col_text(s, 5));
	add_text(a, "city", store_col_text(s, 6));
	add_text(a, "region", store_col_text(s, 7));
	add_text(a, "postal_code", store_col_text(s, 8));
	add_text(a, "country", store_col_text(s, 9));
	add_text(a, "state", store_col_text(s, 10));
	add_last_error(a, store_col_text(s, 11), store_col_text(s, 12));
	return a;
}

/* Customer document (without addresses) from a row of CUST_COLS. */
static cJSON *cust_doc(sqlite3_stmt *s)
{
	cJSON *c = cJSON_CreateObject(), *attrs;
	const char *at = store_col_text(s, 12);

	add_text(c, "async_id", store_col_text(s, 1));
	add_text(c, "local_number", store_col_text(s, 2));
	add_text(c, "account", store_col_text(s, 3));
	add_text(c, "state", store_col_text(s, 4));
	add_text(c, "kind", store_col_text(s, 5));
	add_text(c, "first_name", store_col_text(s, 6));
	add_text(c, "last_name", store_col_text(s, 7));
	add_text(c, "organization_name", store_col_text(s, 8));
	add_text(c, "email", store_col_text(s, 9));
	add_text(c, "phone", store_col_text(s, 10));
	add_text(c, "language", store_col_text(s, 11));
	attrs = at ? cJSON_Parse(at) : NULL;
	if (!cJSON_IsObject(attrs)) {
		cJSON_Delete(attrs);
		attrs = cJSON_CreateObject();
	}
	cJSON_AddItemToObject(c, "attributes", attrs);
	add_text(c, "created_at", store_col_text(s, 13));
	add_last_error(c, store_col_text(s, 14), store_col_text(s, 15));
	return c;
}

/* Appends the addresses of customer id to doc["addresses"]. */
static int add_addresses(struct store *st, int64_t id, cJSON *doc, struct pa_err *e)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT " ADDR_COLS " FROM address a JOIN customer c"
	                                    " ON c.id = a.customer_id WHERE a.customer_id = ?1 AND a.removed = 0 ORDER BY a.id", e);
	cJSON *arr = cJSON_AddArrayToObject(doc, "addresses");
	int step, rc = 0;

	if (!s)
		return e->status;
	sqlite3_bind_int64(s, 1, id);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		cJSON *a = addr_doc(s);
		cJSON_AddItemToArray(arr, a);
		if ((rc = upd_decorate(st, UPD_ADDRESS, sqlite3_column_int64(s, 0), a, e)))
			break;
	}
	if (!rc && step != SQLITE_DONE)
		rc = store_fail(st, e, "read addresses");
	store_release(st, s);
	return rc;
}

int cust_get(struct store *st, int64_t id, cJSON **out, struct pa_err *e)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT " CUST_COLS " FROM customer WHERE id = ?1", e);
	cJSON *doc = NULL;
	int rc = 0, step;

	*out = NULL;
	if (!s)
		return e->status;
	sqlite3_bind_int64(s, 1, id);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		doc = cust_doc(s);
		rc = upd_decorate(st, UPD_CUSTOMER, id, doc, e);
	} else if (step == SQLITE_DONE)
		rc = err_set(e, EX_DATAERR, "unknown_customer", "customer", "no such customer");
	else
		rc = store_fail(st, e, "read customer");
	store_release(st, s);
	if (rc || (rc = add_addresses(st, id, doc, e)) != 0) {
		cJSON_Delete(doc);
		doc = NULL;
	}
	*out = doc;
	return rc;
}

int cust_resolve(struct store *st, const char *ref, int64_t *id, struct pa_err *e)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT id, local_number, account, async_id FROM customer"
	                                    " WHERE async_id = ?1 OR local_number = ?1 OR account = ?1 LIMIT 5", e);
	char names[256] = "";
	int n = 0, step, rc = 0;

	if (!s)
		return e->status;
	sqlite3_bind_text(s, 1, ref, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		const char *nm = store_col_text(s, 1) ? store_col_text(s, 1)
		                 : store_col_text(s, 2) ? store_col_text(s, 2) : store_col_text(s, 3);
		size_t used = strlen(names);
		*id = sqlite3_column_int64(s, 0);
		snprintf(names + used, sizeof(names) - used, "%s%s", n ? ", " : "", nm ? nm : "?");
		n++;
	}
	if (step != SQLITE_DONE)
		rc = store_fail(st, e, "find customer");
	else if (n == 0)
		rc = err_set(e, EX_DATAERR, "unknown_customer", "customer",
		             "no customer here has the async id, local number or account \"%.80s\"", ref);
	else if (n > 1)
		rc = err_set(e, EX_DATAERR, "ambiguous_customer", "customer",
		             "\"%.80s\" matches more than one customer: %s", ref, names);
	sqlite3_finalize(s);
	return rc;
}

/* The fields of row id as an HQ-API customer record (for edits). */
static int cust_record(struct store *st, int64_t id, cJSON **out, struct pa_err *e)
{
	cJSON *doc = NULL, *rec;
	int rc;

	*out = NULL;
	if ((rc = cust_get(st, id, &doc, e)))
		return rc;
	rec = cJSON_CreateObject();
	for (size_t i = 0; i < N_CUST_FIELDS; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, cust_fields[i]);
		if (cJSON_IsString(v))
			cJSON_AddStringToObject(rec, cust_fields[i], v->valuestring);
	}
	cJSON_AddItemToObject(rec, "attributes",
	                      cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(doc, "attributes"), 1));
	cJSON_Delete(doc);
	*out = rec;
	return 0;
}

/* Binds the customer fields of rec to s at ?3..?12:
 * kind, first, last, org, email, phone, language, attributes, search_name,
 * phone_digits. */
static void bind_fields(sqlite3_stmt *s, const cJSON *rec)
{
	char sname[400], digits[40];
	const char *phone = str(rec, "phone");
	const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(rec, "attributes");
	char *atext = cJSON_IsObject(attrs) ? cJSON_PrintUnformatted(attrs) : NULL;

	store_bind_text(s, 3, str(rec, "kind") ? str(rec, "kind") : "person");
	for (int i = 1; i < 7; i++)
		store_bind_text(s, 3 + i, str(rec, cust_fields[i]));
	sqlite3_bind_text(s, 10, atext ? atext : "{}", -1, SQLITE_TRANSIENT);
	cust_search_name(rec, sname, sizeof(sname));
	sqlite3_bind_text(s, 11, sname, -1, SQLITE_TRANSIENT);
	if (phone && val_phone_digits(phone, digits, sizeof(digits)) > 0)
		sqlite3_bind_text(s, 12, digits, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, 12);
	free(atext);
}

/* True when the stored record of id has the same fields as rec. */
static int same_fields(struct store *st, int64_t id, const cJSON *rec, bool *same, struct pa_err *e)
{
	cJSON *have = NULL, *want = cJSON_CreateObject();
	int rc;

	for (size_t i = 0; i < N_CUST_FIELDS; i++) {
		const char *v = str(rec, cust_fields[i]);
		if (i == 0 && !v)
			v = "person";
		if (v)
			cJSON_AddStringToObject(want, cust_fields[i], v);
	}
	{
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(rec, "attributes");
		cJSON_AddItemToObject(want, "attributes", cJSON_IsObject(a) ? cJSON_Duplicate(a, 1) : cJSON_CreateObject());
	}
	rc = cust_record(st, id, &have, e);
	if (!rc)
		*same = cJSON_Compare(have, want, 1);
	cJSON_Delete(have);
	cJSON_Delete(want);
	return rc;
}

/* Appends to arr the other customers with the same email or phone digits. */
static int find_duplicates(struct store *st, int64_t id, const cJSON *rec, cJSON *arr, struct pa_err *e)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT async_id, local_number, account, 'same_email' FROM customer"
		" WHERE ?2 IS NOT NULL AND email = ?2 COLLATE NOCASE AND id <> ?1"
		" UNION ALL SELECT async_id, local_number, account, 'same_phone' FROM customer"
		" WHERE ?3 IS NOT NULL AND phone_digits = ?3 AND id <> ?1 LIMIT 20", e);
	char digits[40];
	const char *phone = str(rec, "phone");
	int step, rc = 0;

	if (!s)
		return e->status;
	sqlite3_bind_int64(s, 1, id);
	store_bind_text(s, 2, str(rec, "email"));
	if (phone && val_phone_digits(phone, digits, sizeof(digits)) > 0)
		sqlite3_bind_text(s, 3, digits, -1, SQLITE_TRANSIENT);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		cJSON *d = cJSON_CreateObject();
		add_text(d, "async_id", store_col_text(s, 0));
		add_text(d, "local_number", store_col_text(s, 1));
		add_text(d, "account", store_col_text(s, 2));
		add_text(d, "reason", store_col_text(s, 3));
		cJSON_AddItemToArray(arr, d);
	}
	if (step != SQLITE_DONE)
		rc = store_fail(st, e, "look for duplicates");
	store_release(st, s);
	return rc;
}

/* A create that probed more than this many taken numbers above the
 * counter moves the counter up to the number it took. */
#define LOCAL_FLOOR_EVERY 32

/* Takes the next local number REGISTER-NNNNNN (inside a write tx): the
 * first number above meta local_seq that no customer holds. local_seq is
 * a floor, not the last number given: every number at or below it was
 * handed out or retired (schema 7's trigger raises it to the number of a
 * customer deleted or renumbered), and the numbers above it are found
 * taken in the local_number index, walked in order by one statement (six
 * digits sort as numbers do; past 999999 each is looked up on its own).
 * Writing the counter at each create cost a page in every commit (0.5 ms
 * of a 10 ms create from the CLI, measured); it is written once a create
 * stepped over LOCAL_FLOOR_EVERY taken numbers, which bounds the walk.
 * Taken numbers are also what a restored backup meets: HQ sends back the
 * customers made since, with their numbers, and those are skipped. */
static int next_local_number(struct store *st, char *out, size_t n, struct pa_err *e)
{
	sqlite3_stmt *s = NULL;
	char v[32], top[64];
	long long base = 0, seq;
	int rc = 0, step, cmp;

	if ((rc = store_meta_get(st, "local_seq", v, sizeof(v), e)))
		return rc;
	if (v[0])
		base = strtoll(v, NULL, 10);
	seq = base + 1;
	snprintf(out, n, "%s-%06lld", st->reg, seq);
	if (seq <= 999999) {
		if (!(s = store_stmt(st, "SELECT local_number FROM customer WHERE local_number >= ?1 AND local_number <= ?2"
		                         " ORDER BY local_number", e)))
			return e->status;
		snprintf(top, sizeof(top), "%s-999999", st->reg);
		sqlite3_bind_text(s, 1, out, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 2, top, -1, SQLITE_TRANSIENT);
		while ((step = sqlite3_step(s)) == SQLITE_ROW) {
			cmp = strcmp(store_col_text(s, 0), out);
			if (cmp > 0)
				break; /* out is free */
			if (cmp == 0)
				snprintf(out, n, "%s-%06lld", st->reg, ++seq);
		}
		rc = step == SQLITE_ROW || step == SQLITE_DONE ? 0 : store_fail(st, e, "take a local number");
		store_release(st, s);
		s = NULL;
	}
	if (!rc && seq > 999999) { /* seven digits and more: one lookup each */
		if (!(s = store_stmt(st, "SELECT 1 FROM customer WHERE local_number = ?1", e)))
			return e->status;
		seq--;
		do {
			seq++;
			snprintf(out, n, "%s-%06lld", st->reg, seq);
			sqlite3_reset(s);
			sqlite3_bind_text(s, 1, out, -1, SQLITE_TRANSIENT);
		} while ((step = sqlite3_step(s)) == SQLITE_ROW);
		rc = step == SQLITE_DONE ? 0 : store_fail(st, e, "take a local number");
		store_release(st, s);
	}
	if (rc || seq - base <= LOCAL_FLOOR_EVERY)
		return rc;
	snprintf(v, sizeof(v), "%lld", seq);
	return store_meta_set(st, "local_seq", v, e);
}

int cust_create(struct store *st, const cJSON *rec, bool from_json, cJSON **out, bool *created,
                struct pa_err *e)
{
	struct val_err ve;
	sqlite3_stmt *s = NULL, *ins = NULL;
	cJSON *doc = NULL, *work = NULL;
	char async_id[UUID_LEN + 1], local[64], now[21];
	const char *given_id = str(rec, "async_id"), *given_at = str(rec, "created_at");
	int64_t id = 0;
	int rc = 0;
	bool intx = false;

	*out = NULL;
	*created = false;
	if (!cJSON_IsObject(rec))
		return err_set(e, EX_DATAERR, "invalid_record", NULL, "a customer must be a JSON object");
	if (cJSON_GetObjectItemCaseSensitive(rec, "local_number") &&
	    !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(rec, "local_number")))
		return err_set(e, EX_DATAERR, "invalid_record", "local_number",
		               "local_number: the register assigns it; leave it out");
	if (!from_json && cJSON_GetObjectItemCaseSensitive(rec, "async_id"))
		return err_set(e, EX_DATAERR, "invalid_record", "async_id", "async_id: only --from-json may give one");
	work = cJSON_Duplicate(rec, 1);
	if (!cJSON_GetObjectItemCaseSensitive(work, "kind"))
		cJSON_AddStringToObject(work, "kind", "person");
	if (val_customer(work, &ve) != 0) {
		rc = val_fail(e, &ve);
		goto cleanup;
	}
	if ((rc = store_begin(st, true, e)))
		goto cleanup;
	intx = true;
	if (given_id) {
		int64_t have = 0;
		bool same = false;
		s = store_prepare(st, "SELECT id FROM customer WHERE async_id = ?1", e);
		if (!s) {
			rc = e->status;
			goto cleanup;
		}
		sqlite3_bind_text(s, 1, given_id, -1, SQLITE_STATIC);
		switch (store_step(st, s, "find customer", e)) {
		case 1: have = sqlite3_column_int64(s, 0); break;
		case -1: rc = e->status; goto cleanup;
		}
		sqlite3_finalize(s);
		s = NULL;
		if (have) {
			if ((rc = same_fields(st, have, work, &same, e)))
				goto cleanup;
			if (!same) {
				rc = err_set(e, EX_DATAERR, "async_id_reused", "async_id",
				             "async_id %s is already used by a different customer record", given_id);
				goto cleanup;
			}
			store_rollback(st);
			intx = false;
			rc = cust_get(st, have, &doc, e);
			if (!rc)
				cJSON_AddArrayToObject(doc, "possible_duplicates");
			goto cleanup;
		}
		util_copy(async_id, sizeof(async_id), given_id);
	} else if (util_uuid(async_id) != 0) {
		rc = err_set(e, EX_OSERR, "no_randomness", NULL, "cannot make an id: no randomness from the kernel");
		goto cleanup;
	}
	if ((rc = next_local_number(st, local, sizeof(local), e)))
		goto cleanup;
	util_rfc3339(time(NULL), now);
	/* Kept prepared (its triggers make it the costliest to prepare). It
	 * returns the stored row, so the document needs no second read. */
	ins = store_stmt(st,
		"INSERT INTO customer(async_id, local_number, kind, first_name, last_name, organization_name,"
		" email, phone, language, attributes, search_name, phone_digits, origin, state, created_at,"
		" waiting_since, updated_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'local', 'pending', ?13,"
		" unixepoch(), unixepoch()) RETURNING " CUST_COLS, e);
	if (!ins) {
		rc = e->status;
		goto cleanup;
	}
	sqlite3_bind_text(ins, 1, async_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 2, local, -1, SQLITE_STATIC);
	bind_fields(ins, work);
	sqlite3_bind_text(ins, 13, given_at ? given_at : now, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(ins) != SQLITE_ROW) {
		rc = store_fail(st, e, "store customer");
		goto cleanup;
	}
	id = sqlite3_column_int64(ins, 0);
	/* The document as cust_get would read it: a new customer has no
	 * update and no address yet. */
	doc = cust_doc(ins);
	upd_decorate_none(doc);
	cJSON_AddArrayToObject(doc, "addresses");
	if (sqlite3_step(ins) != SQLITE_DONE) {
		rc = store_fail(st, e, "store customer");
		goto cleanup;
	}
	/* The possible duplicates are read inside the transaction (no second
	 * one to open); all is returned only once the commit succeeded. */
	if ((rc = find_duplicates(st, id, work, cJSON_AddArrayToObject(doc, "possible_duplicates"), e)) ||
	    (rc = store_commit(st, e)))
		goto cleanup;
	intx = false;
	*created = true;
cleanup:
	store_release(st, ins);
	sqlite3_finalize(s);
	if (intx)
		store_rollback(st);
	cJSON_Delete(work);
	if (rc) {
		cJSON_Delete(doc);
		doc = NULL;
	}
	*out = doc;
	return rc;
}

/* Applies changes onto rec: a null or "" clears, anything else replaces;
 * attributes merge key by key ("" or null removes a key). */
static void apply_changes(cJSON *rec, const cJSON *changes)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, changes) {
		if (strcmp(it->string, "attributes") == 0 && cJSON_IsObject(it)) {
			cJSON *attrs = cJSON_GetObjectItemCaseSensitive(rec, "attributes");
			const cJSON *kv;
			if (!cJSON_IsObject(attrs)) {
				cJSON_DeleteItemFromObjectCaseSensitive(rec, "attributes");
				attrs = cJSON_AddObjectToObject(rec, "attributes");
			}
			cJSON_ArrayForEach(kv, it) {
				cJSON_DeleteItemFromObjectCaseSensitive(attrs, kv->string);
				if (!cJSON_IsNull(kv) && !(cJSON_IsString(kv) && kv->valuestring[0] == '\0'))
					cJSON_AddItemToObject(attrs, kv->string, cJSON_Duplicate(kv, 1));
			}
			continue;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(rec, it->string);
		if (!cJSON_IsNull(it) && !(cJSON_IsString(it) && it->valuestring[0] == '\0'))
			cJSON_AddItemToObject(rec, it->string, cJSON_Duplicate(it, 1));
	}
}

/* Writes the customer fields of rec to row id; its state is record.c's
 * (rec_corrected for a correction of the record itself). */
static int write_cust(struct store *st, int64_t id, const cJSON *rec, struct pa_err *e)
{
	sqlite3_stmt *s = store_prepare(st,
		"UPDATE customer SET kind = ?3, first_name = ?4, last_name = ?5, organization_name = ?6,"
		" email = ?7, phone = ?8, language = ?9, attributes = ?10, search_name = ?11, phone_digits = ?12,"
		" updated_at = unixepoch() WHERE id = ?1", e);
	int rc = 0;

	if (!s)
		return e->status;
	sqlite3_bind_int64(s, 1, id);
	bind_fields(s, rec);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = store_fail(st, e, "update customer");
	sqlite3_finalize(s);
	return rc;
}

/* Reads state and batch of customer id. */
static int cust_state(struct store *st, int64_t id, char *state, size_t n, int64_t *batch, struct pa_err *e)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT state, batch_id FROM customer WHERE id = ?1", e);
	int rc = 0;

	state[0] = '\0';
	*batch = 0;
	if (!s)
		return e->status;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		util_copy(state, n, store_col_text(s, 0));
		*batch = sqlite3_column_int64(s, 1);
	} else {
		rc = store_fail(st, e, "read customer");
	}
	sqlite3_finalize(s);
	return rc;
}

int cust_edit(struct store *st, const char *ref, const cJSON *changes, cJSON **out, struct pa_err *e)
{
	struct val_err ve;
	cJSON *rec = NULL, *before = NULL;
	char state[16] = "";
	int64_t id = 0, batch = 0;
	bool in_place = false, queued = false;
	int rc;

	*out = NULL;
	if ((rc = store_begin(st, true, e)))
		return rc;
	if ((rc = cust_resolve(st, ref, &id, e)) || (rc = cust_state(st, id, state, sizeof(state), &batch, e)) ||
	    (rc = upd_in_place(st, UPD_CUSTOMER, id, state, batch, &in_place, e)) ||
	    (rc = cust_record(st, id, &rec, e)))
		goto cleanup;
	if (!in_place && cJSON_GetObjectItemCaseSensitive(changes, "kind")) {
		rc = err_set(e, EX_DATAERR, "invalid_record", "kind",
		             "kind: cannot change once HQ holds the customer (state %s)", state);
		goto cleanup;
	}
	before = cJSON_Duplicate(rec, 1);
	apply_changes(rec, changes);
	if (val_customer(rec, &ve) != 0) {
		rc = val_fail(e, &ve);
		goto cleanup;
	}
	if (in_place && !(rc = write_cust(st, id, rec, e)))
		rc = rec_corrected(st, REC_CUSTOMER, id, e);
	else if (!in_place && !(rc = upd_queue(st, UPD_CUSTOMER, id, id, before, rec, &queued, e)) && queued)
		rc = write_cust(st, id, rec, e);
	/* Corrected in place: HQ does not hold it, so its create carries every
	 * edit and no update of it goes up (folded). */
	if (!rc && in_place)
		rc = upd_fold(st, UPD_CUSTOMER, id, e);
	if (rc || (rc = store_commit(st, e)))
		goto cleanup;
	rc = cust_get(st, id, out, e);
cleanup:
	store_rollback(st);
	cJSON_Delete(rec);
	cJSON_Delete(before);
	return rc;
}

int cust_discard_update(struct store *st, const char *ref, cJSON **out, struct pa_err *e)
{
	cJSON *restored = NULL;
	int64_t id = 0;
	int rc;

	*out = NULL;
	if ((rc = store_begin(st, true, e)))
		return rc;
	if ((rc = cust_resolve(st, ref, &id, e)) || (rc = upd_discard(st, UPD_CUSTOMER, id, &restored, e)) ||
	    (rc = write_cust(st, id, restored, e)) || (rc = store_commit(st, e)))
		goto cleanup;
	rc = cust_get(st, id, out, e);
cleanup:
	store_rollback(st);
	cJSON_Delete(restored);
	return rc;
}

int cust_overlay(struct store *st, int64_t id, struct pa_err *e)
{
	cJSON *hq = NULL, *show = NULL;
	int rc;

	if ((rc = cust_record(st, id, &hq, e)) || (rc = upd_overlay(st, UPD_CUSTOMER, id, hq, &show, e)))
		goto cleanup;
	if (show)
		rc = write_cust(st, id, show, e);
cleanup:
	cJSON_Delete(hq);
	cJSON_Delete(show);
	return rc;
}

/* Runs a customer query (CUST_COLS, ?1 bound by the caller's binder) and
 * collects documents with addresses into an array. */
static int collect(struct store *st, sqlite3_stmt *s, cJSON **out, struct pa_err *e)
{
	cJSON *arr = cJSON_CreateArray();
	int step, rc = 0;

	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		cJSON *doc = cust_doc(s);
		cJSON_AddItemToArray(arr, doc);
		if ((rc = upd_decorate(st, UPD_CUSTOMER, sqlite3_column_int64(s, 0), doc, e)) ||
		    (rc = add_addresses(st, sqlite3_column_int64(s, 0), doc, e)))
			break;
	}
	if (!rc && step != SQLITE_DONE)
		rc = store_fail(st, e, "read customers");
	if (rc) {
		cJSON_Delete(arr);
		arr = NULL;
	}
	*out = arr;
	return rc;
}

int cust_list(struct store *st, const char *state, int limit, cJSON **out, struct pa_err *e)
{
	sqlite3_stmt *s = NULL;
	int rc;

	*out = NULL;
	/* one read transaction: every row from one snapshot, and one lock and
	 * page-cache check for the whole list instead of one per statement */
	if ((rc = store_begin(st, false, e)))
		return rc;
	if (!(s = store_prepare(st, "SELECT " CUST_COLS " FROM customer"
	                            " WHERE ?1 IS NULL OR state = ?1 ORDER BY id DESC LIMIT ?2", e))) {
		rc = e->status;
		goto cleanup;
	}
	store_bind_text(s, 1, state);
	sqlite3_bind_int(s, 2, limit);
	rc = collect(st, s, out, e);
cleanup:
	sqlite3_finalize(s);
	store_rollback(st);
	return rc;
}

int cust_search(struct store *st, const char *text, int limit, cJSON **out, struct pa_err *e)
{
	int rc;

	*out = NULL;
	if ((rc = store_begin(st, false, e))) /* one snapshot, as cust_list */
		return rc;
	rc = search_customers(st, text, limit, out, e);
	store_rollback(st);
	return rc;
}

/* Binds the address fields of rec to s at ?3..?10: purpose, primary,
 * line1, line2, city, region, postal_code, country. */
static void bind_addr(sqlite3_stmt *s, const cJSON *rec)
{
	const cJSON *prim = cJSON_GetObjectItemCaseSensitive(rec, "primary");

	store_bind_text(s, 3, str(rec, "purpose"));
	sqlite3_bind_int(s, 4, cJSON_IsTrue(prim));
	for (size_t i = 1; i < N_ADDR_FIELDS; i++)
		store_bind_text(s, 4 + (int)i, str(rec, addr_fields[i]));
}

/* The address document of row id. */
static int addr_get(struct store *st, int64_t id, cJSON **out, struct pa_err *e)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT " ADDR_COLS " FROM address a JOIN customer c"
	                                    " ON c.id = a.customer_id WHERE a.id = ?1", e);
	int rc = 0, step;

	*out = NULL;
	if (!s)
		return e->status;
	sqlite3_bind_int64(s, 1, id);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		*out = addr_doc(s);
		if ((rc = upd_decorate(st, UPD_ADDRESS, id, *out, e))) {
			cJSON_Delete(*out);
			*out = NULL;
		}
	} else if (step == SQLITE_DONE)
		rc = err_set(e, EX_DATAERR, "unknown_address", "address", "no such address");
	else /* a failed read is no "not found" (it was 65; an I/O error is 74) */
		rc = store_fail(st, e, "read address");
	sqlite3_finalize(s);
	return rc;
}

/* When address id is primary, the customer's other addresses of its
 * purpose stop being primary (HQ demotes them itself: never sent). */
static int demote(struct store *st, int64_t id, struct pa_err *e)
{
	return store_exec_ii(st, "UPDATE address SET is_primary = 0 WHERE is_primary = 1 AND id <> ?1"
	                         " AND customer_id = (SELECT customer_id FROM address WHERE id = ?1 AND is_primary = 1)"
	                         " AND purpose IS (SELECT purpose FROM address WHERE id = ?1)", id, 0, e);
}

/* Validates an address record (customer member not needed). */
static int check_addr(const cJSON *rec, struct pa_err *e)
{
	struct val_err ve;

	if (val_address(rec, false, &ve) != 0)
		return val_fail(e, &ve);
	return 0;
}

int addr_add(struct store *st, const char *ref, const cJSON *fields, cJSON **out, struct pa_err *e)
{
	sqlite3_stmt *s = NULL;
	char async_id[UUID_LEN + 1], now[21];
	int64_t cid = 0, id = 0;
	int rc;

	*out = NULL;
	if ((rc = check_addr(fields, e)))
		return rc;
	if (util_uuid(async_id) != 0)
		return err_set(e, EX_OSERR, "no_randomness", NULL, "cannot make an id: no randomness from the kernel");
	if ((rc = store_begin(st, true, e)))
		return rc;
	if ((rc = cust_resolve(st, ref, &cid, e)))
		goto cleanup;
	util_rfc3339(time(NULL), now);
	s = store_prepare(st,
		"INSERT INTO address(async_id, customer_id, purpose, is_primary, line1, line2, city, region,"
		" postal_code, country, origin, state, created_at, waiting_since, updated_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'local', 'pending', ?11, unixepoch(), unixepoch())", e);
	if (!s) {
		rc = e->status;
		goto cleanup;
	}
	sqlite3_bind_text(s, 1, async_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, cid);
	bind_addr(s, fields);
	sqlite3_bind_text(s, 11, now, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE) {
		rc = store_fail(st, e, "store address");
		goto cleanup;
	}
	id = sqlite3_last_insert_rowid(st->db);
	if ((rc = demote(st, id, e)) || (rc = search_index_address(st, id, e)) || (rc = store_commit(st, e)))
		goto cleanup;
	rc = addr_get(st, id, out, e);
cleanup:
	sqlite3_finalize(s);
	store_rollback(st);
	return rc;
}

/* The fields of address row id as an HQ-API address record (no ids, no
 * customer): purpose, primary, line1, line2, city, region, postal_code,
 * country; null fields left out. */
static int addr_record(struct store *st, int64_t id, cJSON **out, struct pa_err *e)
{
	static const char *const keep[] = {"purpose", "primary", "line1", "line2", "city", "region",
	                                   "postal_code", "country"};
	cJSON *doc = NULL, *rec;
	int rc;

	*out = NULL;
	if ((rc = addr_get(st, id, &doc, e)))
		return rc;
	rec = cJSON_CreateObject();
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, keep[i]);
		if (v && !cJSON_IsNull(v))
			cJSON_AddItemToObject(rec, keep[i], cJSON_Duplicate(v, 1));
	}
	cJSON_Delete(doc);
	*out = rec;
	return 0;
}

/* Writes the address fields of rec to row id (its state is record.c's).
 * An address that is primary demotes the customer's other primary address
 * of its purpose, here only: a demotion never travels. */
static int write_addr(struct store *st, int64_t id, const cJSON *rec, struct pa_err *e)
{
	sqlite3_stmt *s = store_prepare(st,
		"UPDATE address SET purpose = ?3, is_primary = ?4, line1 = ?5, line2 = ?6, city = ?7, region = ?8,"
		" postal_code = ?9, country = ?10, updated_at = unixepoch() WHERE id = ?1", e);
	int rc = 0;

	if (!s)
		return e->status;
	sqlite3_bind_int64(s, 1, id);
	bind_addr(s, rec);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = store_fail(st, e, "update address");
	sqlite3_finalize(s);
	if (!rc)
		rc = search_index_address(st, id, e);
	return rc ? rc : demote(st, id, e);
}

/* Finds address ADDRESS ref (its async id or HQ's address id): row,
 * customer, state, batch. */
static int addr_find(struct store *st, const char *ref, int64_t *id, int64_t *cid, char *state, size_t n,
                     int64_t *batch, struct pa_err *e)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT id, customer_id, state, batch_id FROM address"
	                                    " WHERE async_id = ?1 OR address_id = ?1", e);
	int rc = 0, step;

	*id = 0;
	if (!s)
		return e->status;
	sqlite3_bind_text(s, 1, ref, -1, SQLITE_STATIC);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		*cid = sqlite3_column_int64(s, 1);
		util_copy(state, n, store_col_text(s, 2));
		*batch = sqlite3_column_int64(s, 3);
	} else if (step == SQLITE_DONE) {
		rc = err_set(e, EX_DATAERR, "unknown_address", "address",
		             "no address here has the async id or address id \"%.80s\"", ref);
	} else {
		rc = store_fail(st, e, "find address");
	}
	sqlite3_finalize(s);
	return rc;
}

int addr_edit(struct store *st, const char *ref, const cJSON *changes, cJSON **out, struct pa_err *e)
{
	cJSON *rec = NULL, *before = NULL;
	char state[16] = "";
	int64_t id = 0, cid = 0, batch = 0;
	bool in_place = false, queued = false;
	int rc;

	*out = NULL;
	if ((rc = store_begin(st, true, e)))
		return rc;
	if ((rc = addr_find(st, ref, &id, &cid, state, sizeof(state), &batch, e)) ||
	    (rc = upd_in_place(st, UPD_ADDRESS, id, state, batch, &in_place, e)) ||
	    (rc = addr_record(st, id, &rec, e)))
		goto cleanup;
	before = cJSON_Duplicate(rec, 1);
	apply_changes(rec, changes);
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "primary"))) {
		cJSON_DeleteItemFromObjectCaseSensitive(rec, "primary");
		cJSON_AddFalseToObject(rec, "primary");
	}
	if ((rc = check_addr(rec, e)))
		goto cleanup;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "primary")) &&
	    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(rec, "purpose"))) {
		rc = err_set(e, EX_DATAERR, "invalid_address", "primary", "primary: a primary address needs a purpose");
		goto cleanup;
	}
	if (in_place && !(rc = write_addr(st, id, rec, e)))
		rc = rec_corrected(st, REC_ADDRESS, id, e);
	else if (!in_place && !(rc = upd_queue(st, UPD_ADDRESS, id, cid, before, rec, &queued, e)) && queued)
		rc = write_addr(st, id, rec, e);
	if (!rc && in_place)
		rc = upd_fold(st, UPD_ADDRESS, id, e);
	if (rc || (rc = store_commit(st, e)))
		goto cleanup;
	rc = addr_get(st, id, out, e);
cleanup:
	store_rollback(st);
	cJSON_Delete(rec);
	cJSON_Delete(before);
	return rc;
}

int addr_discard_update(struct store *st, const char *ref, cJSON **out, struct pa_err *e)
{
	cJSON *restored = NULL;
	char state[16];
	int64_t id = 0, cid = 0, batch = 0;
	int rc;

	*out = NULL;
	if ((rc = store_begin(st, true, e)))
		return rc;
	if ((rc = addr_find(st, ref, &id, &cid, state, sizeof(state), &batch, e)) ||
	    (rc = upd_discard(st, UPD_ADDRESS, id, &restored, e)) || (rc = write_addr(st, id, restored, e)) ||
	    (rc = store_commit(st, e)))
		goto cleanup;
	rc = addr_get(st, id, out, e);
cleanup:
	store_rollback(st);
	cJSON_Delete(restored);
	return rc;
}

int addr_overlay(struct store *st, int64_t id, struct pa_err *e)
{
	cJSON *hq = NULL, *show = NULL;
	int rc;

	if ((rc = addr_record(st, id, &hq, e)) || (rc = upd_overlay(st, UPD_ADDRESS, id, hq, &show, e)))
		goto cleanup;
	if (show)
		rc = write_addr(st, id, show, e);
cleanup:
	cJSON_Delete(hq);
	cJSON_Delete(show);
	return rc;
}
