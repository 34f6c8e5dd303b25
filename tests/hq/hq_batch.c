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

static sqlite3_stmt *st_cust_async, *st_cust_account, *st_addr_get, *st_txn_get, *st_cust_put,
	*st_txn_put, *st_upd_get, *st_addr_by_async, *st_addr_by_id;

static const char *const cust_fields[] = {
	"async_id", "local_number", "created_at", "kind", "first_name", "last_name",
	"organization_name", "email", "phone", "language", "attributes"};
static const char *const addr_fields[] = {"async_id", "purpose", "primary", "line1", "line2",
                                          "city", "region", "postal_code", "country"};

#define ADDR_COLS "id, customer_id, record, address_id, async_id"

int batch_init(void)
{
	st_cust_async = db_prepare("SELECT id, account FROM customers WHERE async_id = ?1");
	st_cust_account = db_prepare("SELECT id, account FROM customers WHERE account = ?1");
	st_addr_get = db_prepare("SELECT 1 FROM addresses WHERE async_id = ?1");
	st_txn_get = db_prepare("SELECT 1 FROM transactions WHERE txn_id = ?1");
	st_upd_get = db_prepare("SELECT 1 FROM updates WHERE update_id = ?1");
	st_cust_put = db_prepare("INSERT INTO customers(async_id, local_number, store, register, record,"
	                         " accepted_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
	st_txn_put = db_prepare("INSERT INTO transactions(txn_id, store, register, business_date,"
	                        " customer_id, record, delivery_id, invoice_id, addresses)"
	                        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
	st_addr_by_async = db_prepare("SELECT " ADDR_COLS " FROM addresses WHERE async_id = ?1");
	st_addr_by_id = db_prepare("SELECT " ADDR_COLS " FROM addresses WHERE address_id = ?1");
	return st_cust_async && st_cust_account && st_addr_get && st_txn_get && st_upd_get &&
	               st_cust_put && st_txn_put && st_addr_by_async && st_addr_by_id
	               ? 0
	               : -1;
}

/* batch_result: see hq.h. */
cJSON *batch_result(cJSON *results, const char *id, const char *status, const char *code,
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
	return r;
}

static void add_result(cJSON *results, const char *id, const char *status, const char *code,
                       const char *message)
{
	batch_result(results, id, status, code, message);
}

/* batch_touch: see hq.h. */
void batch_touch(struct batch *b, int64_t customer_id)
{
	size_t i;

	for (i = 0; i < b->ntouched && b->touched[i] != customer_id; i++)
		;
	if (i == b->ntouched && b->ntouched < HQ_MAX_RECORDS)
		b->touched[b->ntouched++] = customer_id;
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

/* batch_find_customer: see hq.h. ref is the one non-null member of a
 * reference already checked (async_id or account). */
int batch_find_customer(const cJSON *ref, int64_t *id, bool *synced, const char **code)
{
	bool by_account = !strcmp(ref->string, "account");

	*code = by_account ? "unknown_account" : "unknown_customer";
	return find_customer(by_account ? st_cust_account : st_cust_async, ref->valuestring, id,
	                     synced);
}

/* resolve_ref: a record's "customer" member, already checked by
 * common/validate: absent or null, or an object whose one non-null member
 * is async_id or account. Returns 0 with *id (0: no customer), 1 with
 * *code set when HQ does not know that customer, -1 on error. */
static int resolve_ref(const cJSON *rec, int64_t *id, bool *synced, const char **code,
                       const char **value)
{
	const cJSON *ref = cJSON_GetObjectItemCaseSensitive(rec, "customer"), *m;
	int rc;

	*id = 0;
	*synced = false;
	if (!cJSON_IsObject(ref))
		return 0;
	for (m = ref->child; m && cJSON_IsNull(m); m = m->next)
		;
	if (!m || !cJSON_IsString(m))
		return 0;
	*value = m->valuestring;
	rc = batch_find_customer(m, id, synced, code);
	if (rc == 0)
		return 1;
	return rc < 0 ? -1 : 0;
}

/* subset: a new object with the members of rec named in names, in that
 * order; NULL when out of memory. */
static cJSON *subset(const cJSON *rec, const char *const *names, size_t n)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(rec, names[i]);
		if (m)
			cJSON_AddItemToObject(o, names[i], cJSON_Duplicate(m, true));
	}
	return o;
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
	cJSON *o = subset(rec, cust_fields, sizeof(cust_fields) / sizeof(*cust_fields));
	char *record = o ? cJSON_PrintUnformatted(o) : NULL;
	int rc;

	cJSON_Delete(o);
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

/* put_address: stores an accepted address of customer cust: its primary
 * demotes the earlier one, it gets its id at once when the customer has
 * an account, and the customer's version is bumped. */
static int put_address(struct batch *b, const cJSON *rec, const char *id, int64_t cust)
{
	cJSON *o = subset(rec, addr_fields, sizeof(addr_fields) / sizeof(*addr_fields));
	int rc = -1;

	if (o && cust_address_add(cust, id, b->store, b->reg, o, NULL) > 0 && cust_bump(cust) > 0)
		rc = 0;
	cJSON_Delete(o);
	batch_touch(b, cust);
	return rc;
}

/* txn_addrs: what a transaction's address references resolved to. */
struct txn_addrs {
	int64_t row[2];  /* delivery, invoice (0: none) */
	cJSON *snapshot; /* {"delivery_address": {...}, ...} as at acceptance */
};

static const char *const addr_members[2] = {"delivery_address", "invoice_address"};

/* find_address: the address named by ref (its one id member): 1 with its
 * row, customer row and record (with address_id and async_id) in *rec,
 * 0 when HQ holds none, -1 on error. */
static int find_address(const cJSON *ref, int64_t *row, int64_t *cust, cJSON **rec)
{
	sqlite3_stmt *st = !strcmp(ref->string, "address_id") ? st_addr_by_id : st_addr_by_async;
	int rc;

	sqlite3_bind_text(st, 1, ref->valuestring, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*row = sqlite3_column_int64(st, 0);
		*cust = sqlite3_column_int64(st, 1);
		*rec = cJSON_Parse((const char *)sqlite3_column_text(st, 2));
		if (*rec) {
			cJSON_DeleteItemFromObjectCaseSensitive(*rec, "address_id");
			json_add_str(*rec, "address_id", (const char *)sqlite3_column_text(st, 3));
		}
	}
	db_done(st);
	if (rc == SQLITE_ROW)
		return *rec ? 1 : -1;
	if (rc != SQLITE_DONE)
		db_log_error("address lookup");
	return rc == SQLITE_DONE ? 0 : -1;
}

/* resolve_addresses: the transaction's delivery_address and
 * invoice_address (shapes checked by hq_rules) against its customer cust
 * (0: none). Returns 0 with *out filled, 1 with *err (unknown_address,
 * address_mismatch), -1 on error. */
static int resolve_addresses(const cJSON *rec, int64_t cust, struct txn_addrs *out,
                             struct val_err *err)
{
	for (int i = 0; i < 2; i++) {
		const cJSON *ref;
		int64_t owner = 0;
		cJSON *a = NULL;
		int rc;

		if (rules_ref(rec, addr_members[i], false, true, &ref, err) < 0)
			return 1;
		if (!ref)
			continue;
		util_copy(err->field, sizeof(err->field), addr_members[i]);
		if (!cust) {
			util_copy(err->code, sizeof(err->code), "address_mismatch");
			snprintf(err->message, sizeof(err->message),
			         "%s: a transaction without a customer names no address", addr_members[i]);
			return 1;
		}
		rc = find_address(ref, &out->row[i], &owner, &a);
		if (rc <= 0 || owner != cust) {
			cJSON_Delete(a);
			if (rc < 0)
				return -1;
			util_copy(err->code, sizeof(err->code), rc == 0 ? "unknown_address" : "address_mismatch");
			snprintf(err->message, sizeof(err->message), "%s: %s %.80s", addr_members[i],
			         rc == 0 ? "HQ holds no address" : "not an address of the customer:",
			         ref->valuestring);
			return 1;
		}
		if (!out->snapshot)
			out->snapshot = cJSON_CreateObject();
		cJSON_AddItemToObject(out->snapshot, addr_members[i], a);
	}
	return 0;
}

static void bind_row(sqlite3_stmt *st, int i, int64_t row)
{
	if (row)
		sqlite3_bind_int64(st, i, row);
	else
		sqlite3_bind_null(st, i);
}

static int put_transaction(struct batch *b, const cJSON *rec, const char *id, int64_t cust,
                           const struct txn_addrs *ad)
{
	char *record = cJSON_PrintUnformatted(rec);
	char *snap = ad->snapshot ? cJSON_PrintUnformatted(ad->snapshot) : NULL;
	int rc = -1;

	if (!record || (ad->snapshot && !snap))
		goto cleanup;
	sqlite3_bind_text(st_txn_put, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st_txn_put, 2, b->store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st_txn_put, 3, b->reg, -1, SQLITE_STATIC);
	sqlite3_bind_text(st_txn_put, 4, json_str(rec, "business_date"), -1, SQLITE_STATIC);
	bind_row(st_txn_put, 5, cust);
	sqlite3_bind_text(st_txn_put, 6, record, -1, SQLITE_STATIC);
	bind_row(st_txn_put, 7, ad->row[0]);
	bind_row(st_txn_put, 8, ad->row[1]);
	sqlite3_bind_text(st_txn_put, 9, snap, -1, SQLITE_STATIC);
	rc = step_insert(st_txn_put, "transaction");
cleanup:
	free(record);
	free(snap);
	return rc;
}

/* record_id: the id member of a record of type type ("" when unknown). */
static const char *id_member(const char *type)
{
	if (!strcmp(type, "transaction"))
		return "txn_id";
	if (!strcmp(type, "customer_update") || !strcmp(type, "address_update"))
		return "update_id";
	return "async_id";
}

static bool known_type(const char *type)
{
	return type && (!strcmp(type, "customer") || !strcmp(type, "address") ||
	                !strcmp(type, "transaction") || !strcmp(type, "customer_update") ||
	                !strcmp(type, "address_update"));
}

/* held: whether HQ already holds the record of that type and id. */
static int held(const char *type, const char *id)
{
	int64_t cust;
	bool synced;

	if (!strcmp(type, "customer"))
		return find_customer(st_cust_async, id, &cust, &synced);
	if (!strcmp(type, "address"))
		return exists(st_addr_get, id);
	return exists(st_txn_get, id);
}

/* first_checks: steps 3 to 5 of the head of this file for a customer,
 * address or transaction. Returns 1 when answered (result added), 0 to
 * go on, -1 on error. */
static int first_checks(const cJSON *rec, const char *type, const char *id, bool bad_number,
                        cJSON *results)
{
	struct val_err err;
	int rc;

	if (rules_members(rec, type, &err) < 0) {
		add_result(results, id, "rejected", err.code, err.message);
		return 1;
	}
	if (bad_number) {
		add_result(results, id, "rejected", "invalid_number",
		           "numbers must be integers written as plain digits");
		return 1;
	}
	if (!strcmp(type, "customer"))
		rc = val_customer(rec, &err);
	else if (!strcmp(type, "address"))
		rc = val_address(rec, true, &err) < 0 || rules_primary(rec, &err) < 0 ? -1 : 0;
	else
		rc = val_transaction(rec, false, &err);
	if (rc < 0) {
		add_result(results, id, "rejected", err.code, err.message);
		return 1;
	}
	return 0;
}

/* references: step 6 for an address or transaction. Returns 0 with *cust
 * and (transaction) *ad, 1 with *err, -1 on error. */
static int references(const cJSON *rec, bool is_txn, int64_t *cust, struct txn_addrs *ad,
                      struct val_err *err)
{
	const char *code = NULL, *refval = "";
	bool synced;
	int rc = resolve_ref(rec, cust, &synced, &code, &refval);

	if (rc > 0) {
		util_copy(err->code, sizeof(err->code), code);
		util_copy(err->field, sizeof(err->field), "customer");
		snprintf(err->message, sizeof(err->message), "customer: HQ holds no customer %.100s",
		         refval);
	}
	if (rc != 0 || !is_txn)
		return rc;
	return resolve_addresses(rec, *cust, ad, err);
}

/* one_record: answers record rec (bad_number: its raw text holds a number
 * not written as plain digits) into results. Returns 0, -1 on error. */
static int one_record(struct batch *b, const cJSON *rec, bool bad_number, cJSON *results)
{
	const char *type = json_str(rec, "type"), *id;
	struct txn_addrs ad = {{0, 0}, NULL};
	struct val_err err;
	int64_t cust = 0;
	int rc;

	if (!cJSON_IsObject(rec)) {
		add_result(results, NULL, "rejected", "invalid_record", "a record must be a JSON object");
		return 0;
	}
	id = json_str(rec, known_type(type) ? id_member(type) : "async_id");
	if (!known_type(type)) {
		if (!id)
			id = json_str(rec, "txn_id") ? json_str(rec, "txn_id") : json_str(rec, "update_id");
		add_result(results, id, "rejected", "invalid_record",
		           "type: must be customer, address, transaction, customer_update or address_update");
		return 0;
	}
	if (!id) {
		snprintf(err.message, sizeof(err.message), "%s: must be a string", id_member(type));
		add_result(results, NULL, "rejected", "invalid_record", err.message);
		return 0;
	}
	if ((!strcmp(type, "customer_update") || !strcmp(type, "address_update")) && api_legacy()) {
		add_result(results, id, "rejected", "invalid_record",
		           "type: must be customer, address or transaction (this HQ predates updates)");
		return 0;
	}
	if (!strcmp(type, "customer_update") || !strcmp(type, "address_update"))
		return upd_record(b, rec, type, id, bad_number, results);
	rc = held(type, id);
	if (rc > 0) {
		b->duplicates++;
		add_result(results, id, "duplicate", NULL, NULL);
		return 0;
	}
	if (rc == 0)
		rc = first_checks(rec, type, id, bad_number, results);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (strcmp(type, "customer") != 0) {
		rc = references(rec, !strcmp(type, "transaction"), &cust, &ad, &err);
		if (rc != 0)
			goto rejected;
	}
	if (fault_reject(b->path, type, id, &err)) {
		rc = 1;
		goto rejected;
	}
	if (!strcmp(type, "customer"))
		rc = put_customer(b, rec, id);
	else if (!strcmp(type, "address"))
		rc = put_address(b, rec, id, cust);
	else
		rc = put_transaction(b, rec, id, cust, &ad);
	if (rc == 0)
		add_result(results, id, "accepted", NULL, NULL);
rejected:
	if (rc > 0)
		add_result(results, id, "rejected", err.code, err.message);
	cJSON_Delete(ad.snapshot);
	return rc < 0 ? -1 : 0;
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
	snprintf(b->path, sizeof(b->path), "/v1/stores/%s/registers/%s/batches", store, reg);
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
			goto cleanup; /* nothing for a customer without account */
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
