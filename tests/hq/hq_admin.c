/*
 * hq_admin: the interface only tests use, under /_admin/ on HQ's own
 * (loopback-only) port. Every request needs the header X-Admin-Secret with
 * the content of DIR/admin.secret, else 403. Bodies and replies are JSON;
 * tests/hq/README.md documents each verb, tests/hq/admin calls them.
 */
#include "tests/hq/hq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_MAX 128

static char secret[SECRET_MAX];
static sqlite3_stmt *st_customers, *st_count_pending, *st_addr_ids, *st_txn_ids, *st_hq_cust,
	*st_cust_by_account, *st_cust_by_async, *st_addr_of, *st_upd_ids, *st_addr_list, *st_txn_rec,
	*st_cust_id;

/* admin_init: reads the secret (at least 16 characters) and prepares the
 * statements. Returns 0, or -1 with a message on stderr. */
int admin_init(const char *dir)
{
	char path[4096];
	FILE *f;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/admin.secret", dir);
	f = fopen(path, "r");
	if (!f || !fgets(secret, sizeof(secret), f)) {
		fprintf(stderr, "hq: %s: cannot read the admin secret\n", path);
		goto cleanup;
	}
	secret[strcspn(secret, "\r\n")] = '\0';
	if (strlen(secret) < 16) {
		fprintf(stderr, "hq: %s: the secret is too short\n", path);
		goto cleanup;
	}
	rc = 0;
cleanup:
	if (f)
		fclose(f);
	if (rc < 0)
		return -1;
	st_customers = db_prepare("SELECT async_id, local_number, account, store, register, version"
	                          " FROM customers ORDER BY id");
	st_upd_ids = db_prepare("SELECT update_id FROM updates ORDER BY rowid");
	st_addr_list = db_prepare("SELECT a.async_id, a.address_id, c.async_id, c.account,"
	                          " json_extract(a.record, '$.purpose'),"
	                          " json_extract(a.record, '$.primary') FROM addresses a"
	                          " JOIN customers c ON c.id = a.customer_id ORDER BY a.id");
	st_txn_rec = db_prepare("SELECT record, addresses FROM transactions WHERE txn_id = ?1");
	st_cust_id = db_prepare("SELECT id FROM customers WHERE account = ?1 OR async_id = ?1");
	st_count_pending = db_prepare("SELECT count(*) FROM customers WHERE account IS NULL");
	st_addr_ids = db_prepare("SELECT async_id FROM addresses ORDER BY id");
	st_txn_ids = db_prepare("SELECT txn_id FROM transactions ORDER BY id");
	st_hq_cust = db_prepare("INSERT INTO customers(store, record, accepted_ms, account)"
	                        " VALUES(?1, ?2, ?3, ?4)");
	st_cust_by_account = db_prepare("SELECT id, record, store, account FROM customers"
	                                " WHERE account = ?1");
	st_cust_by_async = db_prepare("SELECT id, record, store, account FROM customers"
	                              " WHERE async_id = ?1");
	st_addr_of = db_prepare("SELECT id, record FROM addresses WHERE customer_id = ?1"
	                        " AND (address_id = ?2 OR async_id = ?2)");
	return st_customers && st_upd_ids && st_addr_list && st_txn_rec && st_cust_id &&
	               st_count_pending && st_addr_ids && st_txn_ids && st_hq_cust &&
	               st_cust_by_account && st_cust_by_async && st_addr_of
	               ? 0
	               : -1;
}

/* secret_ok: compares without an early exit. */
static bool secret_ok(const char *given)
{
	size_t n = strlen(secret), m;
	unsigned char diff = 0;

	if (!given)
		return false;
	m = strlen(given);
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(secret[i] ^ (i < m ? given[i] : 0));
	return diff == 0 && m == n;
}

/* column_list: the first column of every row of st, as strings. */
static cJSON *column_list(sqlite3_stmt *st)
{
	cJSON *arr = cJSON_CreateArray();

	while (sqlite3_step(st) == SQLITE_ROW)
		cJSON_AddItemToArray(arr, cJSON_CreateString((const char *)sqlite3_column_text(st, 0)));
	db_done(st);
	return arr;
}

static const char *col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* address_list: [{"async_id", "address_id", "customer_async_id",
 * "account", "purpose", "primary"}] of every address, in acceptance order. */
static cJSON *address_list(void)
{
	cJSON *arr = cJSON_CreateArray();

	while (sqlite3_step(st_addr_list) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();
		json_add_str(o, "async_id", col(st_addr_list, 0));
		json_add_str(o, "address_id", col(st_addr_list, 1));
		json_add_str(o, "customer_async_id", col(st_addr_list, 2));
		json_add_str(o, "account", col(st_addr_list, 3));
		json_add_str(o, "purpose", col(st_addr_list, 4));
		cJSON_AddBoolToObject(o, "primary", sqlite3_column_int(st_addr_list, 5) == 1);
		cJSON_AddItemToArray(arr, o);
	}
	db_done(st_addr_list);
	return arr;
}

/* record: what HQ holds for body's "txn_id" ({"txn_id", "record",
 * "addresses": the addresses it names as they were at acceptance}) or
 * body's "account" / "async_id" (the customer as its `customer` change
 * shows it, account null when it has none); 404 when none. */
static void record(const cJSON *body, struct hq_reply *rp)
{
	const char *txn = json_str(body, "txn_id");
	const char *key = json_str(body, "account") ? json_str(body, "account")
	                                            : json_str(body, "async_id");
	char store[HQ_ID_MAX];
	cJSON *doc = NULL;
	sqlite3_stmt *st = txn ? st_txn_rec : st_cust_id;
	bool found;

	if (!txn && !key) {
		reply_error(rp, 400, "invalid_request", "txn_id, account or async_id is required");
		return;
	}
	db_lock();
	sqlite3_bind_text(st, 1, txn ? txn : key, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	if (found && txn) {
		doc = cJSON_CreateObject();
		json_add_str(doc, "txn_id", txn);
		cJSON_AddItemToObject(doc, "record", cJSON_Parse(col(st, 0)));
		cJSON_AddItemToObject(doc, "addresses",
		                      col(st, 1) ? cJSON_Parse(col(st, 1)) : cJSON_CreateNull());
	} else if (found) {
		int64_t id = sqlite3_column_int64(st, 0);
		db_done(st);
		feed_customer_doc(id, &doc, store);
	}
	db_done(st);
	db_unlock();
	if (doc)
		reply_json(rp, 200, doc);
	else
		reply_error(rp, 404, "not_found", "HQ holds no such record");
}

/* state: the document of README.md "state". */
static void state(struct hq_reply *rp)
{
	cJSON *doc = cJSON_CreateObject(), *custs = cJSON_AddArrayToObject(doc, "customers"), *a;
	char mode[32];

	db_lock();
	while (sqlite3_step(st_customers) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();
		json_add_str(o, "async_id", col(st_customers, 0));
		json_add_str(o, "local_number", col(st_customers, 1));
		json_add_str(o, "account", col(st_customers, 2));
		json_add_str(o, "store", col(st_customers, 3));
		json_add_str(o, "register", col(st_customers, 4));
		cJSON_AddNumberToObject(o, "version", (double)sqlite3_column_int64(st_customers, 5));
		cJSON_AddItemToArray(custs, o);
	}
	db_done(st_customers);
	cJSON_AddItemToObject(doc, "address_records", address_list());
	a = column_list(st_upd_ids);
	cJSON_AddNumberToObject(doc, "updates", cJSON_GetArraySize(a));
	cJSON_AddItemToObject(doc, "update_ids", a);
	if (sqlite3_step(st_count_pending) == SQLITE_ROW)
		cJSON_AddNumberToObject(doc, "pending_customers",
		                        (double)sqlite3_column_int64(st_count_pending, 0));
	db_done(st_count_pending);
	a = column_list(st_addr_ids);
	cJSON_AddNumberToObject(doc, "addresses", cJSON_GetArraySize(a));
	cJSON_AddItemToObject(doc, "address_ids", a);
	a = column_list(st_txn_ids);
	cJSON_AddNumberToObject(doc, "transactions", cJSON_GetArraySize(a));
	cJSON_AddItemToObject(doc, "txn_ids", a);
	cJSON_AddNumberToObject(doc, "records_received", (double)db_counter_get("records"));
	cJSON_AddNumberToObject(doc, "duplicates_seen", (double)db_counter_get("duplicates"));
	cJSON_AddItemToObject(doc, "statements", stmt_list());
	cJSON_AddNumberToObject(doc, "changes", (double)feed_count());
	db_unlock();
	cJSON_AddNumberToObject(doc, "long_polls_waiting", (double)feed_waiting());
	cJSON_AddItemToObject(doc, "requests", stats_json());
	cJSON_AddItemToObject(doc, "faults", fault_list());
	sync_mode_text(mode, sizeof(mode));
	json_add_str(doc, "assign", mode);
	cJSON_AddNumberToObject(doc, "clock_offset", (double)clock_offset());
	reply_json(rp, 200, doc);
}

/* assign: runs the synchronization job now, for every pending customer
 * or the first {"count": N}. Replies {"assigned": [{"async_id","account"}]}. */
static void assign(const cJSON *body, struct hq_reply *rp)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(body, "count");
	cJSON *doc = cJSON_CreateObject(), *done = cJSON_AddArrayToObject(doc, "assigned");
	long long max = -1;
	int n = -1;

	if (c && !cJSON_IsNull(c) && (!val_integer(c, &max) || max < 0)) {
		cJSON_Delete(doc);
		reply_error(rp, 400, "invalid_request", "count: a number of customers");
		return;
	}
	db_lock();
	if (db_begin() == 0) {
		n = sync_assign((long)max, -1, done);
		if (n < 0 || db_commit() < 0) {
			db_rollback();
			n = -1;
		}
	}
	db_unlock();
	if (n < 0) {
		cJSON_Delete(doc);
		reply_error(rp, 500, "internal_error", "the job failed");
		return;
	}
	if (n > 0)
		feed_notify();
	reply_json(rp, 200, doc);
}

/* find_existing: the customer named by body's "account" or "async_id":
 * 1 with *id, its record, store and account, 0 when body names none,
 * -1 (err set) when HQ holds no such customer. */
static int find_existing(const cJSON *body, int64_t *id, cJSON **rec, char st[HQ_ID_MAX],
                         char account[24], char *err, size_t n)
{
	const char *acct = json_str(body, "account"), *aid = json_str(body, "async_id");
	sqlite3_stmt *q = acct ? st_cust_by_account : st_cust_by_async;

	if (!acct && !aid)
		return 0;
	sqlite3_bind_text(q, 1, acct ? acct : aid, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_ROW) {
		db_done(q);
		snprintf(err, n, "no customer has %s %.60s", acct ? "account" : "async_id",
		         acct ? acct : aid);
		return -1;
	}
	*id = sqlite3_column_int64(q, 0);
	*rec = cJSON_Parse(col(q, 1));
	util_copy(st, HQ_ID_MAX, col(q, 2));
	util_copy(account, 24, col(q, 3) ? col(q, 3) : "");
	db_done(q);
	return *rec ? 1 : -1;
}

/* address_record: the members of an admin address entry a that its
 * record keeps (all but address_id and customer; async_id kept). */
static cJSON *address_record(const cJSON *a)
{
	cJSON *r = cJSON_Duplicate(a, true);

	cJSON_DeleteItemFromObjectCaseSensitive(r, "address_id");
	cJSON_DeleteItemFromObjectCaseSensitive(r, "customer");
	return r;
}

/* put_addresses: each entry of arr naming an address_id or async_id of
 * one of the customer's addresses changes it (members merged, null
 * clears); any other is a new address (async_id optional), which gets its
 * address id at once when the customer has an account. Returns 0 or -1. */
static int put_addresses(const cJSON *arr, int64_t id, const char *store, char *err, size_t n)
{
	const cJSON *a;

	cJSON_ArrayForEach(a, arr)
	{
		const char *key = json_str(a, "address_id") ? json_str(a, "address_id")
		                                            : json_str(a, "async_id");
		cJSON *rec = address_record(a), *before = NULL;
		int64_t row = 0;
		int rc = 0;

		if (!cJSON_IsObject(a) || !rec) {
			cJSON_Delete(rec);
			snprintf(err, n, "addresses: an array of objects");
			return -1;
		}
		sqlite3_bind_int64(st_addr_of, 1, id);
		sqlite3_bind_text(st_addr_of, 2, key ? key : "", -1, SQLITE_STATIC);
		if (key && sqlite3_step(st_addr_of) == SQLITE_ROW) {
			row = sqlite3_column_int64(st_addr_of, 0);
			before = cJSON_Parse(col(st_addr_of, 1));
		}
		db_done(st_addr_of);
		if (before) {
			cJSON *after = cJSON_Duplicate(before, true);
			cust_apply(after, rec);
			rc = cust_address_set(id, row, before, after);
			cJSON_Delete(after);
		} else if (json_str(a, "address_id")) {
			snprintf(err, n, "the customer has no address %.40s", json_str(a, "address_id"));
			rc = -1;
		} else if (cust_address_add(id, json_str(a, "async_id"), store, NULL, rec, NULL) < 0) {
			snprintf(err, n, "address: %s", sqlite3_errmsg(db_handle()));
			rc = -1;
		}
		cJSON_Delete(before);
		cJSON_Delete(rec);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* new_customer: a customer of body's "store" with the next account and
 * body's "customer" fields. Returns its row id, -1 with err. */
static int64_t new_customer(const cJSON *fields, const char *store, char account[24], char *err,
                            size_t n)
{
	char *text;
	int rc;

	if (!store || !cJSON_IsObject(fields)) {
		snprintf(err, n, "store and customer are required (or account or async_id)");
		return -1;
	}
	if (sync_next_account(account) < 0 || !(text = cJSON_PrintUnformatted(fields)))
		return -1;
	sqlite3_bind_text(st_hq_cust, 1, store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st_hq_cust, 2, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st_hq_cust, 3, clock_ms());
	sqlite3_bind_text(st_hq_cust, 4, account, -1, SQLITE_STATIC);
	rc = sqlite3_step(st_hq_cust);
	db_done(st_hq_cust);
	free(text);
	if (rc != SQLITE_DONE) {
		snprintf(err, n, "%s", sqlite3_errmsg(db_handle()));
		return -1;
	}
	return sqlite3_last_insert_rowid(db_handle());
}

/* customer_tx: the body of admin "customer" inside a transaction. With
 * "account" or "async_id": HQ staff change that customer: "customer"
 * fields merged into its record (null clears), "addresses" changed or
 * added, its version bumped. Else a customer of "store" is created with
 * the next account. Either way its `customer` change is published when
 * it has an account. Stored as given, unchecked (HQ is the authority). */
static int customer_tx(const cJSON *body, char account[24], char *err, size_t n)
{
	const cJSON *fields = cJSON_GetObjectItemCaseSensitive(body, "customer");
	const cJSON *addrs = cJSON_GetObjectItemCaseSensitive(body, "addresses");
	char st[HQ_ID_MAX];
	cJSON *rec = NULL;
	int64_t id = 0;
	int rc = -1, found;

	if ((fields && !cJSON_IsObject(fields)) || (addrs && !cJSON_IsArray(addrs))) {
		snprintf(err, n, "customer: an object; addresses: an array");
		return -1;
	}
	found = find_existing(body, &id, &rec, st, account, err, n);
	if (found < 0)
		goto cleanup;
	if (found) {
		cust_apply(rec, fields);
		if (cust_record_set(id, rec) < 0)
			goto cleanup;
	} else {
		util_copy(st, sizeof(st), json_str(body, "store") ? json_str(body, "store") : "");
		id = new_customer(fields, json_str(body, "store"), account, err, n);
		if (id < 0)
			goto cleanup;
	}
	if (put_addresses(addrs, id, st, err, n) < 0 || (found && cust_bump(id) < 0) ||
	    feed_publish_customer(id) < 0)
		goto cleanup;
	rc = 0;
cleanup:
	cJSON_Delete(rec);
	return rc;
}

static void customer(const cJSON *body, struct hq_reply *rp)
{
	char account[24] = "", err[256] = "the customer could not be stored";
	cJSON *doc;
	int rc = -1;

	db_lock();
	if (db_begin() == 0) {
		rc = customer_tx(body, account, err, sizeof(err));
		if (rc < 0 || db_commit() < 0) {
			db_rollback();
			rc = -1;
		}
	}
	db_unlock();
	if (rc < 0) {
		reply_error(rp, 400, "invalid_request", "%s", err);
		return;
	}
	feed_notify();
	doc = cJSON_CreateObject();
	json_add_str(doc, "account", account[0] ? account : NULL);
	reply_json(rp, 200, doc);
}

static void revoke_token(const cJSON *body, bool on, struct hq_reply *rp)
{
	const char *store = json_str(body, "store"), *reg = json_str(body, "register");
	cJSON *doc;
	int n;

	if (!store || !reg) {
		reply_error(rp, 400, "invalid_request", "store and register are required");
		return;
	}
	n = auth_revoke(store, reg, on);
	if (n < 0) {
		reply_error(rp, 500, "internal_error", "database error");
		return;
	}
	doc = cJSON_CreateObject();
	cJSON_AddNumberToObject(doc, on ? "revoked" : "restored", n);
	reply_json(rp, 200, doc);
}

static void set_clock(const cJSON *body, struct hq_reply *rp)
{
	long long off;
	cJSON *doc;

	if (!val_integer(cJSON_GetObjectItemCaseSensitive(body, "offset"), &off) ||
	    off < -100000000LL || off > 100000000LL) {
		reply_error(rp, 400, "invalid_request", "offset: seconds");
		return;
	}
	clock_set_offset((long)off);
	doc = cJSON_CreateObject();
	cJSON_AddNumberToObject(doc, "offset", (double)off);
	reply_json(rp, 200, doc);
}

static void set_mode(const cJSON *body, struct hq_reply *rp)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(body, "assign");
	enum assign_mode mode;
	char text[32];
	long ms;
	cJSON *doc;

	if (cJSON_IsNumber(m))
		snprintf(text, sizeof(text), "%.0f", m->valuedouble);
	else
		util_copy(text, sizeof(text), cJSON_IsString(m) ? m->valuestring : "");
	if (sync_parse_mode(text, &mode, &ms) < 0) {
		reply_error(rp, 400, "invalid_request", "assign: immediate, manual or milliseconds");
		return;
	}
	sync_set_mode(mode, ms);
	sync_mode_text(text, sizeof(text));
	doc = cJSON_CreateObject();
	json_add_str(doc, "assign", text);
	reply_json(rp, 200, doc);
}

static bool is_post_verb(const char *verb)
{
	static const char *const verbs[] = {"fault", "reset-faults", "reset-stats", "assign", "revoke",
	                                    "unrevoke", "clock", "mode", "customer", "record"};

	for (size_t i = 0; i < sizeof(verbs) / sizeof(*verbs); i++)
		if (!strcmp(verb, verbs[i]))
			return true;
	return false;
}

/* admin_handle: checks the secret and dispatches on the verb. */
void admin_handle(const struct hq_request *rq, struct hq_reply *rp)
{
	const char *verb = rq->path + strlen("/_admin/");
	cJSON *body = NULL, *doc;
	char err[256];

	if (!secret_ok(http_header(rq, "X-Admin-Secret"))) {
		reply_error(rp, 403, "forbidden", "X-Admin-Secret is missing or wrong");
		return;
	}
	if (rq->len > 0) {
		body = cJSON_ParseWithLength(rq->body, rq->len);
		if (!cJSON_IsObject(body)) {
			reply_error(rp, 400, "invalid_request", "the body must be a JSON object");
			goto cleanup;
		}
	} else {
		body = cJSON_CreateObject();
	}
	if (!strcmp(verb, "state") || !strcmp(verb, "faults")) {
		if (!strcmp(verb, "state")) {
			state(rp);
		} else {
			doc = cJSON_CreateObject();
			cJSON_AddItemToObject(doc, "faults", fault_list());
			reply_json(rp, 200, doc);
		}
		goto cleanup;
	}
	if (!is_post_verb(verb)) {
		reply_error(rp, 404, "not_found", "no admin verb %s", verb);
		goto cleanup;
	}
	if (strcmp(rq->method, "POST") != 0) {
		reply_error(rp, 405, "method_not_allowed", "POST /_admin/%s", verb);
		util_copy(rp->allow, sizeof(rp->allow), "POST");
	} else if (!strcmp(verb, "fault")) {
		if (fault_add(body, err, sizeof(err)) < 0) {
			reply_error(rp, 400, "invalid_request", "%s", err);
		} else {
			doc = cJSON_CreateObject();
			cJSON_AddItemToObject(doc, "faults", fault_list());
			reply_json(rp, 200, doc);
		}
	} else if (!strcmp(verb, "reset-faults")) {
		doc = cJSON_CreateObject();
		cJSON_AddNumberToObject(doc, "cleared", fault_clear());
		reply_json(rp, 200, doc);
	} else if (!strcmp(verb, "reset-stats")) {
		doc = cJSON_CreateObject();
		cJSON_AddNumberToObject(doc, "cleared", stats_free());
		reply_json(rp, 200, doc);
	} else if (!strcmp(verb, "assign")) {
		assign(body, rp);
	} else if (!strcmp(verb, "revoke") || !strcmp(verb, "unrevoke")) {
		revoke_token(body, verb[0] == 'r', rp);
	} else if (!strcmp(verb, "clock")) {
		set_clock(body, rp);
	} else if (!strcmp(verb, "mode")) {
		set_mode(body, rp);
	} else if (!strcmp(verb, "record")) {
		record(body, rp);
	} else {
		customer(body, rp);
	}
cleanup:
	cJSON_Delete(body);
}
