/*
 * hq_upd: the update records of HQ-API.md "Edits after upload"
 * (customer_update, address_update), inside the batch's transaction.
 * For each, in this order:
 *   1. an update_id HQ holds: duplicate, with the version the customer
 *      had after that update (duplicates first);
 *   2. a member the page does not name: invalid_record; a number not
 *      written as plain digits: invalid_number; update_id not a UUID, a
 *      reference that does not name exactly one id, `fields` not a
 *      non-empty object of changeable fields: invalid_record; created_at
 *      not RFC 3339: invalid_text;
 *   3. the customer or address it names: unknown_customer /
 *      unknown_account / unknown_address (an async customer with no
 *      account yet is fine: the update applies to it);
 *   4. the record as it would be after the update, by the create rules
 *      (common/validate; a primary address needs a purpose);
 *   5. a queued admin `reject` fault for it.
 * Then the fields are applied one by one (null clears), a primary address
 * demotes the earlier one of its purpose, the customer's version is
 * bumped, the update_id is remembered for as long as the customer, and
 * the customer's `customer` change follows at the end of the batch (when
 * it has an account). The result carries the version after the update.
 */
#include "tests/hq/hq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sqlite3_stmt *st_upd_get, *st_upd_put, *st_cust_get, *st_addr_async, *st_addr_id;

int upd_init(void)
{
	st_upd_get = db_prepare("SELECT version FROM updates WHERE update_id = ?1");
	st_upd_put = db_prepare("INSERT INTO updates(update_id, customer_id, version, record)"
	                        " VALUES(?1, ?2, ?3, ?4)");
	st_cust_get = db_prepare("SELECT record FROM customers WHERE id = ?1");
	st_addr_async = db_prepare("SELECT id, customer_id, record FROM addresses WHERE async_id = ?1");
	st_addr_id = db_prepare("SELECT id, customer_id, record FROM addresses WHERE address_id = ?1");
	return st_upd_get && st_upd_put && st_cust_get && st_addr_async && st_addr_id ? 0 : -1;
}

/* The update being handled. */
struct upd {
	const char *id;
	bool is_addr;
	int64_t cust, row;   /* customer row; address row (address_update) */
	cJSON *before;       /* the record HQ holds */
	struct val_err err;  /* the rejection */
};

static int reject(struct upd *u, const char *code, const char *field, const char *msg)
{
	util_copy(u->err.code, sizeof(u->err.code), code);
	util_copy(u->err.field, sizeof(u->err.field), field);
	util_copy(u->err.message, sizeof(u->err.message), msg);
	return 1;
}

/* shape: step 2. Returns 0, or 1 with u->err. */
static int shape(struct upd *u, const cJSON *rec, const char *type, bool bad_number,
                 const cJSON **ref)
{
	const cJSON *created = cJSON_GetObjectItemCaseSensitive(rec, "created_at");

	if (rules_members(rec, type, &u->err) < 0)
		return 1;
	if (bad_number)
		return reject(u, "invalid_number", "", "numbers must be integers written as plain digits");
	if (!val_uuid(u->id))
		return reject(u, "invalid_record", "update_id", "update_id: must be a UUID");
	if (created && !cJSON_IsNull(created) && !cJSON_IsString(created))
		return reject(u, "invalid_record", "created_at", "created_at: must be a string");
	if (cJSON_IsString(created) && !val_time(created->valuestring))
		return reject(u, "invalid_text", "created_at",
		              "created_at: must be an RFC 3339 UTC time such as 2026-11-25T09:14:03Z");
	if (rules_ref(rec, u->is_addr ? "address" : "customer", true, u->is_addr, ref, &u->err) < 0 ||
	    rules_fields(cJSON_GetObjectItemCaseSensitive(rec, "fields"), u->is_addr, &u->err) < 0)
		return 1;
	return 0;
}

/* load_row: the record of the row st finds for its one text parameter. */
static int load_row(struct upd *u, sqlite3_stmt *st, const char *value, bool address)
{
	int rc;

	sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
	if (!address)
		sqlite3_bind_int64(st, 1, u->cust);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && address) {
		u->row = sqlite3_column_int64(st, 0);
		u->cust = sqlite3_column_int64(st, 1);
		u->before = cJSON_Parse((const char *)sqlite3_column_text(st, 2));
	} else if (rc == SQLITE_ROW) {
		u->before = cJSON_Parse((const char *)sqlite3_column_text(st, 0));
	}
	db_done(st);
	if (rc == SQLITE_ROW)
		return u->before ? 1 : -1;
	if (rc != SQLITE_DONE)
		db_log_error("update target");
	return rc == SQLITE_DONE ? 0 : -1;
}

/* target: step 3: finds what ref names and loads its record into
 * u->before. Returns 0, 1 with u->err, -1 on error. */
static int target(struct upd *u, const cJSON *ref)
{
	char msg[160];
	const char *code;
	bool synced;
	int rc;

	if (u->is_addr) {
		rc = load_row(u, !strcmp(ref->string, "address_id") ? st_addr_id : st_addr_async,
		              ref->valuestring, true);
		code = "unknown_address";
	} else {
		rc = batch_find_customer(ref, &u->cust, &synced, &code);
		if (rc > 0)
			rc = load_row(u, st_cust_get, NULL, false);
	}
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	snprintf(msg, sizeof(msg), "%s: HQ holds no %s %.80s", u->is_addr ? "address" : "customer",
	         u->is_addr ? "address" : "customer", ref->valuestring);
	return reject(u, code, u->is_addr ? "address" : "customer", msg);
}

/* store: applies the checked update (after: the record after it). */
static int store(struct batch *b, struct upd *u, const cJSON *rec, const cJSON *after,
                 int64_t *version)
{
	char *text = cJSON_PrintUnformatted(rec);
	int rc;

	if (!text)
		return -1;
	rc = u->is_addr ? cust_address_set(u->cust, u->row, u->before, after)
	                : cust_record_set(u->cust, after);
	if (rc == 0)
		*version = cust_bump(u->cust);
	if (rc == 0 && *version > 0) {
		sqlite3_bind_text(st_upd_put, 1, u->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st_upd_put, 2, u->cust);
		sqlite3_bind_int64(st_upd_put, 3, *version);
		sqlite3_bind_text(st_upd_put, 4, text, -1, SQLITE_STATIC);
		rc = sqlite3_step(st_upd_put) == SQLITE_DONE ? 0 : -1;
		db_done(st_upd_put);
		if (rc < 0)
			db_log_error("update");
	} else {
		rc = -1;
	}
	free(text);
	batch_touch(b, u->cust);
	return rc;
}

/* duplicate: step 1. Returns 1 when answered, 0 when new, -1 on error. */
static int duplicate(struct batch *b, const char *id, cJSON *results)
{
	int rc;

	sqlite3_bind_text(st_upd_get, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st_upd_get);
	if (rc == SQLITE_ROW) {
		cJSON *r = batch_result(results, id, "duplicate", NULL, NULL);
		cJSON_AddNumberToObject(r, "version", (double)sqlite3_column_int64(st_upd_get, 0));
		b->duplicates++;
	}
	db_done(st_upd_get);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_log_error("update lookup");
		return -1;
	}
	return rc == SQLITE_ROW;
}

/* upd_record: see hq.h and the head of this file. */
int upd_record(struct batch *b, const cJSON *rec, const char *type, const char *id,
               bool bad_number, cJSON *results)
{
	struct upd u = {.id = id, .is_addr = !strcmp(type, "address_update")};
	const cJSON *ref = NULL;
	cJSON *after = NULL;
	int64_t version = 0;
	int rc = duplicate(b, id, results);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	rc = shape(&u, rec, type, bad_number, &ref);
	if (rc == 0)
		rc = target(&u, ref);
	if (rc == 0) {
		after = cJSON_Duplicate(u.before, true);
		if (!after)
			rc = -1;
		else
			cust_apply(after, cJSON_GetObjectItemCaseSensitive(rec, "fields"));
	}
	if (rc == 0 && (u.is_addr ? val_address(after, false, &u.err) < 0 ||
	                                    rules_primary(after, &u.err) < 0
	                          : val_customer(after, &u.err) < 0))
		rc = 1;
	if (rc == 0 && fault_reject(b->path, type, id, &u.err))
		rc = 1;
	if (rc == 0)
		rc = store(b, &u, rec, after, &version);
	if (rc == 0)
		cJSON_AddNumberToObject(batch_result(results, id, "accepted", NULL, NULL), "version",
		                        (double)version);
	else if (rc > 0)
		batch_result(results, id, "rejected", u.err.code, u.err.message);
	cJSON_Delete(after);
	cJSON_Delete(u.before);
	return rc < 0 ? -1 : 0;
}
