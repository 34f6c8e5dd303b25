/*
 * test_download: applying HQ's changes (common/download, down_apply) to a
 * real database, without a network.
 *
 * What happens: customers are made here, then pages of changes are
 * applied: account_assigned for ours and for an async id we do not hold,
 * customer records with and without async_id, addresses from HQ, the same
 * page twice, a page asked after a cursor that has moved meanwhile, and
 * unreadable pages.
 * What must hold: an assignment makes our customer synced with its
 * account and is ignored for an unknown async id; a customer change
 * upserts by async_id, else by account (a cached row holding that account
 * while the change names our async id is folded into ours), with HQ's fields winning and
 * addresses from HQ replaced while our pending ones stay; states only move
 * forward; the cursor moves with the changes in one transaction and only
 * if it still equals the page's `after`; applying a page twice changes
 * nothing; garbage changes nothing.
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

#include "common/customer.h"
#include "common/download.h"
#include "common/store.h"

struct fx {
	char dir[256];
	char db[300];
	struct store *st;
	char a1[40], a2[40]; /* async ids of two customers made here */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct pa_err e;
	cJSON *rec, *doc = NULL;
	bool created;

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/test_download.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->db, sizeof(f->db), "%s/pos.db", f->dir);
	if (store_open(f->db, true, &f->st, &e))
		return -1;
	store_identity(f->st, "S0001", "R01", "EUR");
	for (int i = 0; i < 2; i++) {
		rec = cJSON_Parse(i ? "{\"first_name\":\"Bo\"}" : "{\"first_name\":\"Ana\",\"email\":\"ana@example.com\"}");
		if (cust_create(f->st, rec, false, &doc, &created, &e))
			return -1;
		snprintf(i ? f->a2 : f->a1, 40, "%s", cJSON_GetObjectItem(doc, "async_id")->valuestring);
		cJSON_Delete(rec);
		cJSON_Delete(doc);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char p[400];

	store_close(f->st);
	snprintf(p, sizeof(p), "%s/pos.db", f->dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/pos.db-wal", f->dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/pos.db-shm", f->dir);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Applies the JSON page text asked after `after`. */
static struct down_outcome apply(struct fx *f, const char *after, const char *page)
{
	struct down_outcome o;
	struct pa_err e;
	cJSON *doc = cJSON_Parse(page);

	memset(&o, 0, sizeof(o));
	assert_int_equal(down_apply(f->st, after, doc, &o, &e), 0);
	cJSON_Delete(doc);
	return o;
}

/* First column of a query as text ("" for NULL / no row), into a static buffer. */
static const char *q(struct fx *f, const char *sql)
{
	static char out[256];
	sqlite3_stmt *s = NULL;

	out[0] = '\0';
	assert_int_equal(sqlite3_prepare_v2(f->st->db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		snprintf(out, sizeof(out), "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return out;
}

static void test_assign(void **state)
{
	struct fx *f = *state;
	char page[1024];
	struct down_outcome o;

	snprintf(page, sizeof(page),
	         "{\"changes\":[{\"type\":\"account_assigned\",\"async_id\":\"%s\",\"account\":\"C000001\"},"
	         "{\"type\":\"account_assigned\",\"async_id\":\"00000000-0000-4000-8000-000000000000\",\"account\":\"C000002\"}],"
	         "\"next\":\"c2\",\"more\":false}", f->a1);
	o = apply(f, "", page);
	assert_true(o.ok);
	assert_int_equal(o.assigned, 1);
	assert_string_equal(q(f, "SELECT state || ' ' || account FROM customer WHERE local_number = 'R01-000001'"),
	                    "synced C000001");
	assert_string_equal(q(f, "SELECT count(*) FROM customer"), "2"); /* the unknown id is ignored */
	assert_string_equal(q(f, "SELECT value FROM meta WHERE key = 'cursor'"), "c2");

	/* the same page again (asked after the old cursor): nothing changes */
	o = apply(f, "", page);
	assert_int_equal(o.applied, 0);
	assert_string_equal(q(f, "SELECT value FROM meta WHERE key = 'cursor'"), "c2");
	/* and asked after the current cursor: harmless */
	o = apply(f, "c2", page);
	assert_int_equal(o.assigned, 0);
	assert_string_equal(q(f, "SELECT count(*) FROM customer WHERE state = 'synced'"), "1");
}

static void test_states_forward(void **state)
{
	struct fx *f = *state;
	char page[1024];

	/* HQ assigned before this register recorded the upload's answer */
	snprintf(page, sizeof(page),
	         "{\"changes\":[{\"type\":\"account_assigned\",\"async_id\":\"%s\",\"account\":\"C000009\"}],"
	         "\"next\":\"c1\",\"more\":false}", f->a2);
	apply(f, "", page);
	assert_string_equal(q(f, "SELECT state FROM customer WHERE async_id IS NOT NULL AND account = 'C000009'"),
	                    "synced");
	/* a rejected customer HQ nevertheless assigned is synced too, never back */
	sqlite3_exec(f->st->db, "UPDATE customer SET state = 'rejected' WHERE local_number = 'R01-000001'", 0, 0, 0);
	snprintf(page, sizeof(page),
	         "{\"changes\":[{\"type\":\"account_assigned\",\"async_id\":\"%s\",\"account\":\"C000010\"}],"
	         "\"next\":\"c2\",\"more\":false}", f->a1);
	apply(f, "c1", page);
	assert_string_equal(q(f, "SELECT state FROM customer WHERE local_number = 'R01-000001'"), "synced");
}

static void test_customer_changes(void **state)
{
	struct fx *f = *state;
	char page[2048];
	struct pa_err e;
	cJSON *doc = NULL, *addr = cJSON_Parse("{\"line1\":\"Rua 1\",\"city\":\"Lisboa\",\"postal_code\":\"1100\",\"country\":\"PT\"}");

	/* a pending address made here for Ana */
	assert_int_equal(addr_add(f->st, "R01-000001", addr, &doc, &e), 0);
	cJSON_Delete(doc);
	cJSON_Delete(addr);
	/* HQ's record of Ana (with her async id) wins; its address is added */
	snprintf(page, sizeof(page),
	         "{\"changes\":[{\"type\":\"account_assigned\",\"async_id\":\"%s\",\"account\":\"C000001\"},"
	         "{\"type\":\"customer\",\"account\":\"C000001\",\"customer\":{\"async_id\":\"%s\",\"local_number\":\"R01-000001\","
	         "\"kind\":\"person\",\"first_name\":\"Anabela\",\"last_name\":null,\"email\":\"ANA@EXAMPLE.COM\",\"phone\":\"+351 1\","
	         "\"attributes\":{\"tier\":\"gold\"}},"
	         "\"addresses\":[{\"async_id\":null,\"customer\":{\"account\":\"C000001\"},\"purpose\":\"invoice\",\"primary\":true,"
	         "\"line1\":\"HQ street\",\"city\":\"Porto\",\"postal_code\":\"4000\",\"country\":\"PT\"}]},"
	         /* a customer made at HQ, for the store's cache */
	         "{\"type\":\"customer\",\"account\":\"C000050\",\"customer\":{\"kind\":\"organization\",\"organization_name\":\"Loja Azul\","
	         "\"email\":\"not-an-email\"},\"addresses\":[]}],"
	         "\"next\":\"c3\",\"more\":true}", f->a1, f->a1);
	struct down_outcome o = apply(f, "", page);
	assert_true(o.more);
	assert_string_equal(q(f, "SELECT first_name || ' ' || email || ' ' || state FROM customer WHERE account = 'C000001'"),
	                    "Anabela ANA@EXAMPLE.COM synced");
	assert_string_equal(q(f, "SELECT count(*) FROM address WHERE customer_id = (SELECT id FROM customer WHERE account = 'C000001')"),
	                    "2");
	assert_string_equal(q(f, "SELECT state FROM address WHERE origin = 'local'"), "pending");
	/* stored as received, even what this register would refuse */
	assert_string_equal(q(f, "SELECT origin || ' ' || state || ' ' || email FROM customer WHERE account = 'C000050'"),
	                    "hq synced not-an-email");
	/* and searchable */
	assert_string_equal(q(f, "SELECT count(*) FROM customer_tri WHERE customer_tri MATCH '\"Azul\"'"), "1");

	/* HQ changes its record: its address list replaces the HQ ones, ours stays */
	snprintf(page, sizeof(page),
	         "{\"changes\":[{\"type\":\"customer\",\"account\":\"C000001\",\"customer\":{\"async_id\":\"%s\",\"kind\":\"person\","
	         "\"first_name\":\"Ana\"},\"addresses\":[]}],\"next\":\"c4\",\"more\":false}", f->a1);
	apply(f, "c3", page);
	assert_string_equal(q(f, "SELECT count(*) FROM address WHERE origin = 'hq'"), "0");
	assert_string_equal(q(f, "SELECT count(*) FROM address WHERE origin = 'local'"), "1");
	assert_string_equal(q(f, "SELECT count(*) FROM customer"), "3");
}

static void test_garbage(void **state)
{
	struct fx *f = *state;
	static const char *const pages[] = {
		"[]", "{}", "{\"changes\":{},\"next\":\"c1\"}", "{\"changes\":[],\"next\":5}",
		("{\"changes\":[1,\"x\",null,{\"type\":7},{\"type\":\"account_assigned\"},{\"type\":\"customer\",\"customer\":[]}],"
		 "\"next\":\"c1\",\"more\":false}"),
	};

	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		struct down_outcome o = apply(f, "", pages[i]);
		(void)o;
	}
	/* the last page is readable (next is a string): its junk changes are
	 * skipped, nothing else changes */
	assert_string_equal(q(f, "SELECT count(*) FROM customer WHERE state = 'pending'"), "2");
	assert_string_equal(q(f, "SELECT count(*) FROM customer"), "2");
}

/* HQ's customer change names our async id while this register also holds
 * a cached row with that account (the change came before our
 * account_assigned): one row stays, ours, synced with the account; the
 * cached row's sales move to it. */
static void test_change_folds_cached_twin(void **state)
{
	struct fx *f = *state;
	char page[1024];

	assert_int_equal(sqlite3_exec(f->st->db,
	                              "INSERT INTO customer(account, origin, state, kind, first_name, search_name,"
	                              " created_at, updated_at) VALUES ('C000077', 'hq', 'synced', 'person', 'Ana',"
	                              " ' ana', '2026-11-01T00:00:00Z', 0);"
	                              "INSERT INTO txn(txn_id, kind, business_date, customer_id, total_minor, body, state,"
	                              " updated_at) SELECT 'S0001-R01-000077', 'cash_and_carry', '2026-11-25', id, 100, '{}',"
	                              " 'uploaded', 0 FROM customer WHERE account = 'C000077'",
	                              0, 0, 0),
	                 SQLITE_OK);
	snprintf(page, sizeof(page),
	         "{\"changes\":[{\"type\":\"customer\",\"account\":\"C000077\",\"version\":2,\"customer\":{\"async_id\":\"%s\","
	         "\"kind\":\"person\",\"first_name\":\"Ana\"},\"addresses\":[]}],\"next\":\"c1\",\"more\":false}",
	         f->a1);
	apply(f, "", page);
	assert_string_equal(q(f, "SELECT count(*) FROM customer WHERE account = 'C000077'"), "1");
	assert_string_equal(q(f, "SELECT async_id IS NOT NULL AND origin = 'local' AND state = 'synced' FROM customer"
	                         " WHERE account = 'C000077'"),
	                    "1");
	assert_string_equal(q(f, "SELECT count(*) FROM customer WHERE origin = 'hq'"), "0");
	assert_string_equal(q(f, "SELECT c.async_id = t.async FROM txn x JOIN customer c ON c.id = x.customer_id,"
	                         " (SELECT async_id AS async FROM customer WHERE local_number = 'R01-000001') t"),
	                    "1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_assign, setup, teardown),
		cmocka_unit_test_setup_teardown(test_states_forward, setup, teardown),
		cmocka_unit_test_setup_teardown(test_customer_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_change_folds_cached_twin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
	};

	return cmocka_run_group_tests_name("download", tests, NULL, NULL);
}
