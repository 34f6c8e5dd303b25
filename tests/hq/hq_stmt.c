/*
 * hq_stmt: POST /v1/stores/{store}/registers/{register}/statements, the
 * end-of-day posting. Checked in this order, inside the caller's
 * transaction:
 *   400 invalid_request      a member missing or of the wrong type, or a
 *                            number not written as plain digits;
 *   201 (original posting)   statement_id already posted by this register;
 *   422 statement_id_reused  statement_id posted by another register;
 *   409 already_posted       another statement of this register and date
 *                            (member statement_id: the posted one);
 *   409 unknown_transactions listed ids HQ does not hold for this register
 *                            and date (member txn_ids);
 *   409 unsynced_references  listed transactions name a customer with no
 *                            account or an address with no address id
 *                            yet (members customers, addresses: async ids);
 *   422 totals_mismatch      the list is not every transaction HQ holds for
 *                            the register and date exactly once, or the
 *                            count, sales or per-tender sums (or currency)
 *                            differ (member expected: HQ's figures);
 *   201 posted               posting_id P000001 upwards.
 */
#include "tests/hq/hq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tender_sum {
	char type[40];
	long long sum;
};

struct sums {
	long long sales;
	struct tender_sum *tenders;
	size_t ntenders;
	bool currency_differs;
};

static sqlite3_stmt *st_by_id, *st_by_day, *st_txn, *st_day_count, *st_put, *st_list;

int stmt_init(void)
{
	st_by_id = db_prepare("SELECT store, register, posting_id FROM statements WHERE statement_id = ?1");
	st_by_day = db_prepare("SELECT statement_id FROM statements WHERE store = ?1 AND register = ?2"
	                       " AND business_date = ?3");
	st_txn = db_prepare("SELECT c.account, c.async_id, t.customer_id, t.record,"
	                    " d.address_id, d.async_id, i.address_id, i.async_id FROM transactions t"
	                    " LEFT JOIN customers c ON c.id = t.customer_id"
	                    " LEFT JOIN addresses d ON d.id = t.delivery_id"
	                    " LEFT JOIN addresses i ON i.id = t.invoice_id WHERE t.txn_id = ?1"
	                    " AND t.store = ?2 AND t.register = ?3 AND t.business_date = ?4");
	st_day_count = db_prepare("SELECT count(*) FROM transactions WHERE store = ?1 AND register = ?2"
	                          " AND business_date = ?3");
	st_put = db_prepare("INSERT INTO statements(statement_id, store, register, business_date,"
	                    " posting_id, transaction_count, sales_minor) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	st_list = db_prepare("SELECT store, register, business_date, statement_id, posting_id,"
	                     " transaction_count, sales_minor FROM statements ORDER BY id");
	return st_by_id && st_by_day && st_txn && st_day_count && st_put && st_list ? 0 : -1;
}

/* add_tender: sums[type] += amount. Returns 0 or -1 (out of memory). */
static int add_tender(struct sums *s, const char *type, long long amount)
{
	struct tender_sum *t;
	size_t i;

	for (i = 0; i < s->ntenders; i++)
		if (!strcmp(s->tenders[i].type, type)) {
			s->tenders[i].sum += amount;
			return 0;
		}
	t = realloc(s->tenders, (s->ntenders + 1) * sizeof(*t));
	if (!t)
		return -1;
	s->tenders = t;
	util_copy(t[s->ntenders].type, sizeof(t->type), type);
	t[s->ntenders++].sum = amount;
	return 0;
}

/* add_txn: adds the stored transaction record to the sums. */
static int add_txn(struct sums *s, const char *record, const char *currency)
{
	cJSON *rec = cJSON_Parse(record), *t;
	long long v;
	int rc = -1;

	if (!rec)
		return -1;
	if (val_integer(cJSON_GetObjectItemCaseSensitive(rec, "total_minor"), &v))
		s->sales += v;
	if (!json_str(rec, "currency") || strcmp(json_str(rec, "currency"), currency) != 0)
		s->currency_differs = true;
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(rec, "tenders"))
	{
		const char *type = json_str(t, "type");
		if (type && val_integer(cJSON_GetObjectItemCaseSensitive(t, "amount_minor"), &v) &&
		    add_tender(s, type, v) < 0)
			goto cleanup;
	}
	rc = 0;
cleanup:
	cJSON_Delete(rec);
	return rc;
}

/* tenders_equal: the stated by_tender against HQ's sums; a type missing on
 * one side counts as 0 there. */
static bool tenders_equal(const cJSON *by_tender, const struct sums *s)
{
	const cJSON *m;

	for (size_t i = 0; i < s->ntenders; i++) {
		long long v = 0;
		m = cJSON_GetObjectItemCaseSensitive(by_tender, s->tenders[i].type);
		if (m && !val_integer(m, &v))
			return false;
		if (v != s->tenders[i].sum)
			return false;
	}
	cJSON_ArrayForEach(m, by_tender)
	{
		long long v = 0;
		size_t i;
		for (i = 0; i < s->ntenders && strcmp(s->tenders[i].type, m->string); i++)
			;
		if (i == s->ntenders && (!val_integer(m, &v) || v != 0))
			return false;
	}
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* has_repeats: whether the n strings hold one twice (sorts ids). */
static bool has_repeats(const char **ids, size_t n)
{
	qsort(ids, n, sizeof(*ids), cmp_str);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(ids[i - 1], ids[i]))
			return true;
	return false;
}

/* check_body: the members of a statement; NULL when well formed, else
 * the message for 400. */
static const char *check_body(const cJSON *doc, const char *body, size_t len)
{
	const cJSON *txns = cJSON_GetObjectItemCaseSensitive(doc, "transactions"), *m;
	const cJSON *totals = cJSON_GetObjectItemCaseSensitive(doc, "totals"), *by;
	const char *cur = json_str(doc, "currency");

	if (!cJSON_IsObject(doc))
		return "the body is not a JSON object";
	if (!json_str(doc, "statement_id") || !val_uuid(json_str(doc, "statement_id")))
		return "statement_id: a UUID string is required";
	if (!json_str(doc, "business_date") || !val_date(json_str(doc, "business_date")))
		return "business_date: a date YYYY-MM-DD is required";
	if (!cur || strlen(cur) != 3 || strspn(cur, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3)
		return "currency: three capital letters are required";
	if (!val_integer(cJSON_GetObjectItemCaseSensitive(doc, "transaction_count"), NULL))
		return "transaction_count: an integer is required";
	if (!cJSON_IsArray(txns))
		return "transactions: an array of txn_id strings is required";
	cJSON_ArrayForEach(m, txns) if (!cJSON_IsString(m)) return "transactions: an array of txn_id strings is required";
	if (!cJSON_IsObject(totals) ||
	    !val_integer(cJSON_GetObjectItemCaseSensitive(totals, "sales_minor"), NULL))
		return "totals.sales_minor: an integer is required";
	by = cJSON_GetObjectItemCaseSensitive(totals, "by_tender");
	if (!cJSON_IsObject(by))
		return "totals.by_tender: an object is required";
	cJSON_ArrayForEach(m, by) if (!val_integer(m, NULL)) return "totals.by_tender: integer amounts are required";
	if (!val_json_plain_numbers(body, len))
		return "numbers must be integers written as plain digits";
	return NULL;
}

/* expected_doc: {"transaction_count", "sales_minor", "by_tender"} of HQ. */
static cJSON *expected_doc(long long count, const struct sums *s)
{
	cJSON *x = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(x, "expected"), *by;

	cJSON_AddNumberToObject(e, "transaction_count", (double)count);
	cJSON_AddNumberToObject(e, "sales_minor", (double)s->sales);
	by = cJSON_AddObjectToObject(e, "by_tender");
	for (size_t i = 0; i < s->ntenders; i++)
		cJSON_AddNumberToObject(by, s->tenders[i].type, (double)s->tenders[i].sum);
	return x;
}

static void bind_day(sqlite3_stmt *st, int first, const char *store, const char *reg,
                     const char *date)
{
	sqlite3_bind_text(st, first, store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, first + 1, reg, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, first + 2, date, -1, SQLITE_STATIC);
}

/* posted_reply: 201 {"statement_id", "posting_id"}. */
static int posted_reply(struct hq_reply *rp, const char *sid, const char *posting)
{
	cJSON *doc = cJSON_CreateObject();

	json_add_str(doc, "statement_id", sid);
	json_add_str(doc, "posting_id", posting);
	return reply_json(rp, 201, doc);
}

/* add_once: appends string s to arr unless it is there already. */
static void add_once(cJSON *arr, const char *s)
{
	const cJSON *u;

	cJSON_ArrayForEach(u, arr)
	{
		if (!strcmp(u->valuestring, s))
			return;
	}
	cJSON_AddItemToArray(arr, cJSON_CreateString(s));
}

/* unsynced_row: adds the current st_txn row's customer without account
 * to customers and its addresses without address id to addresses. */
static void unsynced_row(cJSON *customers, cJSON *addresses)
{
	if (sqlite3_column_type(st_txn, 2) != SQLITE_NULL &&
	    sqlite3_column_type(st_txn, 0) == SQLITE_NULL)
		add_once(customers, (const char *)sqlite3_column_text(st_txn, 1));
	for (int c = 4; c <= 6; c += 2)
		if (sqlite3_column_type(st_txn, c) == SQLITE_NULL &&
		    sqlite3_column_type(st_txn, c + 1) != SQLITE_NULL)
			add_once(addresses, (const char *)sqlite3_column_text(st_txn, c + 1));
}

/* check_listed: looks every listed txn up: unknown ones go to unknown,
 * the async ids of customers without account and addresses without
 * address id they name to unsynced's "customers" and "addresses" (once
 * each), the known ones into *s. Returns 0 or -1. */
static int check_listed(const cJSON *txns, const char *store, const char *reg, const char *date,
                        const char *currency, cJSON *unknown, cJSON *unsynced, struct sums *s)
{
	cJSON *customers = cJSON_GetObjectItemCaseSensitive(unsynced, "customers");
	cJSON *addresses = cJSON_GetObjectItemCaseSensitive(unsynced, "addresses");

	const cJSON *m;

	cJSON_ArrayForEach(m, txns)
	{
		int rc;

		sqlite3_bind_text(st_txn, 1, m->valuestring, -1, SQLITE_STATIC);
		bind_day(st_txn, 2, store, reg, date);
		rc = sqlite3_step(st_txn);
		if (rc == SQLITE_DONE) {
			add_once(unknown, m->valuestring);
		} else if (rc == SQLITE_ROW) {
			unsynced_row(customers, addresses);
			if (add_txn(s, (const char *)sqlite3_column_text(st_txn, 3), currency) < 0)
				rc = SQLITE_ERROR;
		}
		db_done(st_txn);
		if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
			db_log_error("statement transactions");
			return -1;
		}
	}
	return 0;
}

/* stmt_post: see the head of this file. */
int stmt_post(const char *store, const char *reg, const char *body, size_t len,
              struct hq_reply *rp)
{
	cJSON *doc = cJSON_ParseWithLength(body, len), *unknown = NULL, *unsynced = NULL, *x;
	struct sums s = {0};
	const char *sid, *date, *currency, *why, **ids = NULL;
	const cJSON *txns, *totals;
	long long count, day_count = 0, sales;
	char posting[24];
	int64_t pnum;
	int n, rc = -1;

	why = check_body(doc, body, len);
	if (why) {
		rc = reply_error(rp, 400, "invalid_request", "%s", why);
		goto cleanup;
	}
	sid = json_str(doc, "statement_id");
	date = json_str(doc, "business_date");
	currency = json_str(doc, "currency");
	txns = cJSON_GetObjectItemCaseSensitive(doc, "transactions");
	totals = cJSON_GetObjectItemCaseSensitive(doc, "totals");
	val_integer(cJSON_GetObjectItemCaseSensitive(doc, "transaction_count"), &count);
	val_integer(cJSON_GetObjectItemCaseSensitive(totals, "sales_minor"), &sales);

	sqlite3_bind_text(st_by_id, 1, sid, -1, SQLITE_STATIC);
	if (sqlite3_step(st_by_id) == SQLITE_ROW) {
		if (!strcmp((const char *)sqlite3_column_text(st_by_id, 0), store) &&
		    !strcmp((const char *)sqlite3_column_text(st_by_id, 1), reg))
			rc = posted_reply(rp, sid, (const char *)sqlite3_column_text(st_by_id, 2));
		else
			rc = reply_error(rp, 422, "statement_id_reused",
			                 "statement_id %s was posted by another register", sid);
		db_done(st_by_id);
		goto cleanup;
	}
	db_done(st_by_id);

	bind_day(st_by_day, 1, store, reg, date);
	if (sqlite3_step(st_by_day) == SQLITE_ROW) {
		x = cJSON_CreateObject();
		json_add_str(x, "statement_id", (const char *)sqlite3_column_text(st_by_day, 0));
		rc = reply_error_x(rp, 409, "already_posted", x,
		                   "the statement of %s/%s for %s was posted under another id", store,
		                   reg, date);
		db_done(st_by_day);
		goto cleanup;
	}
	db_done(st_by_day);

	unknown = cJSON_CreateArray();
	unsynced = cJSON_CreateObject();
	if (!unknown || !unsynced || !cJSON_AddArrayToObject(unsynced, "customers") ||
	    !cJSON_AddArrayToObject(unsynced, "addresses") ||
	    check_listed(txns, store, reg, date, currency, unknown, unsynced, &s) < 0)
		goto cleanup;
	if (cJSON_GetArraySize(unknown) > 0) {
		x = cJSON_CreateObject();
		cJSON_AddItemToObject(x, "txn_ids", unknown);
		unknown = NULL;
		rc = reply_error_x(rp, 409, "unknown_transactions", x,
		                   "HQ does not hold some listed transactions of %s/%s for %s", store,
		                   reg, date);
		goto cleanup;
	}
	if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(unsynced, "customers")) > 0 ||
	    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(unsynced, "addresses")) > 0) {
		rc = reply_error_x(rp, 409, "unsynced_references", unsynced,
		                   "some customers or addresses of the listed transactions have no"
		                   " account or address id yet");
		unsynced = NULL;
		goto cleanup;
	}

	bind_day(st_day_count, 1, store, reg, date);
	if (sqlite3_step(st_day_count) == SQLITE_ROW)
		day_count = sqlite3_column_int64(st_day_count, 0);
	db_done(st_day_count);
	n = cJSON_GetArraySize(txns);
	ids = calloc((size_t)n + 1, sizeof(*ids));
	if (!ids)
		goto cleanup;
	n = 0;
	cJSON_ArrayForEach(x, txns) ids[n++] = x->valuestring;
	why = has_repeats(ids, (size_t)n)          ? "transactions: an id is listed twice"
	      : day_count != n                      ? "transactions: not every transaction HQ holds for that date"
	      : count != n                          ? "transaction_count: not the number of transactions"
	      : sales != s.sales                    ? "totals.sales_minor: not the sum of total_minor"
	      : !tenders_equal(cJSON_GetObjectItemCaseSensitive(totals, "by_tender"), &s)
	                                            ? "totals.by_tender: not the sums per tender type"
	      : s.currency_differs                  ? "currency: not the currency of the transactions"
	                                            : NULL;
	if (why) {
		rc = reply_error_x(rp, 422, "totals_mismatch", expected_doc(day_count, &s), "%s", why);
		goto cleanup;
	}

	pnum = db_counter_add("posting", 1);
	if (pnum < 0)
		goto cleanup;
	snprintf(posting, sizeof(posting), "P%06lld", (long long)pnum);
	sqlite3_bind_text(st_put, 1, sid, -1, SQLITE_STATIC);
	bind_day(st_put, 2, store, reg, date);
	sqlite3_bind_text(st_put, 5, posting, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st_put, 6, count);
	sqlite3_bind_int64(st_put, 7, sales);
	n = sqlite3_step(st_put);
	db_done(st_put);
	if (n != SQLITE_DONE) {
		db_log_error("statement");
		goto cleanup;
	}
	rc = posted_reply(rp, sid, posting);
cleanup:
	free(ids);
	free(s.tenders);
	cJSON_Delete(unknown);
	cJSON_Delete(unsynced);
	cJSON_Delete(doc);
	return rc;
}

/* stmt_list: every posted statement, oldest first (admin state). */
cJSON *stmt_list(void)
{
	cJSON *arr = cJSON_CreateArray();

	while (sqlite3_step(st_list) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();
		json_add_str(o, "store", (const char *)sqlite3_column_text(st_list, 0));
		json_add_str(o, "register", (const char *)sqlite3_column_text(st_list, 1));
		json_add_str(o, "business_date", (const char *)sqlite3_column_text(st_list, 2));
		json_add_str(o, "statement_id", (const char *)sqlite3_column_text(st_list, 3));
		json_add_str(o, "posting_id", (const char *)sqlite3_column_text(st_list, 4));
		cJSON_AddNumberToObject(o, "transaction_count", (double)sqlite3_column_int64(st_list, 5));
		cJSON_AddNumberToObject(o, "sales_minor", (double)sqlite3_column_int64(st_list, 6));
		cJSON_AddItemToArray(arr, o);
	}
	db_done(st_list);
	return arr;
}
