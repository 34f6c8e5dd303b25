/*
 * bt_retain: a simulated year at one register, for `make bench` (issue 16).
 * Usage: bt_retain DB KEEP_DAYS DAYS PER_DAY
 * DB is a database made by `posagent init` (customers 1..N already in it,
 * synced). For each day: PER_DAY sales uploaded to HQ, with their tenders,
 * and the day's posted statement (its body the list of its sales, as eod
 * freezes it); then the service's retention as it would run that evening
 * (ret_apply with the simulated time). Prints, tab-separated: the largest
 * database over the year (bytes, page_count * page_size after retention),
 * the final size, and the transactions left.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/retain.h"
#include "common/store.h"

/* The day's rows, the shapes txn_record() and eod write (see datagen.sh). */
static const char *const day_sql[] = {
	("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?2),"
	 " g(i, qty, price, tt) AS (SELECT i, 1 + i % 3, 100 + (i * 37) % 5000,"
	 " CASE i % 3 WHEN 0 THEN 'cash' WHEN 1 THEN 'card' ELSE 'voucher' END FROM n)"
	 " INSERT INTO txn(txn_id, kind, business_date, customer_id, total_minor, body, state, waiting_since, updated_at)"
	 " SELECT printf('S0001-R01-%s-%04d', replace(?1, '-', ''), i), 'cash_and_carry', ?1,"
	 " CASE WHEN i % 5 = 0 THEN NULL ELSE 1 + (i * 7919 + ?3) % ?4 END, qty * price,"
	 " '{\"type\":\"transaction\",\"txn_id\":\"' || printf('S0001-R01-%s-%04d', replace(?1, '-', ''), i)"
	 " || '\",\"kind\":\"cash_and_carry\",\"business_date\":\"' || ?1 || '\",\"created_at\":\"' || ?1"
	 " || 'T10:00:00Z\",\"currency\":\"EUR\",\"lines\":[{\"sku\":\"SKU-' || (i % 5000) || '\",\"qty\":' || qty"
	 " || ',\"unit_price_minor\":' || price || '}],\"tenders\":[{\"type\":\"' || tt || '\",\"amount_minor\":'"
	 " || (qty * price) || '}],\"total_minor\":' || (qty * price) || '}',"
	 " 'uploaded', NULL, unixepoch() FROM g"),
	("INSERT INTO tender(txn, type, amount_minor) SELECT id, json_extract(body, '$.tenders[0].type'), total_minor"
	 " FROM txn WHERE business_date = ?1"),
	("INSERT INTO statement(business_date, statement_id, idem_key, body, state, posting_id, frozen_at, posted_at)"
	 " SELECT ?1, 'st-' || ?1, 'key-' || ?1, json_object('business_date', ?1, 'transaction_count', count(*),"
	 " 'totals', json_object('sales_minor', sum(total_minor)), 'transactions', json_group_array(txn_id)),"
	 " 'posted', 'P-' || ?1, unixepoch(), unixepoch() FROM txn WHERE business_date = ?1"),
};

/* Writes one simulated day's rows in one transaction. */
static int add_day(struct store *st, const char *date, int per_day, int day, int64_t customers)
{
	struct pa_err e;
	int rc = store_begin(st, true, &e);

	for (size_t i = 0; !rc && i < sizeof(day_sql) / sizeof(day_sql[0]); i++) {
		sqlite3_stmt *q = store_prepare(st, day_sql[i], &e);
		if (!q)
			return e.status;
		store_bind_text(q, 1, date);
		if (sqlite3_bind_parameter_count(q) >= 2) {
			sqlite3_bind_int(q, 2, per_day);
			sqlite3_bind_int(q, 3, day);
			sqlite3_bind_int64(q, 4, customers);
		}
		if (sqlite3_step(q) != SQLITE_DONE)
			rc = store_fail(st, &e, date);
		sqlite3_finalize(q);
	}
	if (rc) {
		fprintf(stderr, "bt_retain: %s\n", e.message);
		store_rollback(st);
		return rc;
	}
	return store_commit(st, &e);
}

int main(int argc, char **argv)
{
	struct store *st = NULL;
	struct pa_err e;
	struct ret_plan done;
	int64_t size, free_bytes, largest = 0, customers = 0, left = 0;
	int av, rc = 1, days, per_day;
	long keep;
	time_t t0 = 1764547200; /* 2025-12-01T00:00:00Z: the first simulated day */

	if (argc != 5) {
		fprintf(stderr, "usage: bt_retain DB KEEP_DAYS DAYS PER_DAY\n");
		return 64;
	}
	keep = strtol(argv[2], NULL, 10);
	days = (int)strtol(argv[3], NULL, 10);
	per_day = (int)strtol(argv[4], NULL, 10);
	if (keep < 0 || days < 1 || days > 3660 || per_day < 1 || per_day > 9999) {
		fprintf(stderr, "bt_retain: KEEP_DAYS >= 0, DAYS 1..3660, PER_DAY 1..9999\n");
		return 64;
	}
	if (store_open(argv[1], false, &st, &e) ||
	    store_query_i(st, "SELECT count(*) FROM customer", 0, 0, 0, &customers, &e)) {
		fprintf(stderr, "bt_retain: %s\n", e.message);
		goto cleanup;
	}
	for (int d = 0; d < days; d++) {
		time_t day = t0 + (time_t)d * 86400;
		char date[11];
		struct tm tm;
		gmtime_r(&day, &tm);
		strftime(date, sizeof(date), "%Y-%m-%d", &tm);
		if (add_day(st, date, per_day, d, customers ? customers : 1))
			goto cleanup;
		/* That evening (22:00) the service's hourly retention runs. */
		if (ret_apply(st, keep, day + 22 * 3600, NULL, &done, &e) ||
		    ret_db_size(st, &size, &free_bytes, &av, &e)) {
			fprintf(stderr, "bt_retain: %s\n", e.message);
			goto cleanup;
		}
		if (size > largest)
			largest = size;
	}
	if (store_query_i(st, "SELECT count(*) FROM txn", 0, 0, 0, &left, &e)) {
		fprintf(stderr, "bt_retain: %s\n", e.message);
		goto cleanup;
	}
	printf("%lld\t%lld\t%lld\n", (long long)largest, (long long)size, (long long)left);
	rc = 0;
cleanup:
	store_close(st);
	return rc;
}
