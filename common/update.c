#include "common/update.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"

/* The fields an update may carry, per kind (HQ-API.md). */
static const char *const cust_fields[] = {"first_name", "last_name", "organization_name", "email",
                                          "phone", "language", "attributes"};
static const char *const addr_fields[] = {"purpose", "primary", "line1", "line2",
                                          "city", "region", "postal_code", "country"};

const char *upd_kind_name(enum upd_kind k)
{
	return k == UPD_CUSTOMER ? "customer_update" : "address_update";
}

/* The field list of kind k; *n gets its length. */
static const char *const *fields_of(enum upd_kind k, size_t *n)
{
	if (k == UPD_CUSTOMER) {
		*n = sizeof(cust_fields) / sizeof(cust_fields[0]);
		return cust_fields;
	}
	*n = sizeof(addr_fields) / sizeof(addr_fields[0]);
	return addr_fields;
}

int upd_in_place(struct store *st, enum upd_kind k, int64_t row, const char *state, int64_t batch,
                 bool *in_place, struct pa_err *e)
{
	int64_t sent = 0, maybe_sent = 0;
	int rc;

	*in_place = false;
	if (strcmp(state, "rejected") == 0) {
		*in_place = true;
		return 0;
	}
	if (strcmp(state, "pending") != 0)
		return 0;
	if ((rc = store_query_i(st, k == UPD_CUSTOMER ? "SELECT maybe_sent FROM customer WHERE id = ?1"
	                                              : "SELECT maybe_sent FROM address WHERE id = ?1",
	                        row, 0, 0, &maybe_sent, e)))
		return rc;
	if (maybe_sent)
		return 0;
	if (batch != 0) {
		if ((rc = store_query_i(st, "SELECT sent FROM batch WHERE id = ?1", batch, 0, 0, &sent, e)))
			return rc;
		if (sent)
			return 0;
		if ((rc = store_batch_drop(st, batch, e)))
			return rc;
	}
	*in_place = true;
	return 0;
}

/* Runs sql (a constant, no result rows) with ?1 the kind name of k and
 * ?2 row; what names the step in an error. Returns 0 or a status. */
static int exec_kind_row(struct store *st, const char *sql, enum upd_kind k, int64_t row, const char *what,
                         struct pa_err *e)
{
	sqlite3_stmt *s = store_stmt(st, sql, e);
	int rc = 0;

	if (!s)
		return e->status;
	sqlite3_bind_text(s, 1, upd_kind_name(k), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, row);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = store_fail(st, e, what);
	store_release(st, s);
	return rc;
}

/* Drops the base of (k, row) when no update of it remains. */
static int drop_base_if_unused(struct store *st, enum upd_kind k, int64_t row, struct pa_err *e)
{
	return exec_kind_row(st, "DELETE FROM record_base WHERE kind = ?1 AND row = ?2 AND NOT EXISTS"
	                         " (SELECT 1 FROM record_update WHERE kind = ?1 AND row = ?2)",
	                     k, row, "drop base values", e);
}

int upd_fold(struct store *st, enum upd_kind k, int64_t row, struct pa_err *e)
{
	int rc = exec_kind_row(st, "DELETE FROM record_update WHERE kind = ?1 AND row = ?2 AND batch_id IS NULL",
	                       k, row, "fold updates", e);

	return rc ? rc : drop_base_if_unused(st, k, row, e);
}

void upd_apply_fields(cJSON *rec, const cJSON *fields)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, fields) {
		cJSON_DeleteItemFromObjectCaseSensitive(rec, it->string);
		if (!cJSON_IsNull(it))
			cJSON_AddItemToObject(rec, it->string, cJSON_Duplicate(it, 1));
	}
}

/* The fields of after that differ from before, as an update carries them
 * (absent in after: null). */
static cJSON *diff(enum upd_kind k, const cJSON *before, const cJSON *after)
{
	size_t n;
	const char *const *f = fields_of(k, &n);
	cJSON *d = cJSON_CreateObject();

	for (size_t i = 0; i < n; i++) {
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(before, f[i]);
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(after, f[i]);
		bool b_null = !b || cJSON_IsNull(b), a_null = !a || cJSON_IsNull(a);

		if (b_null && a_null)
			continue;
		if (!b_null && !a_null && cJSON_Compare(a, b, 1))
			continue;
		if (strcmp(f[i], "primary") == 0 && cJSON_IsFalse(a) && b_null)
			continue;
		if (strcmp(f[i], "attributes") == 0 && a_null && cJSON_GetArraySize(b) == 0)
			continue;
		cJSON_AddItemToObject(d, f[i], a_null ? cJSON_CreateNull() : cJSON_Duplicate(a, 1));
	}
	return d;
}

/* Stores the base of (k, row) when it has none: its values before the
 * first edit that travels. */
static int keep_base(struct store *st, enum upd_kind k, int64_t row, const cJSON *before, struct pa_err *e)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT INTO record_base(kind, row, fields) VALUES (?1, ?2, ?3)"
	                                    " ON CONFLICT(kind, row) DO NOTHING", e);
	char *text = cJSON_PrintUnformatted(before);
	int rc = 0;

	if (!s || !text) {
		rc = s ? err_set(e, EX_OSERR, "out_of_memory", NULL, "out of memory") : e->status;
		goto cleanup;
	}
	sqlite3_bind_text(s, 1, upd_kind_name(k), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, row);
	sqlite3_bind_text(s, 3, text, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = store_fail(st, e, "keep base values");
cleanup:
	store_release(st, s);
	free(text);
	return rc;
}

/* An update row in no batch: id, update_id, created_at, fields, state. */
struct unsent {
	int64_t id;
	char update_id[UUID_LEN + 1];
	char created_at[40];
	cJSON *fields;
	bool rejected;
};

/* Finds the update of (k, row) in no batch that absorbs a new edit: a
 * rejected one first, else a pending one. u->id is 0 when none. */
static int find_unsent(struct store *st, enum upd_kind k, int64_t row, struct unsent *u, struct pa_err *e)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT id, update_id, created_at, fields, state = 'rejected' FROM record_update"
		" WHERE kind = ?1 AND row = ?2 AND batch_id IS NULL AND state IN ('pending', 'rejected')"
		" ORDER BY state = 'rejected' DESC, id LIMIT 1", e);
	int rc = 0, step;

	memset(u, 0, sizeof(*u));
	if (!s)
		return e->status;
	sqlite3_bind_text(s, 1, upd_kind_name(k), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, row);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		u->id = sqlite3_column_int64(s, 0);
		util_copy(u->update_id, sizeof(u->update_id), store_col_text(s, 1));
		util_copy(u->created_at, sizeof(u->created_at), store_col_text(s, 2));
		u->fields = cJSON_Parse(store_col_text(s, 3) ? store_col_text(s, 3) : "{}");
		u->rejected = sqlite3_column_int(s, 4) != 0;
		if (!cJSON_IsObject(u->fields)) {
			cJSON_Delete(u->fields);
			u->fields = cJSON_CreateObject();
		}
	} else if (step != SQLITE_DONE) {
		rc = store_fail(st, e, "read updates");
	}
	store_release(st, s);
	return rc;
}

/* Removes from fields every field that a newer update of (k, row) than id
 * carries (the newer value wins at HQ and here), and folds into fields the
 * other updates of (k, row) that are in no batch (newer: theirs win),
 * deleting them. */
static int absorb_newer(struct store *st, enum upd_kind k, int64_t row, int64_t id, cJSON *fields,
                        struct pa_err *e)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT id, fields, batch_id IS NULL AND state = 'pending' FROM record_update"
	                                    " WHERE kind = ?1 AND row = ?2 AND id > ?3 ORDER BY id", e);
	int rc = 0, step;

	if (!s)
		return e->status;
	sqlite3_bind_text(s, 1, upd_kind_name(k), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, row);
	sqlite3_bind_int64(s, 3, id);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		cJSON *f = cJSON_Parse(store_col_text(s, 1) ? store_col_text(s, 1) : "{}");
		const cJSON *it;
		bool fold = sqlite3_column_int(s, 2) != 0;

		cJSON_ArrayForEach(it, f) {
			cJSON_DeleteItemFromObjectCaseSensitive(fields, it->string);
			if (fold)
				cJSON_AddItemToObject(fields, it->string, cJSON_Duplicate(it, 1));
		}
		cJSON_Delete(f);
		if (fold && (rc = store_exec_ii(st, "DELETE FROM record_update WHERE id = ?1",
		                                sqlite3_column_int64(s, 0), 0, e)))
			break;
	}
	if (!rc && step != SQLITE_DONE)
		rc = store_fail(st, e, "read updates");
	store_release(st, s);
	return rc;
}

/* Inserts an update row (a fresh id, so that it sorts after every update
 * of the record: the order it goes up and is overlaid in). */
static int insert_update(struct store *st, enum upd_kind k, int64_t row, int64_t cid, const char *update_id,
                         const char *created_at, const cJSON *fields, struct pa_err *e)
{
	sqlite3_stmt *s = store_stmt(st,
		"INSERT INTO record_update(update_id, kind, row, customer_id, fields, state, created_at,"
		" waiting_since, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, unixepoch(), unixepoch())", e);
	char *text = cJSON_PrintUnformatted(fields);
	int rc = 0;

	if (!s || !text) {
		rc = s ? err_set(e, EX_OSERR, "out_of_memory", NULL, "out of memory") : e->status;
		goto cleanup;
	}
	sqlite3_bind_text(s, 1, update_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, upd_kind_name(k), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, row);
	sqlite3_bind_int64(s, 4, cid);
	sqlite3_bind_text(s, 5, text, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, created_at, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = store_fail(st, e, "queue update");
cleanup:
	store_release(st, s);
	free(text);
	return rc;
}

int upd_queue(struct store *st, enum upd_kind k, int64_t row, int64_t cid, const cJSON *before,
              const cJSON *after, bool *queued, struct pa_err *e)
{
	cJSON *d = diff(k, before, after);
	struct unsent u;
	int rc;

	*queued = false;
	memset(&u, 0, sizeof(u));
	if (cJSON_GetArraySize(d) == 0) {
		rc = 0;
		goto cleanup;
	}
	if ((rc = keep_base(st, k, row, before, e)) || (rc = find_unsent(st, k, row, &u, e)))
		goto cleanup;
	if (u.id == 0) {
		if (util_uuid(u.update_id) != 0) {
			rc = err_set(e, EX_OSERR, "no_randomness", NULL, "cannot make an id: no randomness from the kernel");
			goto cleanup;
		}
		util_rfc3339(time(NULL), u.created_at);
		u.fields = cJSON_CreateObject();
	} else {
		/* Goes up again (same update_id) after every newer update. */
		if ((rc = absorb_newer(st, k, row, u.id, u.fields, e)) ||
		    (rc = store_exec_ii(st, "DELETE FROM record_update WHERE id = ?1", u.id, 0, e)))
			goto cleanup;
	}
	{
		const cJSON *it;
		cJSON_ArrayForEach(it, d) {
			cJSON_DeleteItemFromObjectCaseSensitive(u.fields, it->string);
			cJSON_AddItemToObject(u.fields, it->string, cJSON_Duplicate(it, 1));
		}
	}
	if ((rc = insert_update(st, k, row, cid, u.update_id, u.created_at, u.fields, e)))
		goto cleanup;
	*queued = true;
cleanup:
	cJSON_Delete(u.fields);
	cJSON_Delete(d);
	return rc;
}

/* Reads the base of (k, row) into *base (NULL when none). */
static int read_base(struct store *st, enum upd_kind k, int64_t row, cJSON **base, struct pa_err *e)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT fields FROM record_base WHERE kind = ?1 AND row = ?2", e);
	int rc = 0, step;

	*base = NULL;
	if (!s)
		return e->status;
	sqlite3_bind_text(s, 1, upd_kind_name(k), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, row);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		*base = cJSON_Parse(store_col_text(s, 0) ? store_col_text(s, 0) : "{}");
		if (!cJSON_IsObject(*base)) {
			cJSON_Delete(*base);
			*base = cJSON_CreateObject();
		}
	} else if (step != SQLITE_DONE) {
		rc = store_fail(st, e, "read base values");
	}
	store_release(st, s);
	return rc;
}

/* Applies onto rec every update of (k, row), oldest first; *n gets how
 * many there were. */
static int overlay_all(struct store *st, enum upd_kind k, int64_t row, cJSON *rec, int *n, struct pa_err *e)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT fields FROM record_update WHERE kind = ?1 AND row = ?2 ORDER BY id", e);
	int rc = 0, step;

	*n = 0;
	if (!s)
		return e->status;
	sqlite3_bind_text(s, 1, upd_kind_name(k), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, row);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		cJSON *f = cJSON_Parse(store_col_text(s, 0) ? store_col_text(s, 0) : "{}");
		upd_apply_fields(rec, f);
		cJSON_Delete(f);
		(*n)++;
	}
	if (step != SQLITE_DONE)
		rc = store_fail(st, e, "read updates");
	store_release(st, s);
	return rc;
}

int upd_discard(struct store *st, enum upd_kind k, int64_t row, cJSON **restored, struct pa_err *e)
{
	sqlite3_stmt *s = store_stmt(st, "DELETE FROM record_update WHERE kind = ?1 AND row = ?2 AND batch_id IS NULL"
	                                    " AND state IN ('pending', 'rejected')", e);
	cJSON *base = NULL;
	int rc = 0, n = 0, gone;

	*restored = NULL;
	if (!s)
		return e->status;
	sqlite3_bind_text(s, 1, upd_kind_name(k), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, row);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = store_fail(st, e, "discard update");
	gone = sqlite3_changes(st->db);
	store_release(st, s);
	if (rc)
		return rc;
	if (gone == 0)
		return err_set(e, EX_DATAERR, "no_update", NULL,
		               "this %s has no change waiting to go to HQ (or it is being sent now): nothing to discard",
		               k == UPD_CUSTOMER ? "customer" : "address");
	if ((rc = read_base(st, k, row, &base, e)))
		return rc;
	if (!base)
		return err_set(e, EX_IOERR, "database_corrupt", NULL, "the values HQ holds for this record are missing");
	if ((rc = overlay_all(st, k, row, base, &n, e)) || (rc = drop_base_if_unused(st, k, row, e))) {
		cJSON_Delete(base);
		return rc;
	}
	*restored = base;
	return 0;
}

int upd_overlay(struct store *st, enum upd_kind k, int64_t row, const cJSON *hq, cJSON **out, struct pa_err *e)
{
	sqlite3_stmt *s = NULL;
	cJSON *rec = NULL;
	char *text = NULL;
	int rc, n = 0;

	*out = NULL;
	rec = cJSON_Duplicate(hq, 1);
	if ((rc = overlay_all(st, k, row, rec, &n, e)))
		goto cleanup;
	if (n == 0) {
		rc = drop_base_if_unused(st, k, row, e);
		goto cleanup;
	}
	s = store_stmt(st, "INSERT INTO record_base(kind, row, fields) VALUES (?1, ?2, ?3)"
	                   " ON CONFLICT(kind, row) DO UPDATE SET fields = excluded.fields", e);
	text = cJSON_PrintUnformatted(hq);
	if (!s || !text) {
		rc = s ? err_set(e, EX_OSERR, "out_of_memory", NULL, "out of memory") : e->status;
		goto cleanup;
	}
	sqlite3_bind_text(s, 1, upd_kind_name(k), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, row);
	sqlite3_bind_text(s, 3, text, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE) {
		rc = store_fail(st, e, "keep base values");
		goto cleanup;
	}
	*out = rec;
	rec = NULL;
cleanup:
	store_release(st, s);
	free(text);
	cJSON_Delete(rec);
	return rc;
}

int upd_settle(struct store *st, int64_t cid, int64_t version, struct pa_err *e)
{
	return store_exec_ii(st, "DELETE FROM record_update WHERE customer_id = ?1 AND state = 'accepted'"
	                         " AND version <= ?2", cid, version, e);
}

int upd_decorate(struct store *st, enum upd_kind k, int64_t row, cJSON *doc, struct pa_err *e)
{
	/* the row's updates not yet accepted, newest first: an index seek on
	 * (kind, row) that finds nothing for almost every record */
	sqlite3_stmt *s = store_stmt(st, "SELECT state = 'pending', last_code, last_message FROM record_update"
	                                 " WHERE kind = ?1 AND row = ?2 AND state <> 'accepted' ORDER BY id DESC", e);
	bool pending = false;
	cJSON *ue = NULL;
	int rc = 0, step;

	if (!s)
		return e->status;
	sqlite3_bind_text(s, 1, upd_kind_name(k), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, row);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		if (sqlite3_column_int(s, 0)) {
			pending = true;
		} else if (!ue && store_col_text(s, 1)) { /* the newest rejected one */
			ue = cJSON_CreateObject();
			cJSON_AddStringToObject(ue, "code", store_col_text(s, 1));
			if (store_col_text(s, 2))
				cJSON_AddStringToObject(ue, "message", store_col_text(s, 2));
			else
				cJSON_AddNullToObject(ue, "message");
		}
	}
	if (step != SQLITE_DONE) {
		rc = store_fail(st, e, "read updates");
		cJSON_Delete(ue);
	} else if (!pending && !ue) {
		upd_decorate_none(doc);
	} else {
		cJSON_AddBoolToObject(doc, "pending_update", pending);
		if (ue)
			cJSON_AddItemToObject(doc, "update_error", ue);
		else
			cJSON_AddNullToObject(doc, "update_error");
	}
	store_release(st, s);
	return rc;
}

void upd_decorate_none(cJSON *doc)
{
	cJSON_AddBoolToObject(doc, "pending_update", false);
	cJSON_AddNullToObject(doc, "update_error");
}

cJSON *upd_record(struct store *st, int64_t id, struct pa_err *e)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT u.update_id, u.kind, u.created_at, u.fields, c.async_id, c.account, a.async_id, a.address_id"
		" FROM record_update u JOIN customer c ON c.id = u.customer_id"
		" LEFT JOIN address a ON u.kind = 'address_update' AND a.id = u.row WHERE u.id = ?1", e);
	cJSON *r = NULL, *ref, *fields;
	bool cust;

	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) != SQLITE_ROW || !store_col_text(s, 0) || !store_col_text(s, 1)) {
		err_set(e, EX_IOERR, "database_corrupt", NULL, "update %lld or its record is missing", (long long)id);
		goto cleanup;
	}
	cust = strcmp(store_col_text(s, 1), "customer_update") == 0;
	if (!cust && !store_col_text(s, 6) && !store_col_text(s, 7)) {
		err_set(e, EX_IOERR, "database_corrupt", NULL, "the address of update %s is missing", store_col_text(s, 0));
		goto cleanup;
	}
	fields = cJSON_Parse(store_col_text(s, 3) ? store_col_text(s, 3) : "{}");
	if (!cJSON_IsObject(fields)) {
		cJSON_Delete(fields);
		err_set(e, EX_IOERR, "database_corrupt", NULL, "update %s is unreadable", store_col_text(s, 0));
		goto cleanup;
	}
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "type", store_col_text(s, 1));
	cJSON_AddStringToObject(r, "update_id", store_col_text(s, 0));
	cJSON_AddStringToObject(r, "created_at", store_col_text(s, 2) ? store_col_text(s, 2) : "");
	ref = cJSON_AddObjectToObject(r, cust ? "customer" : "address");
	if (!cust && store_col_text(s, 7))
		cJSON_AddStringToObject(ref, "address_id", store_col_text(s, 7));
	else if (!cust)
		cJSON_AddStringToObject(ref, "async_id", store_col_text(s, 6));
	else if (store_col_text(s, 5))
		cJSON_AddStringToObject(ref, "account", store_col_text(s, 5));
	else
		cJSON_AddStringToObject(ref, "async_id", store_col_text(s, 4) ? store_col_text(s, 4) : "");
	cJSON_AddItemToObject(r, "fields", fields);
cleanup:
	store_release(st, s);
	return r;
}

int upd_accepted(struct store *st, int64_t id, int64_t version, struct pa_err *e)
{
	int rc;

	if (version < 0)
		return store_exec_ii(st, "DELETE FROM record_update WHERE id = ?1", id, 0, e);
	if ((rc = store_exec_ii(st, "UPDATE record_update SET state = 'accepted', version = ?2, batch_id = NULL,"
	                            " waiting_since = NULL, last_code = NULL, last_message = NULL,"
	                            " updated_at = unixepoch() WHERE id = ?1", id, version, e)))
		return rc;
	/* HQ's record of that version may have come down already. */
	return store_exec_ii(st, "DELETE FROM record_update WHERE id = ?1 AND version <="
	                         " (SELECT coalesce(c.version, -1) FROM customer c WHERE c.id = record_update.customer_id)",
	                     id, 0, e);
}

int upd_rejected(struct store *st, int64_t id, const char *code, const char *message, bool *deferred,
                 struct pa_err *e)
{
	sqlite3_stmt *s = NULL;
	int64_t known = 1;
	int rc = 0;

	*deferred = false;
	if (strcmp(code, "unknown_customer") == 0 || strcmp(code, "unknown_address") == 0) {
		if ((rc = store_query_i(st,
			"SELECT CASE u.kind WHEN 'customer_update' THEN c.state IN ('uploaded', 'synced')"
			" ELSE a.state NOT IN ('pending', 'rejected') AND c.state IN ('uploaded', 'synced') END"
			" FROM record_update u JOIN customer c ON c.id = u.customer_id"
			" LEFT JOIN address a ON a.id = u.row WHERE u.id = ?1", id, 0, 1, &known, e)))
			return rc;
		*deferred = !known;
	}
	s = store_stmt(st, "UPDATE record_update SET state = ?2, batch_id = NULL, last_code = ?3, last_message = ?4,"
	                   " updated_at = unixepoch() WHERE id = ?1", e);
	if (!s)
		return e->status;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, *deferred ? "pending" : "rejected", -1, SQLITE_STATIC);
	store_bind_text(s, 3, code);
	store_bind_text(s, 4, message);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = store_fail(st, e, "record HQ's answer");
	store_release(st, s);
	return rc;
}

int upd_list_rejected(struct store *st, size_t max, int (*each)(void *ctx, const struct upd_rejected_rec *r),
                      void *ctx, int64_t *total, struct pa_err *e)
{
	sqlite3_stmt *s = NULL;
	struct upd_rejected_rec r;
	int rc, step;
	size_t given = 0;

	if ((rc = store_query_i(st, "SELECT count(*) FROM record_update WHERE state = 'rejected'", 0, 0, 0, total, e)))
		return rc;
	if (*total == 0 || max == 0)
		return 0;
	s = store_prepare(st,
		"SELECT u.kind, CASE u.kind WHEN 'customer_update' THEN coalesce(c.async_id, c.account)"
		" ELSE coalesce(a.async_id, a.address_id) END, u.update_id, u.last_code, c.local_number"
		" FROM record_update u INDEXED BY record_update_state JOIN customer c ON c.id = u.customer_id"
		" LEFT JOIN address a ON a.id = u.row WHERE u.state = 'rejected' ORDER BY u.waiting_since, u.id LIMIT ?1", e);
	if (!s)
		return e->status;
	sqlite3_bind_int64(s, 1, (int64_t)max);
	while ((step = sqlite3_step(s)) == SQLITE_ROW && given < max) {
		memset(&r, 0, sizeof(r));
		r.kind = strcmp(store_col_text(s, 0), "customer_update") == 0 ? "customer_update" : "address_update";
		util_copy(r.id, sizeof(r.id), store_col_text(s, 1) ? store_col_text(s, 1) : "");
		util_copy(r.update_id, sizeof(r.update_id), store_col_text(s, 2) ? store_col_text(s, 2) : "");
		util_copy(r.code, sizeof(r.code), store_col_text(s, 3) ? store_col_text(s, 3) : "");
		util_copy(r.local_number, sizeof(r.local_number), store_col_text(s, 4) ? store_col_text(s, 4) : "");
		given++;
		if (each(ctx, &r) != 0)
			break;
	}
	if (step != SQLITE_DONE && step != SQLITE_ROW)
		rc = store_fail(st, e, "read rejected updates");
	sqlite3_finalize(s);
	return rc;
}
