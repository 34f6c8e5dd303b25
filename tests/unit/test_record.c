/*
 * test_record: every transition of a record's state (common/record), on a
 * real database file, without a network.
 *
 * What happens: customers, addresses and transactions are written with
 * SQL in the states a test needs; batches are frozen (dependency order,
 * priority date, batch size), answered with HQ replies that match, are
 * truncated, reordered, of another batch or unreadable, split after a
 * 413, released; records are assigned an account or an address id,
 * folded, requeued, corrected.
 * What must hold: a customer goes before its addresses and both before a
 * transaction naming them (same batch allowed), and nothing goes before
 * what it names is accepted; a reply that does not match the batch member
 * for member changes nothing; accepted/duplicate make a record uploaded
 * (synced stays synced), rejected keeps HQ's code, unknown_customer or
 * unknown_address while the named record is not accepted here is
 * deferred (pending, no person), and an ordinary rejection once it is; a
 * 413 splits in two halves in order under new ids, a single record is
 * kept as it is (never rejected); states only move forward.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/record.h"
#include "common/store.h"

struct fx {
	char dir[256];
	char db[300];
	struct store *st;
	struct pa_err e;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/test_record.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->db, sizeof(f->db), "%s/pos.db", f->dir);
	if (store_open(f->db, true, &f->st, &f->e))
		return -1;
	store_identity(f->st, "S0001", "R01", "EUR");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char p[400];
	const char *sfx[] = {"", "-wal", "-shm", "-sync.lock"};

	store_close(f->st);
	for (int i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s%s", f->db, sfx[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static void exec(struct fx *f, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(f->st->db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

/* First column of a query as text ("" for NULL / no row). */
static const char *q(struct fx *f, const char *sql)
{
	static char out[4096];
	sqlite3_stmt *s = NULL;

	out[0] = '\0';
	if (sqlite3_prepare_v2(f->st->db, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(f->st->db));
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		snprintf(out, sizeof(out), "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return out;
}

/* Customer n (async id c-n, uuid-like), in state. */
static void cust(struct fx *f, int n, const char *state)
{
	char sql[600];
	snprintf(sql, sizeof(sql),
	         "INSERT INTO customer(id, async_id, local_number, origin, state, kind, first_name, created_at,"
	         " waiting_since, updated_at) VALUES (%d, '00000000-0000-4000-8000-%012d', 'R01-%06d', 'local', '%s',"
	         " 'person', 'P%d', '2026-11-25T09:00:00Z', 0, 0)", n, n, n, state, n);
	exec(f, sql);
}

/* Address n of customer c, in state. */
static void addr(struct fx *f, int n, int c, const char *state)
{
	char sql[600];
	snprintf(sql, sizeof(sql),
	         "INSERT INTO address(id, async_id, customer_id, origin, state, purpose, line1, city, postal_code,"
	         " country, created_at, waiting_since, updated_at) VALUES (%d, '00000000-0000-4000-9000-%012d', %d,"
	         " 'local', '%s', 'delivery', 'Rua %d', 'Lisboa', '1100', 'PT', '2026-11-25T09:00:00Z', 0, 0)",
	         n, n, c, state, n);
	exec(f, sql);
}

/* Transaction n of date naming customer c and delivery address a (0: none). */
static void txn(struct fx *f, int n, const char *date, int c, int a, const char *state)
{
	char sql[900], cs[16] = "NULL", as[16] = "NULL";
	if (c)
		snprintf(cs, sizeof(cs), "%d", c);
	if (a)
		snprintf(as, sizeof(as), "%d", a);
	snprintf(sql, sizeof(sql),
	         "INSERT INTO txn(id, txn_id, kind, business_date, customer_id, delivery_address_id, total_minor, body,"
	         " state, waiting_since, updated_at) VALUES (%d, 'S0001-R01-%d', 'cash_and_carry', '%s', %s, %s, 100,"
	         " '{\"type\":\"transaction\",\"txn_id\":\"S0001-R01-%d\"}', '%s', 0, 0)",
	         n, n, date, cs, as, n, state);
	exec(f, sql);
}

/* Freezes with max and prio; returns the batch row (0: none). */
static int64_t freeze(struct fx *f, int max, const char *prio)
{
	int64_t bid = -1;
	assert_int_equal(rec_freeze(f->st, max, prio, &bid, &f->e), 0);
	return bid;
}

/* "kind:record_id,..." of batch bid's members in order. */
static const char *members(struct fx *f, int64_t bid)
{
	char sql[300];
	snprintf(sql, sizeof(sql), "SELECT group_concat((value ->> 0) || ':' || substr(value ->> 2, -2), ',') FROM"
	                           " (SELECT value FROM json_each((SELECT members FROM batch WHERE id = %lld)) ORDER BY key)",
	         (long long)bid);
	return q(f, sql);
}

static const char *batch_id(struct fx *f, int64_t bid)
{
	static char out[64];
	char sql[100];
	snprintf(sql, sizeof(sql), "SELECT batch_id FROM batch WHERE id = %lld", (long long)bid);
	snprintf(out, sizeof(out), "%s", q(f, sql));
	return out;
}

/* Applies reply text to bid; returns ok. */
static int apply(struct fx *f, int64_t bid, const char *reply, struct rec_tally *t)
{
	int ok = -1;
	char id[64];
	snprintf(id, sizeof(id), "%s", batch_id(f, bid));
	assert_int_equal(rec_apply_reply(f->st, bid, id, reply, t, &ok, &f->e), 0);
	return ok;
}

static void test_kinds(void **state)
{
	enum rec_kind k;
	(void)state;
	for (int i = 0; i < REC_NKINDS; i++) {
		assert_int_equal(rec_kind_parse(rec_kind_name((enum rec_kind)i), &k), 0);
		assert_int_equal(k, i);
	}
	assert_string_equal(rec_kind_name(REC_TXN), "txn");
	assert_string_equal(rec_kind_name(REC_ADDRESS_UPDATE), "address_update");
	assert_int_equal(rec_kind_parse("transaction", &k), -1);
	assert_int_equal(rec_kind_parse(NULL, &k), -1);
}

/* Dependency order: customer, then its address, then the sale naming both,
 * all in one batch; what names a record not accepted waits. */
static void test_freeze_order(void **state)
{
	struct fx *f = *state;
	int64_t bid;

	cust(f, 1, "pending");
	addr(f, 1, 1, "pending");
	txn(f, 3, "2026-11-25", 1, 1, "pending");
	cust(f, 2, "rejected");
	addr(f, 2, 2, "pending");                     /* its customer is rejected: waits */
	txn(f, 4, "2026-11-25", 2, 0, "pending");     /* likewise */
	cust(f, 5, "synced");
	addr(f, 6, 5, "rejected");
	txn(f, 5, "2026-11-25", 5, 6, "pending");     /* its address is rejected: waits */
	bid = freeze(f, 200, NULL);
	assert_true(bid > 0);
	assert_string_equal(members(f, bid), "customer:01,address:01,txn:-3");
	/* the body carries them in that order with async references */
	assert_string_equal(q(f, "SELECT json_extract(body, '$.records[2].delivery_address.async_id') ||"
	                         " json_extract(body, '$.records[2].customer.async_id') FROM batch"),
	                    "00000000-0000-4000-9000-00000000000100000000-0000-4000-8000-000000000001");
	assert_string_equal(q(f, "SELECT group_concat(batch_id IS NOT NULL) FROM (SELECT batch_id FROM customer"
	                         " UNION ALL SELECT batch_id FROM address UNION ALL SELECT batch_id FROM txn)"),
	                    "1,0,0,1,0,0,1,0,0");
	/* a frozen batch is sent first: no second batch meanwhile */
	assert_int_equal(freeze(f, 200, NULL), bid);
}

/* A batch too small for all: the address goes, the sale waits for the next
 * batch; once the address is accepted the sale names it by its async id
 * until HQ gives an address id, then by that id. */
static void test_freeze_batch_size(void **state)
{
	struct fx *f = *state;
	struct rec_tally t;
	int64_t bid;
	char reply[600];

	cust(f, 1, "synced");
	exec(f, "UPDATE customer SET account = 'C000001'");
	addr(f, 1, 1, "pending");
	txn(f, 3, "2026-11-25", 1, 1, "pending");
	bid = freeze(f, 1, NULL);
	assert_string_equal(members(f, bid), "address:01");
	assert_string_equal(q(f, "SELECT json_extract(body, '$.records[0].customer.account') FROM batch"), "C000001");
	snprintf(reply, sizeof(reply), "{\"batch_id\":\"%s\",\"results\":[{\"id\":\"00000000-0000-4000-9000-000000000001\","
	         "\"status\":\"accepted\"}]}", batch_id(f, bid));
	assert_int_equal(apply(f, bid, reply, &t), 1);
	assert_string_equal(q(f, "SELECT state FROM address"), "uploaded");
	bid = freeze(f, 1, NULL);
	assert_string_equal(members(f, bid), "txn:-3");
	assert_string_equal(q(f, "SELECT json_extract(body, '$.records[0].delivery_address.async_id') FROM batch"),
	                    "00000000-0000-4000-9000-000000000001");
	assert_int_equal(rec_batch_release(f->st, bid, &f->e), 0);
	bool changed = false;
	assert_int_equal(rec_assign_address(f->st, "00000000-0000-4000-9000-000000000001", "A000045", &changed, &f->e), 0);
	assert_true(changed);
	bid = freeze(f, 1, NULL);
	assert_string_equal(q(f, "SELECT json_extract(body, '$.records[0].delivery_address') FROM batch"),
	                    "{\"address_id\":\"A000045\"}");
}

/* The priority date's records go first, each kind in dependency order. */
static void test_freeze_priority(void **state)
{
	struct fx *f = *state;
	int64_t bid;

	cust(f, 1, "pending");
	cust(f, 2, "pending");
	addr(f, 1, 1, "pending");
	addr(f, 2, 2, "pending");
	txn(f, 3, "2026-11-24", 1, 1, "pending");
	txn(f, 4, "2026-11-25", 2, 2, "pending");
	bid = freeze(f, 200, "2026-11-25");
	assert_string_equal(members(f, bid), "customer:02,customer:01,address:02,address:01,txn:-4,txn:-3");
	assert_int_equal(rec_batch_release(f->st, bid, &f->e), 0);
	bid = freeze(f, 3, "2026-11-25");
	assert_string_equal(members(f, bid), "customer:02,customer:01,address:02");
}

/* One reply, every outcome: accepted, duplicate, rejected, deferred. */
static void test_apply_outcomes(void **state)
{
	struct fx *f = *state;
	struct rec_tally t;
	int64_t bid;
	char reply[2000];

	cust(f, 1, "pending");
	cust(f, 2, "pending");
	addr(f, 1, 1, "pending");
	addr(f, 2, 2, "pending");
	txn(f, 3, "2026-11-25", 1, 1, "pending");
	txn(f, 4, "2026-11-25", 2, 2, "pending");
	bid = freeze(f, 200, NULL);
	assert_string_equal(members(f, bid), "customer:01,customer:02,address:01,address:02,txn:-3,txn:-4");
	snprintf(reply, sizeof(reply),
	         "{\"batch_id\":\"%s\",\"results\":["
	         "{\"id\":\"00000000-0000-4000-8000-000000000001\",\"status\":\"accepted\"},"
	         "{\"id\":\"00000000-0000-4000-8000-000000000002\",\"status\":\"rejected\",\"code\":\"invalid_email\",\"message\":\"bad\"},"
	         "{\"id\":\"00000000-0000-4000-9000-000000000001\",\"status\":\"duplicate\"},"
	         "{\"id\":\"00000000-0000-4000-9000-000000000002\",\"status\":\"rejected\",\"code\":\"unknown_customer\",\"message\":\"?\"},"
	         "{\"id\":\"S0001-R01-3\",\"status\":\"rejected\",\"code\":\"unknown_address\",\"message\":\"no such address\"},"
	         "{\"id\":\"S0001-R01-4\",\"status\":\"rejected\",\"code\":\"unknown_address\",\"message\":\"?\"}]}",
	         batch_id(f, bid));
	assert_int_equal(apply(f, bid, reply, &t), 1);
	assert_int_equal(t.accepted, 2);
	assert_int_equal(t.rejected, 2);
	assert_int_equal(t.deferred, 2);
	assert_string_equal(q(f, "SELECT group_concat(state || '/' || coalesce(last_code, '-')) FROM customer"),
	                    "uploaded/-,rejected/invalid_email");
	/* the address of the rejected customer waits for it: no person needed */
	assert_string_equal(q(f, "SELECT group_concat(state || '/' || coalesce(last_code, '-')) FROM address"),
	                    "uploaded/-,pending/unknown_customer");
	/* sale 3's customer and address are accepted: an ordinary rejection;
	 * sale 4's are not: it waits */
	assert_string_equal(q(f, "SELECT group_concat(state || '/' || coalesce(last_code, '-')) FROM txn"),
	                    "rejected/unknown_address,pending/unknown_address");
	assert_string_equal(q(f, "SELECT count(*) FROM batch"), "0");
	assert_string_equal(q(f, "SELECT count(*) FROM txn WHERE batch_id IS NOT NULL"), "0");
	assert_true(strlen(q(f, "SELECT value FROM meta WHERE key = 'last_upload'")) == 20);
	/* a late accepted never moves a synced customer back */
	exec(f, "UPDATE customer SET state = 'synced', account = 'C1' WHERE id = 1");
	assert_int_equal(rec_accepted(f->st, REC_CUSTOMER, 1, &f->e), 0);
	assert_int_equal(rec_rejected(f->st, REC_CUSTOMER, 1, "x", "y", &f->e), 0);
	assert_string_equal(q(f, "SELECT state FROM customer WHERE id = 1"), "synced");
	addr(f, 9, 1, "synced");
	assert_int_equal(rec_accepted(f->st, REC_ADDRESS, 9, &f->e), 0);
	assert_int_equal(rec_deferred(f->st, REC_ADDRESS, 9, "unknown_customer", "?", &f->e), 0);
	assert_string_equal(q(f, "SELECT state FROM address WHERE id = 9"), "synced");
}

/* Replies that do not match the batch member for member change nothing. */
static void test_apply_mismatch(void **state)
{
	struct fx *f = *state;
	struct rec_tally t;
	int64_t bid;
	char reply[1200];
	const char *a = "{\"id\":\"00000000-0000-4000-8000-000000000001\",\"status\":\"accepted\"}";
	const char *b = "{\"id\":\"00000000-0000-4000-8000-000000000002\",\"status\":\"accepted\"}";

	cust(f, 1, "pending");
	cust(f, 2, "pending");
	bid = freeze(f, 200, NULL);
	/* truncated: one result for two records */
	snprintf(reply, sizeof(reply), "{\"batch_id\":\"%s\",\"results\":[%s]}", batch_id(f, bid), a);
	assert_int_equal(apply(f, bid, reply, &t), 0);
	assert_int_equal(t.accepted, 0);
	/* reordered */
	snprintf(reply, sizeof(reply), "{\"batch_id\":\"%s\",\"results\":[%s,%s]}", batch_id(f, bid), b, a);
	assert_int_equal(apply(f, bid, reply, &t), 0);
	/* one too many */
	snprintf(reply, sizeof(reply), "{\"batch_id\":\"%s\",\"results\":[%s,%s,%s]}", batch_id(f, bid), a, b, b);
	assert_int_equal(apply(f, bid, reply, &t), 0);
	/* another batch's answer */
	snprintf(reply, sizeof(reply), "{\"batch_id\":\"other\",\"results\":[%s,%s]}", a, b);
	assert_int_equal(apply(f, bid, reply, &t), 0);
	/* a status HQ-API does not name */
	snprintf(reply, sizeof(reply), "{\"batch_id\":\"%s\",\"results\":[%s,"
	         "{\"id\":\"00000000-0000-4000-8000-000000000002\",\"status\":\"maybe\"}]}", batch_id(f, bid), a);
	assert_int_equal(apply(f, bid, reply, &t), 0);
	/* a truncated text, no results, not JSON */
	assert_int_equal(apply(f, bid, "{\"batch_id\":\"x\",\"results\":[{\"id\":", &t), 0);
	assert_int_equal(apply(f, bid, "{}", &t), 0);
	assert_int_equal(apply(f, bid, NULL, &t), 0);
	/* nothing moved: both still pending in the same batch */
	assert_string_equal(q(f, "SELECT group_concat(state || '/' || batch_id) FROM customer"), "pending/1,pending/1");
	assert_string_equal(q(f, "SELECT json_array_length(members) FROM batch"), "2");
	assert_string_equal(q(f, "SELECT count(*) FROM meta WHERE key = 'last_upload'"), "0");
	/* the matching answer (no batch_id member is fine) applies */
	snprintf(reply, sizeof(reply), "{\"results\":[%s,%s]}", a, b);
	assert_int_equal(apply(f, bid, reply, &t), 1);
	assert_string_equal(q(f, "SELECT group_concat(state) FROM customer"), "uploaded,uploaded");
}

/* 413: two halves, in order, new ids; one record alone stays as it is. */
static void test_split(void **state)
{
	struct fx *f = *state;
	int64_t bid;
	int rejected = -1; /* split_done */
	char old[64];

	for (int i = 1; i <= 5; i++)
		cust(f, i, "pending");
	bid = freeze(f, 200, NULL);
	snprintf(old, sizeof(old), "%s", batch_id(f, bid));
	assert_int_equal(rec_split(f->st, bid, &rejected, &f->e), 0);
	assert_int_equal(rejected, 1);
	assert_string_equal(q(f, "SELECT count(*) FROM batch"), "2");
	int64_t b1 = atoll(q(f, "SELECT min(id) FROM batch")), b2 = atoll(q(f, "SELECT max(id) FROM batch"));
	char id1[64];
	snprintf(id1, sizeof(id1), "%s", batch_id(f, b1));
	assert_string_equal(members(f, b1), "customer:01,customer:02");
	assert_string_equal(members(f, b2), "customer:03,customer:04,customer:05");
	assert_string_not_equal(id1, old);
	assert_string_not_equal(batch_id(f, b2), old);
	assert_string_not_equal(batch_id(f, b2), id1);
	char sql[200];
	snprintf(sql, sizeof(sql), "SELECT group_concat(batch_id = %lld) FROM customer", (long long)b1);
	assert_string_equal(q(f, sql), "1,1,0,0,0");
	snprintf(sql, sizeof(sql), "SELECT records || ' ' || json_array_length(body, '$.records') FROM batch"
	                           " WHERE id = %lld", (long long)b2);
	assert_string_equal(q(f, sql), "3 3");
	assert_string_equal(q(f, "SELECT count(DISTINCT idem_key) FROM batch"), "2");
	/* the oldest is sent first */
	assert_int_equal(freeze(f, 200, NULL), b1);
	/* halves again down to one record: that one is kept as it is, never
	 * rejected (the caller flags it and retries) */
	assert_int_equal(rec_split(f->st, b1, &rejected, &f->e), 0);
	assert_int_equal(rejected, 1);
	assert_string_equal(q(f, "SELECT count(*) FROM batch"), "3");
	int64_t one = atoll(q(f, "SELECT id FROM batch WHERE EXISTS (SELECT 1 FROM json_each(members) WHERE value ->> 1 = 1)"));
	snprintf(old, sizeof(old), "%s", batch_id(f, one));
	assert_int_equal(rec_split(f->st, one, &rejected, &f->e), 0);
	assert_int_equal(rejected, 0);
	assert_string_equal(batch_id(f, one), old);
	snprintf(sql, sizeof(sql), "SELECT state || '/' || coalesce(last_code, '-') || '/' || (batch_id = %lld)"
	                           " FROM customer WHERE id = 1", (long long)one);
	assert_string_equal(q(f, sql), "pending/-/1");
	assert_string_equal(q(f, "SELECT count(*) FROM batch"), "3");
}

/* 413/422 release: the members go back to the queue, still pending. */
static void test_release(void **state)
{
	struct fx *f = *state;
	int64_t bid;

	cust(f, 1, "pending");
	addr(f, 1, 1, "pending");
	txn(f, 2, "2026-11-25", 1, 1, "pending");
	bid = freeze(f, 200, NULL);
	char was[64];
	snprintf(was, sizeof(was), "%s", batch_id(f, bid));
	assert_int_equal(store_begin(f->st, true, &f->e), 0);
	assert_int_equal(rec_batch_release(f->st, bid, &f->e), 0);
	assert_int_equal(store_commit(f->st, &f->e), 0);
	assert_string_equal(q(f, "SELECT (SELECT count(*) FROM customer WHERE state = 'pending' AND batch_id IS NULL)"
	                         " + (SELECT count(*) FROM address WHERE state = 'pending' AND batch_id IS NULL)"
	                         " + (SELECT count(*) FROM txn WHERE state = 'pending' AND batch_id IS NULL)"), "3");
	assert_string_equal(q(f, "SELECT count(*) FROM batch"), "0");
	int64_t n = 0;
	assert_int_equal(rec_waiting(f->st, &n, &f->e), 0);
	assert_int_equal(n, 3);
	/* frozen again under a new id, in the same order */
	bid = freeze(f, 200, NULL);
	assert_true(bid > 0);
	assert_string_not_equal(batch_id(f, bid), was);
	assert_string_equal(members(f, bid), "customer:01,address:01,txn:-2");
}

/* Update n (a customer_update of customer c), pending. */
static void cupd(struct fx *f, int n, int c)
{
	char sql[600];
	snprintf(sql, sizeof(sql),
	         "INSERT INTO record_update(id, update_id, kind, row, customer_id, fields, state, created_at, updated_at)"
	         " VALUES (%d, '00000000-0000-4000-a000-%012d', 'customer_update', %d, %d, '{\"email\":\"u%d@x.pt\"}',"
	         " 'pending', '2026-11-25T10:00:00Z', 0)", n, n, c, c, n);
	exec(f, sql);
}

/* The next batch, frozen while one is in flight (issue 14): nothing in it
 * may need the batch in flight to go first, whatever becomes of that one
 * (answered, split by a 413, frozen again after a 422). */
static void test_freeze_next(void **state)
{
	struct fx *f = *state;
	int64_t flying, next = -1, again = -1;
	int split_done = 0;

	cust(f, 1, "synced");
	cust(f, 2, "pending");
	cust(f, 3, "synced");
	cupd(f, 1, 3);                            /* customer 3's first update */
	txn(f, 4, "2026-11-25", 1, 0, "pending"); /* its customer at HQ already */
	txn(f, 5, "2026-11-25", 2, 0, "pending"); /* its customer in the batch in flight */
	flying = freeze(f, 2, NULL);
	assert_string_equal(members(f, flying), "customer:02,txn:-4");
	exec(f, "UPDATE batch SET sent = 1");
	assert_int_equal(rec_freeze_next(f->st, 1, NULL, flying, &next, NULL, &f->e), 0);
	assert_string_equal(members(f, next), "customer_update:01");
	/* one next batch at most; the oldest still goes first */
	assert_int_equal(rec_freeze_next(f->st, 200, NULL, flying, &again, NULL, &f->e), 0);
	assert_int_equal(again, 0);
	assert_int_equal(freeze(f, 200, NULL), flying);
	/* with the update in flight instead: the sale naming customer 2 and
	 * customer 3's second update wait; the first half of a split and the
	 * batch after both keep that order */
	exec(f, "DELETE FROM batch;"
	        " UPDATE customer SET batch_id = NULL; UPDATE txn SET batch_id = NULL;"
	        " UPDATE record_update SET batch_id = NULL");
	cupd(f, 6, 3); /* customer 3's second update */
	cust(f, 7, "pending");
	flying = freeze(f, 3, NULL);
	assert_string_equal(members(f, flying), "customer:02,customer:07,txn:-4");
	exec(f, "UPDATE batch SET sent = 1");
	assert_int_equal(rec_freeze_next(f->st, 200, NULL, flying, &next, NULL, &f->e), 0);
	assert_string_equal(members(f, next), "customer_update:01,customer_update:06");
	exec(f, "DELETE FROM batch WHERE id = 2;"
	        " UPDATE record_update SET batch_id = NULL");
	/* the first update in flight: the second waits for it */
	exec(f, "UPDATE record_update SET batch_id = 1 WHERE id = 1");
	assert_int_equal(rec_freeze_next(f->st, 200, NULL, flying, &next, NULL, &f->e), 0);
	assert_int_equal(next, 0); /* the sale and the second update both wait */
	assert_string_equal(q(f, "SELECT batch_id IS NULL FROM record_update WHERE id = 6"), "1");
	/* a 413 split of the batch in flight: its halves, then the rest */
	exec(f, "UPDATE record_update SET batch_id = NULL WHERE id = 1");
	assert_int_equal(rec_freeze_next(f->st, 200, NULL, flying, &next, NULL, &f->e), 0);
	assert_string_equal(members(f, next), "customer_update:01,customer_update:06");
	assert_int_equal(rec_split(f->st, flying, &split_done, &f->e), 0);
	assert_int_equal(split_done, 1);
	assert_string_equal(q(f, "SELECT group_concat(records) FROM (SELECT records FROM batch ORDER BY id)"), "2,1,2");
	assert_string_equal(q(f, "SELECT group_concat(kind) FROM (SELECT m.value ->> 0 AS kind FROM batch,"
	                         " json_each(batch.members) m ORDER BY batch.id, m.key)"),
	                    "customer_update,customer_update,customer,customer,txn");
}

/* Assignments, folding, requeue, a person's correction. */
static void test_assign_fold_requeue(void **state)
{
	struct fx *f = *state;
	bool changed = true;
	int n = 0;

	cust(f, 1, "uploaded");
	addr(f, 1, 1, "uploaded");
	/* HQ's cached copy of the same customer, with a cached address */
	exec(f, "INSERT INTO customer(id, account, origin, state, kind, created_at, updated_at)"
	        " VALUES (7, 'C000007', 'hq', 'synced', 'person', 'x', 0)");
	exec(f, "INSERT INTO address(id, address_id, customer_id, origin, state, created_at, updated_at)"
	        " VALUES (8, 'A000008', 7, 'hq', 'synced', 'x', 0)");
	exec(f, "INSERT INTO address(id, address_id, customer_id, origin, state, created_at, updated_at)"
	        " VALUES (9, 'A000001', 7, 'hq', 'synced', 'x', 0)");
	txn(f, 3, "2026-11-25", 7, 9, "uploaded");
	assert_int_equal(rec_assign_customer(f->st, "00000000-0000-4000-8000-000000000001", "C000007", &changed, &f->e), 0);
	assert_true(changed);
	assert_string_equal(q(f, "SELECT state || ' ' || account FROM customer"), "synced C000007");
	assert_string_equal(q(f, "SELECT count(*) FROM customer"), "1");
	assert_string_equal(q(f, "SELECT group_concat(customer_id) FROM address"), "1,1,1");
	assert_string_equal(q(f, "SELECT customer_id FROM txn"), "1");
	/* again: nothing moves */
	assert_int_equal(rec_assign_customer(f->st, "00000000-0000-4000-8000-000000000001", "C000007", &changed, &f->e), 0);
	assert_false(changed);
	/* an async id this register does not hold is ignored */
	assert_int_equal(rec_assign_customer(f->st, "00000000-0000-4000-8000-000000000099", "C9", &changed, &f->e), 0);
	assert_false(changed);
	assert_int_equal(rec_assign_address(f->st, "00000000-0000-4000-9000-000000000099", "A9", &changed, &f->e), 0);
	assert_false(changed);
	/* the address id HQ gives ours was cached as row 9: the sale moves to ours */
	assert_int_equal(rec_assign_address(f->st, "00000000-0000-4000-9000-000000000001", "A000001", &changed, &f->e), 0);
	assert_true(changed);
	assert_string_equal(q(f, "SELECT state || ' ' || address_id FROM address WHERE id = 1"), "synced A000001");
	assert_string_equal(q(f, "SELECT count(*) FROM address WHERE id = 9"), "0");
	assert_string_equal(q(f, "SELECT delivery_address_id FROM txn"), "1");
	/* statement 409 unknown_transactions: uploaded goes back to pending, once */
	assert_int_equal(rec_requeue_txn(f->st, "S0001-R01-3", "2026-11-24", &n, &f->e), 0);
	assert_int_equal(n, 0);
	assert_int_equal(rec_requeue_txn(f->st, "S0001-R01-3", "2026-11-25", &n, &f->e), 0);
	assert_int_equal(rec_requeue_txn(f->st, "S0001-R01-3", "2026-11-25", &n, &f->e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(q(f, "SELECT state FROM txn"), "pending");
	/* a person's correction: rejected -> pending, code cleared */
	exec(f, "UPDATE address SET state = 'rejected', last_code = 'invalid_address' WHERE id = 8");
	assert_int_equal(rec_corrected(f->st, REC_ADDRESS, 8, &f->e), 0);
	assert_string_equal(q(f, "SELECT state || coalesce(last_code, '') FROM address WHERE id = 8"), "pending");
	/* a customer change from HQ: synced with its account, error cleared */
	cust(f, 4, "rejected");
	exec(f, "UPDATE customer SET last_code = 'invalid_email' WHERE id = 4");
	assert_int_equal(rec_customer_synced(f->st, 4, "C000004", &f->e), 0);
	assert_string_equal(q(f, "SELECT state || ' ' || account || coalesce(last_code, '') FROM customer WHERE id = 4"),
	                    "synced C000004");
	/* unknown kinds are refused, not ignored */
	assert_int_equal(rec_accepted(f->st, REC_CUSTOMER_UPDATE, 1, &f->e), EX_SOFTWARE);
}

/* rec_waits: only the two unknown_* codes, only while the named record is
 * not accepted here. */
static void test_waits(void **state)
{
	struct fx *f = *state;
	bool w = true;

	cust(f, 1, "pending");
	cust(f, 2, "synced");
	addr(f, 1, 2, "rejected");
	txn(f, 3, "2026-11-25", 2, 1, "pending");
	txn(f, 4, "2026-11-25", 2, 0, "pending");
	addr(f, 2, 1, "pending");
	assert_int_equal(rec_waits(f->st, REC_TXN, 3, "unknown_address", &w, &f->e), 0);
	assert_true(w);
	assert_int_equal(rec_waits(f->st, REC_TXN, 3, "invalid_transaction", &w, &f->e), 0);
	assert_false(w);
	assert_int_equal(rec_waits(f->st, REC_TXN, 4, "unknown_customer", &w, &f->e), 0);
	assert_false(w);
	assert_int_equal(rec_waits(f->st, REC_ADDRESS, 2, "unknown_customer", &w, &f->e), 0);
	assert_true(w);
	assert_int_equal(rec_waits(f->st, REC_ADDRESS, 1, "unknown_customer", &w, &f->e), 0);
	assert_false(w);
	assert_int_equal(rec_waits(f->st, REC_CUSTOMER, 1, "unknown_customer", &w, &f->e), 0);
	assert_false(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds),
		cmocka_unit_test_setup_teardown(test_freeze_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_freeze_batch_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_freeze_priority, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_outcomes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_freeze_next, setup, teardown),
		cmocka_unit_test_setup_teardown(test_assign_fold_requeue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waits, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
