#include "common/download.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/customer.h"
#include "common/log.h"
#include "common/record.h"
#include "common/search.h"
#include "common/update.h"
#include "common/util.h"
#include "common/validate.h"

#define CURSOR_MAX 512

/* Text of a string member or NULL (HQ's data is taken as it comes, but
 * only strings are stored as text). */
static const char *str(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* account_assigned: the customer made here (or at another register and
 * already cached) becomes synced. Unknown async ids are ignored. */
static int assign(struct store *st, const cJSON *ch, struct down_outcome *o, struct pa_err *e)
{
	const char *async_id = str(ch, "async_id");
	bool changed = false;
	int rc = rec_assign_customer(st, async_id, str(ch, "account"), &changed, e);

	if (!rc && changed) {
		o->assigned++;
		log_info("customer %s is synced", async_id);
	}
	return rc;
}

/* address_assigned: the address made here becomes synced with HQ's id.
 * Unknown async ids are ignored (another register's address). */
static int assign_address(struct store *st, const cJSON *ch, struct down_outcome *o, struct pa_err *e)
{
	const char *async_id = str(ch, "async_id");
	bool changed = false;
	int rc = rec_assign_address(st, async_id, str(ch, "address_id"), &changed, e);

	if (!rc && changed) {
		o->assigned++;
		log_info("address %s is synced", async_id);
	}
	return rc;
}

/* Upserts one address HQ lists for customer id: by async_id when the
 * register holds it (then synced with HQ's address_id), else by
 * address_id (a cached address of HQ's, synced). HQ's fields win, except
 * on an address inside a batch (what it carries is already frozen). */
static int address_one(struct store *st, int64_t id, const cJSON *a, struct pa_err *e)
{
	static const char *const f[] = {"line1", "line2", "city", "region", "postal_code", "country"};
	sqlite3_stmt *s = store_stmt(st,
		"INSERT INTO address(async_id, address_id, customer_id, origin, state, purpose, is_primary, line1, line2,"
		" city, region, postal_code, country, created_at, updated_at)"
		" VALUES (?1, ?12, ?2, 'hq', 'synced', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, unixepoch())"
		" ON CONFLICT DO UPDATE SET customer_id = excluded.customer_id, purpose = excluded.purpose,"
		" is_primary = excluded.is_primary, line1 = excluded.line1, line2 = excluded.line2, city = excluded.city,"
		" region = excluded.region, postal_code = excluded.postal_code, country = excluded.country, removed = 0,"
		" updated_at = unixepoch() WHERE address.batch_id IS NULL RETURNING id", e);
	const char *async_id = str(a, "async_id"), *address_id = str(a, "address_id");
	char now[21];
	bool changed = false;
	int64_t row = 0;
	int rc = 0, step;

	if (!s)
		return e->status;
	util_rfc3339(time(NULL), now);
	store_bind_text(s, 1, async_id);
	sqlite3_bind_int64(s, 2, id);
	store_bind_text(s, 3, str(a, "purpose"));
	sqlite3_bind_int(s, 4, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "primary")));
	for (int i = 0; i < 6; i++)
		store_bind_text(s, 5 + i, str(a, f[i]));
	sqlite3_bind_text(s, 11, now, -1, SQLITE_TRANSIENT);
	store_bind_text(s, 12, address_id);
	if ((step = sqlite3_step(s)) == SQLITE_ROW) { /* written (not held by a batch) */
		row = sqlite3_column_int64(s, 0);
		step = sqlite3_step(s);
	}
	if (step != SQLITE_DONE)
		rc = store_fail(st, e, "apply address");
	store_release(st, s);
	if (!rc && row) /* HQ's text folded for search, as an address made here */
		rc = search_index_address(st, row, e);
	if (!rc && async_id && address_id)
		rc = rec_assign_address(st, async_id, address_id, &changed, e);
	return rc;
}

/* The addresses HQ sent for customer id: each upserted (address_one);
 * those HQ held and no longer lists are removed (kept, hidden, while a
 * sale names them); addresses made here and not yet accepted stay. */
static int addresses(struct store *st, int64_t id, const cJSON *list, struct pa_err *e)
{
	const cJSON *a;
	int rc;

	if ((rc = store_exec_ii(st, "UPDATE address SET removed = 2 WHERE customer_id = ?1"
	                            " AND (origin = 'hq' OR state = 'synced')", id, 0, e)))
		return rc;
	cJSON_ArrayForEach(a, list) {
		if (cJSON_IsObject(a) && (rc = address_one(st, id, a, e)))
			return rc;
	}
	if ((rc = store_exec_ii(st, "DELETE FROM address WHERE customer_id = ?1 AND removed = 2 AND origin = 'hq'"
	                            " AND NOT EXISTS (SELECT 1 FROM txn WHERE delivery_address_id = address.id"
	                            " OR invoice_address_id = address.id) AND NOT EXISTS (SELECT 1 FROM record_update u"
	                            " WHERE u.kind = 'address_update' AND u.row = address.id)", id, 0, e)))
		return rc;
	return store_exec_ii(st, "UPDATE address SET removed = 1 WHERE customer_id = ?1 AND removed = 2", id, 0, e);
}

/* HQ's version member of a change, or -1 when it has none. */
static int64_t version_of(const cJSON *ch)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(ch, "version");

	return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 9e15 ? (int64_t)v->valuedouble : -1;
}

/* Issue 12's merge rule, after HQ's record of customer id (version, -1
 * none) was stored: accepted updates of that version or older are done;
 * the register's living updates stay on top of HQ's fields, the
 * customer's and those of each address the change lists. */
static int keep_edits(struct store *st, int64_t id, int64_t version, const cJSON *list, struct pa_err *e)
{
	sqlite3_stmt *s = NULL;
	const cJSON *a;
	int rc, step;

	if (version >= 0 &&
	    ((rc = store_exec_ii(st, "UPDATE customer SET version = ?2 WHERE id = ?1", id, version, e)) ||
	     (rc = upd_settle(st, id, version, e))))
		return rc;
	if ((rc = cust_overlay(st, id, e)))
		return rc;
	s = store_prepare(st, "SELECT id FROM address WHERE (async_id = ?1 OR (?1 IS NULL AND address_id = ?3))"
	                      " AND customer_id = ?2 AND batch_id IS NULL AND EXISTS"
	                      " (SELECT 1 FROM record_base b WHERE b.kind = 'address_update' AND b.row = address.id)", e);
	if (!s)
		return e->status;
	cJSON_ArrayForEach(a, list) {
		int64_t row = 0;
		if (!str(a, "async_id") && !str(a, "address_id"))
			continue;
		sqlite3_reset(s);
		store_bind_text(s, 1, str(a, "async_id"));
		sqlite3_bind_int64(s, 2, id);
		store_bind_text(s, 3, str(a, "address_id"));
		step = sqlite3_step(s);
		if (step == SQLITE_ROW)
			row = sqlite3_column_int64(s, 0);
		else if (step != SQLITE_DONE) { /* a failed read is not "no such address" */
			rc = store_fail(st, e, "read address");
			break;
		}
		if (row && (rc = addr_overlay(st, row, e)))
			break;
	}
	sqlite3_finalize(s);
	return rc;
}

/* The version HQ's record of customer id had when last applied here, or
 * -1. */
static int held_version(struct store *st, int64_t id, int64_t *v, struct pa_err *e)
{
	return store_query_i(st, "SELECT version FROM customer WHERE id = ?1", id, 0, -1, v, e);
}

/* The id of the customer whose column (sql's ?1) is value into *id, 0
 * when none. Returns 0 or a status. */
static int row_by(struct store *st, const char *sql, const char *value, int64_t *id, struct pa_err *e)
{
	sqlite3_stmt *s = store_prepare(st, sql, e);
	int step;

	*id = 0;
	if (!s)
		return e->status;
	sqlite3_bind_text(s, 1, value, -1, SQLITE_STATIC);
	if ((step = store_step(st, s, "find customer", e)) == 1)
		*id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return step < 0 ? e->status : 0;
}

/* The row of HQ's customer with async_id (may be NULL) or account into
 * *id (0: none here). Two rows for one customer (cached by account, made
 * by async id) are folded into the one made here first. Returns 0 or a
 * status. */
static int find_row(struct store *st, const char *async_id, const char *account, int64_t *id, struct pa_err *e)
{
	int64_t by_async = 0, by_account = 0;
	int rc;

	if ((async_id && (rc = row_by(st, "SELECT id FROM customer WHERE async_id = ?1", async_id, &by_async, e))) ||
	    (rc = row_by(st, "SELECT id FROM customer WHERE account = ?1", account, &by_account, e)))
		return rc;
	if (by_async && by_account && (rc = rec_fold_customer(st, by_account, by_async, e)))
		return rc;
	*id = by_async ? by_async : by_account;
	return 0;
}

/* customer: upsert by async_id when present, else by account; HQ wins,
 * except that a change older than the version held is ignored and the
 * register's own edits not yet applied at HQ stay on top (keep_edits). */
static int upsert(struct store *st, const cJSON *ch, struct pa_err *e)
{
	const cJSON *cu = cJSON_GetObjectItemCaseSensitive(ch, "customer");
	const char *account = str(ch, "account");
	const char *async_id = str(cu, "async_id");
	const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(cu, "attributes");
	char *atext = NULL, sname[400] = "", digits[40] = "", now[21];
	sqlite3_stmt *s = NULL;
	int64_t id = 0;
	int rc = 0;

	if (!cJSON_IsObject(cu) || !account)
		return 0;
	if ((rc = find_row(st, async_id, account, &id, e)))
		return rc;
	if (id && version_of(ch) >= 0) {
		int64_t held = -1;
		if ((rc = held_version(st, id, &held, e)))
			return rc;
		if (held > version_of(ch))
			return 0; /* older than what this register holds */
	}
	atext = cJSON_IsObject(attrs) ? cJSON_PrintUnformatted(attrs) : NULL;
	cust_search_name(cu, sname, sizeof(sname));
	if (str(cu, "phone"))
		val_phone_digits(str(cu, "phone"), digits, sizeof(digits));
	util_rfc3339(time(NULL), now);
	if (id)
		s = store_prepare(st,
			"UPDATE customer SET kind = coalesce(?3, kind),"
			" first_name = ?4, last_name = ?5, organization_name = ?6, email = ?7, phone = ?8, language = ?9,"
			" attributes = ?10, search_name = ?11, phone_digits = ?12, updated_at = unixepoch(),"
			" async_id = coalesce(async_id, ?13), local_number = coalesce(local_number,"
			" CASE WHEN EXISTS (SELECT 1 FROM customer WHERE local_number = ?14) THEN NULL ELSE ?14 END)"
			" WHERE id = ?1", e);
	else
		s = store_prepare(st,
			"INSERT INTO customer(id, account, state, kind, first_name, last_name, organization_name, email,"
			" phone, language, attributes, search_name, phone_digits, async_id, local_number, origin,"
			" created_at, updated_at) VALUES (NULL, ?2, 'synced', coalesce(?3, 'person'), ?4, ?5, ?6, ?7, ?8,"
			" ?9, ?10, ?11, ?12, ?13,"
			" CASE WHEN EXISTS (SELECT 1 FROM customer WHERE local_number = ?14) THEN NULL ELSE ?14 END,"
			" 'hq', ?15, unixepoch())", e);
	if (!s) {
		rc = e->status;
		goto cleanup;
	}
	if (id)
		sqlite3_bind_int64(s, 1, id);
	else
		sqlite3_bind_text(s, 2, account, -1, SQLITE_STATIC);
	store_bind_text(s, 3, str(cu, "kind"));
	store_bind_text(s, 4, str(cu, "first_name"));
	store_bind_text(s, 5, str(cu, "last_name"));
	store_bind_text(s, 6, str(cu, "organization_name"));
	store_bind_text(s, 7, str(cu, "email"));
	store_bind_text(s, 8, str(cu, "phone"));
	store_bind_text(s, 9, str(cu, "language"));
	sqlite3_bind_text(s, 10, atext ? atext : "{}", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 11, sname, -1, SQLITE_STATIC);
	store_bind_text(s, 12, digits[0] ? digits : NULL);
	store_bind_text(s, 13, async_id);
	store_bind_text(s, 14, str(cu, "local_number"));
	if (!id)
		sqlite3_bind_text(s, 15, str(cu, "created_at") ? str(cu, "created_at") : now, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(s) != SQLITE_DONE) {
		rc = store_fail(st, e, "apply customer");
		goto cleanup;
	}
	if (!id)
		id = sqlite3_last_insert_rowid(st->db);
	else if ((rc = rec_customer_synced(st, id, account, e)))
		goto cleanup;
	if (!(rc = addresses(st, id, cJSON_GetObjectItemCaseSensitive(ch, "addresses"), e)))
		rc = keep_edits(st, id, version_of(ch), cJSON_GetObjectItemCaseSensitive(ch, "addresses"), e);
cleanup:
	sqlite3_finalize(s);
	free(atext);
	return rc;
}

int down_apply(struct store *st, const char *after, const cJSON *doc, struct down_outcome *o, struct pa_err *e)
{
	const cJSON *changes = cJSON_GetObjectItemCaseSensitive(doc, "changes"), *ch;
	const char *next = str(doc, "next");
	char cur[CURSOR_MAX + 1], now[21];
	int rc;

	if (!cJSON_IsArray(changes) || !next || strlen(next) > CURSOR_MAX) {
		snprintf(o->error, sizeof(o->error), "HQ's changes reply is not readable");
		return 0;
	}
	o->ok = true;
	o->more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "more"));
	if ((rc = store_begin(st, true, e)))
		return rc;
	if ((rc = store_meta_get(st, "cursor", cur, sizeof(cur), e)))
		goto cleanup;
	if (strcmp(cur, after ? after : "") != 0) {
		/* Another process applied this page meanwhile. */
		o->more = true;
		goto cleanup;
	}
	cJSON_ArrayForEach(ch, changes) {
		const char *type = str(ch, "type");
		if (!type)
			continue;
		if (strcmp(type, "account_assigned") == 0)
			rc = assign(st, ch, o, e);
		else if (strcmp(type, "address_assigned") == 0)
			rc = assign_address(st, ch, o, e);
		else if (strcmp(type, "customer") == 0)
			rc = upsert(st, ch, e);
		if (rc)
			goto cleanup;
		o->applied++;
	}
	util_rfc3339(time(NULL), now);
	if ((rc = store_meta_set(st, "cursor", next, e)) || (rc = store_meta_set(st, "last_download", now, e)))
		goto cleanup;
	rc = store_commit(st, e);
cleanup:
	store_rollback(st);
	return rc;
}

/* Percent-encodes s (RFC 3986 unreserved kept) into out. */
static int encode(const char *s, char *out, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t j = 0;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (j + 4 > n)
			return -1;
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || strchr("-._~", ch)) {
			out[j++] = (char)ch;
		} else {
			out[j++] = '%';
			out[j++] = hex[ch >> 4];
			out[j++] = hex[ch & 15];
		}
	}
	out[j] = '\0';
	return 0;
}

int down_page(struct store *st, struct hq_client *hq, const struct cfg *cfg, long wait,
              struct down_outcome *o, struct pa_err *e)
{
	struct hq_response r;
	char cur[CURSOR_MAX + 1], enc[3 * CURSOR_MAX + 1], path[2048];
	cJSON *doc = NULL;
	int rc;

	memset(o, 0, sizeof(*o));
	memset(&r, 0, sizeof(r));
	o->retry_after = -1;
	if ((rc = store_meta_get(st, "cursor", cur, sizeof(cur), e)))
		return rc;
	if (encode(cur, enc, sizeof(enc)))
		return err_set(e, EX_IOERR, "database_corrupt", NULL, "stored cursor is unreadable");
	snprintf(path, sizeof(path), "/v1/stores/%s/changes?%s%s%slimit=500&wait=%ld", cfg->store,
	         cur[0] ? "after=" : "", enc, cur[0] ? "&" : "", wait);
	hq_get(hq, path, wait, 1, &r);
	o->status = r.status;
	o->retry_after = r.retry_after;
	if (r.status != 200) {
		if (r.status == 0)
			snprintf(o->error, sizeof(o->error), "%s", r.error[0] ? r.error : "no reply from HQ");
		else
			snprintf(o->error, sizeof(o->error), "HQ answered %ld to the changes request", r.status);
		goto cleanup;
	}
	doc = cJSON_Parse(r.body ? r.body : "");
	rc = down_apply(st, cur, doc, o, e);
cleanup:
	cJSON_Delete(doc);
	hq_response_free(&r);
	return rc;
}
