/*
 * hq_batch: POST /v1/stores/{store}/registers/{register}/batches.
 *
 * The records are handled in order inside the caller's transaction, each
 * answered accepted, duplicate or rejected; a rejection never fails the
 * others. For each record, in this order:
 *   1. it must be an object with a known string "type" and a string id
 *      (async_id, or txn_id for a transaction): else invalid_record;
 *   2. an id HQ already holds (whichever register or batch brought it,
 *      earlier records of this batch included): duplicate;
 *   3. a number not written as plain digits: invalid_number;
 *   4. the rules of common/validate (the same code the agent runs);
 *   5. its customer reference: unknown_customer / unknown_account.
 * Accepted customers wait for the synchronization job; an accepted address
 * of a customer that already has an account republishes its `customer`
 * change.
 *
 * Envelope errors: not JSON, not an object, batch_id not a UUID string,
 * records not an array: 400 invalid_request. No records: 422
 * invalid_batch. More than 500 records: 413 too_many_records, so that an
 * agent halves the batch as for any body too large.
 */
#include "tests/hq/hq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOUCHED HQ_MAX_RECORDS

struct batch {
	const char *store, *reg;
	int64_t touched[MAX_TOUCHED]; /* synced customers given an address */
	size_t ntouched;
	bool new_customers; /* some customer was accepted */
	int64_t duplicates;
};

static sqlite3_stmt *st_cust_async, *st_cust_account, *st_addr_get, *st_txn_get, *st_cust_put,
	*st_addr_put, *st_txn_put;

static const char *const cust_fields[] = {
	"async_id", "local_number", "created_at", "kind", "first_name", "last_name",
	"organization_name", "email", "phone", "language", "attributes"};
static const char *const addr_fields[] = {"async_id", "purpose", "primary", "line1", "line2",
                                          "city", "region", "postal_code", "country"};

int batch_init(void)
{
	st_cust_async = db_prepare("SELECT id, account FROM customers WHERE async_id = ?1");
	st_cust_account = db_prepare("SELECT id, account FROM customers WHERE account = ?1");
	st_addr_get = db_prepare("SELECT 1 FROM addresses WHERE async_id = ?1");
	st_txn_get = db_prepare("SELECT 1 FROM transactions WHERE txn_id = ?1");
	st_cust_put = db_prepare("INSERT INTO customers(async_id, local_number, store, register, record,"
	                         " accepted_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
	st_addr_put = db_prepare("INSERT INTO addresses(async_id, customer_id, store, register, record)"
	                         " VALUES(?1, ?2, ?3, ?4, ?5)");
	st_txn_put = db_prepare("INSERT INTO transactions(txn_id, store, register, business_date,"
	                        " customer_id, record) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
	return st_cust_async && st_cust_account && st_addr_get && st_txn_get && st_cust_put &&
	               st_addr_put && st_txn_put
	               ? 0
	               : -1;
}

/* add_result: appends {"id", "status"[, "code", "message"]} to results. */
static void add_result(cJSON *results, const char *id, const char *status, const char *code,
                       const char *message)
{
	cJSON *r = cJSON_CreateObject();

	json_add_str(r, "id", id);
	json_add_str(r, "status", status);
	if (code) {
		json_add_str(r, "code", code);
		json_add_str(r, "message", message);
	}
	cJSON_AddItemToArray(results, r);
}

/* exists: whether st (one text parameter) finds a row for id. -1 error. */
static int exists(sqlite3_stmt *st, const char *id)
{
	int rc;

	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	db_done(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	db_log_error("lookup");
	return -1;
}

/* find_customer: the customers row by async_id or account (st chooses):
 * 1 with *id and *synced set, 0 when HQ has none, -1 on error. */
static int find_customer(sqlite3_stmt *st, const char *value, int64_t *id, bool *synced)
{
	int rc;

	sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		*synced = sqlite3_column_type(st, 1) != SQLITE_NULL;
	}
	db_done(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	db_log_error("customer lookup");
	return -1;
}

/* resolve_ref: a record's "customer" member, already checked by
 * common/validate: absent or null, or an object whose one non-null member
 * is async_id or account. Returns 0 with *id (0: no customer), 1 with
 * *code set when HQ does not know that customer, -1 on error. */
static int resolve_ref(const cJSON *rec, int64_t *id, bool *synced, const char **code,
                       const char **value)
{
	const cJSON *ref = cJSON_GetObjectItemCaseSensitive(rec, "customer"), *m;
	bool by_account;
	int rc;

	*id = 0;
	*synced = false;
	if (!cJSON_IsObject(ref))
		return 0;
	for (m = ref->child; m && cJSON_IsNull(m); m = m->next)
		;
	if (!m || !cJSON_IsString(m))
		return 0;
	by_account = !strcmp(m->string, "account");
	*value = m->valuestring;
	rc = find_customer(by_account ? st_cust_account : st_cust_async, m->valuestring, id, synced);
	if (rc == 0) {
		*code = by_account ? "unknown_account" : "unknown_customer";
		return 1;
	}
	return rc < 0 ? -1 : 0;
}

/* subset: a new object with the members of rec named in names, in that
 * order; NULL when out of memory. */
static char *subset(const cJSON *rec, const char *const *names, size_t n)
{
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;

	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(rec, names[i]);
		if (m)
			cJSON_AddItemToObject(o, names[i], cJSON_Duplicate(m, true));
	}
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

/* step_insert: runs an INSERT whose parameters are bound; resets it. */
static int step_insert(sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	db_done(st);
	if (rc != SQLITE_DONE) {
		db_log_error(what);
		return -1;
	}
	return 0;
}

static int put_customer(struct batch *b, const cJSON *rec, const char *id)
{
	char *record = subset(rec, cust_fields, sizeof(cust_fields) / sizeof(*cust_fields));
	int rc;

	if (!record)
		return -1;
	sqlite3_bind_text(st_cust_put, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st_cust_put, 2, json_str(rec, "local_number"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st_cust_put, 3, b->store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st_cust_put, 4, b->reg, -1, SQLITE_STATIC);
	sqlite3_bind_text(st_cust_put, 5, record, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st_cust_put, 6, clock_ms());
	rc = step_insert(st_cust_put, "customer");
	free(record);
	if (rc == 0)
		b->new_customers = true;
	return rc;
}

static int put_address(struct batch *b, const cJSON *rec, const char *id, int64_t cust,
                       bool synced)
{
	char *record = subset(rec, addr_fields, sizeof(addr_fields) / sizeof(*addr_fields));
	int rc;

	if (!record)
		return -1;
	sqlite3_bind_text(st_addr_put, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st_addr_put, 2, cust);
	sqlite3_bind_text(st_addr_put, 3, b->store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st_addr_put, 4, b->reg, -1, SQLITE_STATIC);
	sqlite3_bind_text(st_addr_put, 5, record, -1, SQLITE_STATIC);
	rc = step_insert(st_addr_put, "address");
	free(record);
	if (rc == 0 && synced) {
		size_t i;
		for (i = 0; i < b->ntouched && b->touched[i] != cust; i++)
			;
		if (i == b->ntouched && b->ntouched < MAX_TOUCHED)
			b->touched[b->ntouched++] = cust;
	}
	return rc;
}

static int put_transaction(struct batch *b, const cJSON *rec, const char *id, int64_t cust)
{
	char *record = cJSON_PrintUnformatted(rec);
	int rc;

	if (!record)
		return -1;
	sqlite3_bind_text(st_txn_put, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st_txn_put, 2, b->store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st_txn_put, 3, b->reg, -1, SQLITE_STATIC);
	sqlite3_bind_text(st_txn_put, 4, json_str(rec, "business_date"), -1, SQLITE_STATIC);
	if (cust)
		sqlite3_bind_int64(st_txn_put, 5, cust);
	else
		sqlite3_bind_null(st_txn_put, 5);
	sqlite3_bind_text(st_txn_put, 6, record, -1, SQLITE_STATIC);
	rc = step_insert(st_txn_put, "transaction");
	free(record);
	return rc;
}

/* one_record: answers record rec (bad_number: its raw text holds a number
 * not written as plain digits) into results. Returns 0, -1 on error. */
static int one_record(struct batch *b, const cJSON *rec, bool bad_number, cJSON *results)
{
	const char *type = json_str(rec, "type"), *id, *code = NULL, *refval = "";
	bool is_txn = type && !strcmp(type, "transaction"), synced;
	struct val_err err;
	int64_t cust;
	int rc;

	if (!cJSON_IsObject(rec)) {
		add_result(results, NULL, "rejected", "invalid_record", "a record must be a JSON object");
		return 0;
	}
	id = json_str(rec, is_txn ? "txn_id" : "async_id");
	if (!type || (strcmp(type, "customer") && strcmp(type, "address") && !is_txn)) {
		if (!id)
			id = json_str(rec, "async_id") ? json_str(rec, "async_id") : json_str(rec, "txn_id");
		add_result(results, id, "rejected", "invalid_record",
		           "type: must be customer, address or transaction");
		return 0;
	}
	if (!id) {
		add_result(results, NULL, "rejected", "invalid_record",
		           is_txn ? "txn_id: must be a string" : "async_id: must be a string");
		return 0;
	}
	if (!strcmp(type, "customer"))
		rc = find_customer(st_cust_async, id, &cust, &synced);
	else
		rc = exists(is_txn ? st_txn_get : st_addr_get, id);
	if (rc < 0)
		return -1;
	if (rc > 0) {
		b->duplicates++;
		add_result(results, id, "duplicate", NULL, NULL);
		return 0;
	}
	if (rules_members(rec, type, &err) < 0) {
		add_result(results, id, "rejected", err.code, err.message);
		return 0;
	}
	if (bad_number) {
		add_result(results, id, "rejected", "invalid_number",
		           "numbers must be integers written as plain digits");
		return 0;
	}
	if (!strcmp(type, "customer"))
		rc = val_customer(rec, &err);
	else if (!strcmp(type, "address"))
		rc = val_address(rec, true, &err) < 0 || rules_primary(rec, &err) < 0 ? -1 : 0;
	else
		rc = val_transaction(rec, false, &err);
	if (rc < 0) {
		add_result(results, id, "rejected", err.code, err.message);
		return 0;
	}
	if (!strcmp(type, "customer")) {
		if (put_customer(b, rec, id) < 0)
			return -1;
		add_result(results, id, "accepted", NULL, NULL);
		return 0;
	}
	rc = resolve_ref(rec, &cust, &synced, &code, &refval);
	if (rc < 0)
		return -1;
	if (rc > 0) {
		char msg[256];
		snprintf(msg, sizeof(msg), "customer: HQ holds no customer %.100s", refval);
		add_result(results, id, "rejected", code, msg);
		return 0;
	}
	if (is_txn ? put_transaction(b, rec, id, cust) < 0 : put_address(b, rec, id, cust, synced) < 0)
		return -1;
	add_result(results, id, "accepted", NULL, NULL);
	return 0;
}

/* bad_numbers: flags[i] = record i holds a number not written as plain
 * digits. val_json_bad_number_index finds the first; when there is one,
 * every record is checked on its own text. */
static void bad_numbers(const char *body, size_t len, bool *flags, int n)
{
	struct json_span spans[HQ_MAX_RECORDS];
	int first = val_json_bad_number_index(body, len, "records");
	long got;

	memset(flags, 0, sizeof(*flags) * (size_t)n);
	if (first < 0)
		return;
	got = json_array_spans(body, len, "records", spans, HQ_MAX_RECORDS);
	if (got != n) {
		if (first < n)
			flags[first] = true;
		return;
	}
	for (int i = 0; i < n; i++)
		flags[i] = !val_json_plain_numbers(body + spans[i].off, spans[i].len);
}

/* batch_post: see hq.h and the head of this file. */
int batch_post(const char *store, const char *reg, const char *body, size_t len,
               struct hq_reply *rp)
{
	struct batch *b = calloc(1, sizeof(*b));
	cJSON *doc = cJSON_ParseWithLength(body, len), *records, *out = NULL, *results;
	bool flags[HQ_MAX_RECORDS];
	const char *batch_id;
	int n, rc = -1;

	if (!b)
		goto cleanup;
	b->store = store;
	b->reg = reg;
	if (!cJSON_IsObject(doc)) {
		rc = reply_error(rp, 400, "invalid_request", "the body is not a JSON object");
		goto cleanup;
	}
	batch_id = json_str(doc, "batch_id");
	records = cJSON_GetObjectItemCaseSensitive(doc, "records");
	if (!batch_id || !val_uuid(batch_id)) {
		rc = reply_error(rp, 400, "invalid_request", "batch_id: a UUID string is required");
		goto cleanup;
	}
	if (!cJSON_IsArray(records)) {
		rc = reply_error(rp, 400, "invalid_request", "records: an array is required");
		goto cleanup;
	}
	n = cJSON_GetArraySize(records);
	if (n == 0) {
		rc = reply_error(rp, 422, "invalid_batch", "records: a batch holds 1 to 500 records");
		goto cleanup;
	}
	if (n > HQ_MAX_RECORDS) {
		rc = reply_error(rp, 413, "too_many_records",
		                 "records: %d in one batch, at most 500: send smaller batches", n);
		goto cleanup;
	}
	bad_numbers(body, len, flags, n);
	out = cJSON_CreateObject();
	if (!out || json_add_str(out, "batch_id", batch_id) < 0 ||
	    !(results = cJSON_AddArrayToObject(out, "results")))
		goto cleanup;
	n = 0;
	for (const cJSON *r = records->child; r; r = r->next)
		if (one_record(b, r, flags[n++], results) < 0)
			goto cleanup;
	for (size_t i = 0; i < b->ntouched; i++)
		if (feed_publish_customer(b->touched[i]) < 0)
			goto cleanup;
	if (sync_after_batch(b->new_customers) < 0 || db_counter_add("records", n) < 0 ||
	    db_counter_add("duplicates", b->duplicates) < 0)
		goto cleanup;
	rc = reply_json(rp, 200, out);
	out = NULL;
cleanup:
	cJSON_Delete(out);
	cJSON_Delete(doc);
	free(b);
	return rc;
}
