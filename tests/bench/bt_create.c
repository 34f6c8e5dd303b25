/*
 * bt_create: creates customers in one process, through the store module
 * or through plain SQLite, and says how fast (benchmark item 2), or fills
 * a database through the real code (item 8, footprint).
 *
 *   bt_create agent DB N TAG   N x cust_create() (common/customer.c): the
 *                              store module as the CLI uses it, each create
 *                              its own durable commit (WAL, synchronous=FULL,
 *                              as store_open sets them)
 *   bt_create ref DB N TAG     the reference: one prepared INSERT of the
 *                              same row (every column cust_create fills,
 *                              values of the same shape), stepped N times in
 *                              autocommit on a connection with the same
 *                              pragmas (store_open's: WAL, synchronous=FULL,
 *                              foreign keys, a 1 MiB page cache): each
 *                              insert its own durable commit
 *   bt_create fill DB NCUST TXNS DATE
 *                              NCUST x cust_create() and TXNS x txn_record()
 *                              per customer, the real code, on a connection
 *                              with synchronous=OFF (only the bytes the rows
 *                              take are measured, not their speed)
 *
 * agent and ref print "N SECONDS PER_SECOND"; fill prints "NCUST NTXN SECONDS".
 * TAG keeps the emails and (ref) local numbers of each run distinct.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/customer.h"
#include "common/store.h"
#include "common/txn.h"
#include "common/util.h"

static const char *const first[] = {"Ana", "João", "Maria", "Pedro", "Inês", "Tiago", "Sofia", "Rui"};
static const char *const last[] = {"Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Costa", "Martins"};

/* The customer of run tag, number i: the same fields for agent and ref.
 * The phone mixes in the tag, so that runs do not repeat each other's
 * phones: a register's new customer seldom has a duplicate, and with
 * repeated phones every create of the ninth run had 16 or more to read
 * back (cust_create's possible_duplicates). */
static void fields(const char *tag, long i, const char **fn, const char **ln, char *email, size_t ne, char *phone,
                   size_t np, char *digits, size_t nd)
{
	unsigned long t = 5381, h;

	for (const char *p = tag; *p; p++)
		t = t * 33 + (unsigned char)*p;
	h = ((unsigned long)i * 2654435761UL + t * 40503UL) % 100000000UL;

	*fn = first[i % 8];
	*ln = last[i % 7];
	snprintf(email, ne, "bench.%s.%ld@example.com", tag, i);
	snprintf(phone, np, "+351 9%02lu %03lu %03lu", h / 1000000, h / 1000 % 1000, h % 1000);
	snprintf(digits, nd, "3519%08lu", h);
}

static int agent(const char *path, long n, const char *tag)
{
	struct store *st = NULL;
	struct pa_err e;
	char email[128], phone[40], digits[40];
	const char *fn, *ln;
	double t0, t1;

	memset(&e, 0, sizeof(e));
	if (store_open(path, false, &st, &e)) {
		fprintf(stderr, "bt_create: %s\n", e.message);
		return 1;
	}
	store_identity(st, "S0001", "R01", "EUR");
	t0 = util_mono();
	for (long i = 0; i < n; i++) {
		cJSON *rec = cJSON_CreateObject(), *out = NULL;
		bool created = false;
		fields(tag, i, &fn, &ln, email, sizeof(email), phone, sizeof(phone), digits, sizeof(digits));
		cJSON_AddStringToObject(rec, "first_name", fn);
		cJSON_AddStringToObject(rec, "last_name", ln);
		cJSON_AddStringToObject(rec, "email", email);
		cJSON_AddStringToObject(rec, "phone", phone);
		if (cust_create(st, rec, false, &out, &created, &e) || !created) {
			fprintf(stderr, "bt_create: cust_create: %s\n", e.message);
			return 1;
		}
		cJSON_Delete(rec);
		cJSON_Delete(out);
	}
	t1 = util_mono();
	store_close(st);
	printf("%ld %.6f %.1f\n", n, t1 - t0, (double)n / (t1 - t0));
	return 0;
}

static int ref(const char *path, long n, const char *tag)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	char id[UUID_LEN + 1], local[64], email[128], phone[40], digits[40], sname[64], now[21];
	const char *fn, *ln;
	double t0, t1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(db, 15000);
	if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
	                 " PRAGMA cache_size=-1024", NULL, NULL,
	                 NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
	                       "INSERT INTO customer(async_id, local_number, kind, first_name, last_name,"
	                       " organization_name, email, phone, language, attributes, search_name, phone_digits,"
	                       " origin, state, created_at, waiting_since, updated_at)"
	                       " VALUES (?1, ?2, 'person', ?3, ?4, NULL, ?5, ?6, NULL, '{}', ?7, ?8, 'local',"
	                       " 'pending', ?9, unixepoch(), unixepoch())",
	                       -1, &s, NULL) != SQLITE_OK)
		goto fail;
	t0 = util_mono();
	for (long i = 0; i < n; i++) {
		fields(tag, i, &fn, &ln, email, sizeof(email), phone, sizeof(phone), digits, sizeof(digits));
		if (util_uuid(id))
			goto fail;
		snprintf(local, sizeof(local), "R01-R%s-%06ld", tag, i);
		snprintf(sname, sizeof(sname), "%s %s", fn, ln);
		util_rfc3339(time(NULL), now);
		sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, local, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, fn, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, ln, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, email, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 6, phone, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 7, sname, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 8, digits, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 9, now, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			goto fail;
		sqlite3_reset(s);
	}
	t1 = util_mono();
	sqlite3_finalize(s);
	sqlite3_close(db);
	printf("%ld %.6f %.1f\n", n, t1 - t0, (double)n / (t1 - t0));
	return 0;
fail:
	fprintf(stderr, "bt_create: ref: %s\n", db ? sqlite3_errmsg(db) : "cannot open");
	return 1;
}

static int fill(const char *path, long ncust, long per, const char *date)
{
	struct store *st = NULL;
	struct pa_err e;
	char email[128], phone[40], digits[40], tag[8] = "f", json[1024];
	const char *fn, *ln;
	long ntxn = 0;
	double t0 = util_mono();

	memset(&e, 0, sizeof(e));
	if (store_open(path, false, &st, &e)) {
		fprintf(stderr, "bt_create: %s\n", e.message);
		return 1;
	}
	store_identity(st, "S0001", "R01", "EUR");
	sqlite3_exec(st->db, "PRAGMA synchronous=OFF", NULL, NULL, NULL);
	for (long i = 0; i < ncust; i++) {
		cJSON *rec = cJSON_CreateObject(), *out = NULL;
		const cJSON *aid;
		bool created = false;
		fields(tag, i, &fn, &ln, email, sizeof(email), phone, sizeof(phone), digits, sizeof(digits));
		cJSON_AddStringToObject(rec, "first_name", fn);
		cJSON_AddStringToObject(rec, "last_name", ln);
		cJSON_AddStringToObject(rec, "email", email);
		cJSON_AddStringToObject(rec, "phone", phone);
		if (i % 3 == 0)
			cJSON_AddStringToObject(rec, "language", "pt-PT");
		if (cust_create(st, rec, false, &out, &created, &e) || !created) {
			fprintf(stderr, "bt_create: cust_create: %s\n", e.message);
			return 1;
		}
		aid = cJSON_GetObjectItemCaseSensitive(out, "async_id");
		for (long k = 0; k < per; k++) {
			long q = 1 + ntxn % 3, price = 100 + (ntxn * 37) % 5000;
			cJSON *tout = NULL;
			int len = snprintf(json, sizeof(json),
			                   "{\"txn_id\":\"S0001-R01-%07ld\",\"kind\":\"cash_and_carry\",\"business_date\":\"%s\","
			                   "\"currency\":\"EUR\",\"created_at\":\"%sT10:00:00Z\",\"customer\":{\"async_id\":\"%s\"},"
			                   "\"lines\":[{\"sku\":\"SKU-%ld\",\"qty\":%ld,\"unit_price_minor\":%ld}],"
			                   "\"tenders\":[{\"type\":\"card\",\"amount_minor\":%ld}],\"total_minor\":%ld}",
			                   ntxn + 1, date, date, aid->valuestring, ntxn % 5000, q, price, q * price, q * price);
			if (txn_record(st, json, (size_t)len, &tout, &created, &e) || !created) {
				fprintf(stderr, "bt_create: txn_record: %s\n", e.message);
				return 1;
			}
			cJSON_Delete(tout);
			ntxn++;
		}
		cJSON_Delete(rec);
		cJSON_Delete(out);
	}
	sqlite3_exec(st->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	store_close(st);
	printf("%ld %ld %.3f\n", ncust, ntxn, util_mono() - t0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "agent") == 0)
		return agent(argv[2], atol(argv[3]), argv[4]);
	if (argc == 5 && strcmp(argv[1], "ref") == 0)
		return ref(argv[2], atol(argv[3]), argv[4]);
	if (argc == 6 && strcmp(argv[1], "fill") == 0)
		return fill(argv[2], atol(argv[3]), atol(argv[4]), argv[5]);
	fprintf(stderr, "usage: bt_create agent|ref DB N TAG | fill DB NCUST TXNS_PER_CUSTOMER DATE\n");
	return 64;
}
