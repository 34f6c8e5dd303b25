/*
 * test_customer: creating customers (common/customer.c cust_create) on a
 * real database in a temporary directory: the local numbers and the
 * floor behind them (meta local_seq).
 *
 * What happens: customers are created one after another; the floor is
 * set back (as a restored backup whose customers HQ sends back would
 * leave it) and forward (as a restore's jump does); a customer learnt
 * from HQ with one of this register's numbers arrives; customers are
 * deleted (a fold) and renumbered; a create brings its own async_id
 * twice, then another record under it.
 * What must hold: numbers run R01-000001, 000002, ...; a create writes
 * no counter until it had to step over more than 32 taken numbers, then
 * moves the floor to the number it took; a number some customer holds is
 * skipped; a number given up by a deleted or renumbered customer is never
 * handed out again and the floor never goes back; HQ's customers do not
 * move it; the duplicates named are the earlier customers only; the same
 * record with the same async_id is "already recorded" (no second row), a
 * different one is refused with async_id_reused and stores nothing.
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
#include "common/record.h"
#include "common/store.h"
#include "tests/unit/fx_store.h"

struct fx {
	struct fx_store s;
	struct store *st;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || fx_store_open(&f->s, "test_customer"))
		return -1;
	f->st = f->s.st;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	int rc = fx_store_close(&f->s);

	free(f);
	return rc;
}

/* First column of a query as text ("" for NULL / no row). */
static const char *q(struct fx *f, const char *sql)
{
	const char *v = fx_q(f->st, sql);

	assert_non_null(v);
	return v;
}

static void exec(struct fx *f, const char *sql)
{
	assert_int_equal(sqlite3_exec(f->st->db, sql, NULL, NULL, NULL), SQLITE_OK);
}

/* Creates a customer from json; returns its local number (static). */
static const char *create(struct fx *f, const char *json, bool from_json, int want_rc, bool *created)
{
	static char local[64];
	cJSON *rec = cJSON_Parse(json), *doc = NULL;
	struct pa_err e;
	bool made = false;

	assert_non_null(rec);
	assert_int_equal(cust_create(f->st, rec, from_json, &doc, &made, &e), want_rc);
	local[0] = '\0';
	if (doc)
		snprintf(local, sizeof(local), "%s", cJSON_GetObjectItem(doc, "local_number")->valuestring);
	if (created)
		*created = made;
	cJSON_Delete(rec);
	cJSON_Delete(doc);
	return local;
}

static void test_numbers_in_order(void **state)
{
	struct fx *f = *state;

	assert_string_equal(create(f, "{\"first_name\":\"Ana\"}", false, 0, NULL), "R01-000001");
	assert_string_equal(create(f, "{\"first_name\":\"Bo\"}", false, 0, NULL), "R01-000002");
	/* no counter written: the numbers held are the count */
	assert_string_equal(q(f, "SELECT count(*) FROM meta WHERE key = 'local_seq'"), "0");
	assert_string_equal(q(f, "SELECT group_concat(origin || state) FROM customer"), "localpending,localpending");
}

/* The floor moves once a create stepped over more than 32 taken numbers. */
static void test_floor_moves(void **state)
{
	struct fx *f = *state;
	char want[16];

	for (int i = 1; i <= 32; i++) {
		snprintf(want, sizeof(want), "R01-%06d", i);
		assert_string_equal(create(f, "{\"first_name\":\"Ana\"}", false, 0, NULL), want);
	}
	assert_string_equal(q(f, "SELECT count(*) FROM meta WHERE key = 'local_seq'"), "0");
	assert_string_equal(create(f, "{\"first_name\":\"Bo\"}", false, 0, NULL), "R01-000033");
	assert_string_equal(q(f, "SELECT value FROM meta WHERE key = 'local_seq'"), "33");
	assert_string_equal(create(f, "{\"first_name\":\"Cy\"}", false, 0, NULL), "R01-000034");
	assert_string_equal(q(f, "SELECT value FROM meta WHERE key = 'local_seq'"), "33");
}

static void test_held_number_skipped(void **state)
{
	struct fx *f = *state;

	create(f, "{\"first_name\":\"Ana\"}", false, 0, NULL);
	create(f, "{\"first_name\":\"Bo\"}", false, 0, NULL);
	create(f, "{\"first_name\":\"Cy\"}", false, 0, NULL);
	/* the floor behind the numbers held (a restored copy, before HQ sent
	 * its customers back) */
	exec(f, "INSERT OR REPLACE INTO meta(key, value) VALUES ('local_seq', '1')");
	assert_string_equal(create(f, "{\"first_name\":\"Di\"}", false, 0, NULL), "R01-000004");
	assert_string_equal(create(f, "{\"first_name\":\"Ed\"}", false, 0, NULL), "R01-000005");
	assert_string_equal(q(f, "SELECT count(*) FROM customer"), "5");
	assert_string_equal(q(f, "SELECT count(DISTINCT local_number) FROM customer"), "5");
	assert_string_equal(q(f, "SELECT value FROM meta WHERE key = 'local_seq'"), "1");
}

/* The numbers held above the floor are walked in order; a string of
 * another shape among them is stepped over, and past six digits each
 * number is looked up on its own. */
static void test_walk_and_seven_digits(void **state)
{
	struct fx *f = *state;

	exec(f, "INSERT INTO customer(account, state, kind, first_name, search_name, local_number, origin, created_at,"
	        " updated_at) VALUES ('C1', 'synced', 'person', 'A', ' a', 'R01-000001', 'hq', '2026-01-01T00:00:00Z', 0),"
	        " ('C2', 'synced', 'person', 'B', ' b', 'R01-000001x', 'hq', '2026-01-01T00:00:00Z', 0),"
	        " ('C3', 'synced', 'person', 'C', ' c', 'R01-000002', 'hq', '2026-01-01T00:00:00Z', 0),"
	        " ('C4', 'synced', 'person', 'D', ' d', 'R01-000004', 'hq', '2026-01-01T00:00:00Z', 0)");
	assert_string_equal(create(f, "{\"first_name\":\"Ana\"}", false, 0, NULL), "R01-000003");
	assert_string_equal(create(f, "{\"first_name\":\"Bo\"}", false, 0, NULL), "R01-000005");
	exec(f, "INSERT OR REPLACE INTO meta(key, value) VALUES ('local_seq', '999997')");
	exec(f, "INSERT INTO customer(account, state, kind, first_name, search_name, local_number, origin, created_at,"
	        " updated_at) VALUES ('C5', 'synced', 'person', 'E', ' e', 'R01-999998', 'hq', '2026-01-01T00:00:00Z', 0),"
	        " ('C6', 'synced', 'person', 'F', ' f', 'R01-999999', 'hq', '2026-01-01T00:00:00Z', 0),"
	        " ('C7', 'synced', 'person', 'G', ' g', 'R01-1000000', 'hq', '2026-01-01T00:00:00Z', 0)");
	assert_string_equal(create(f, "{\"first_name\":\"Cy\"}", false, 0, NULL), "R01-1000001");
	assert_string_equal(create(f, "{\"first_name\":\"Di\"}", false, 0, NULL), "R01-1000002");
}

static void test_counter_never_back(void **state)
{
	struct fx *f = *state;

	create(f, "{\"first_name\":\"Ana\"}", false, 0, NULL);
	/* a restore's jump */
	exec(f, "INSERT OR REPLACE INTO meta(key, value) VALUES ('local_seq', '10001')");
	assert_string_equal(create(f, "{\"first_name\":\"Bo\"}", false, 0, NULL), "R01-010002");
	/* a customer from HQ with an older number of this register */
	exec(f, "INSERT INTO customer(account, state, kind, first_name, search_name, local_number, origin, created_at,"
	        " updated_at) VALUES ('C9', 'synced', 'person', 'Hq', ' hq', 'R01-000007', 'hq',"
	        " '2026-01-01T00:00:00Z', 0)");
	assert_string_equal(q(f, "SELECT value FROM meta WHERE key = 'local_seq'"), "10001");
	/* an insert below the floor does not move it back */
	exec(f, "INSERT INTO customer(async_id, state, kind, first_name, search_name, local_number, origin,"
	        " created_at, updated_at) VALUES ('00000000-0000-4000-8000-000000000001', 'pending', 'person',"
	        " 'Lo', ' lo', 'R01-000003', 'local', '2026-01-01T00:00:00Z', 0)");
	assert_string_equal(q(f, "SELECT value FROM meta WHERE key = 'local_seq'"), "10001");
	assert_string_equal(create(f, "{\"first_name\":\"Cy\"}", false, 0, NULL), "R01-010003");
	/* nor does the deletion of a number below it */
	exec(f, "DELETE FROM customer WHERE local_number = 'R01-000003'");
	assert_string_equal(q(f, "SELECT value FROM meta WHERE key = 'local_seq'"), "10001");
}

/* A number given up is never handed out again (schema 7's triggers): the
 * customer that held it folded into another by HQ, or renumbered. */
static void test_given_up_number_retired(void **state)
{
	struct fx *f = *state;
	struct pa_err e;

	create(f, "{\"first_name\":\"Ana\"}", false, 0, NULL);
	create(f, "{\"first_name\":\"Bo\"}", false, 0, NULL);
	create(f, "{\"first_name\":\"Cy\"}", false, 0, NULL);
	assert_int_equal(store_begin(f->st, true, &e), 0);
	assert_int_equal(rec_fold_customer(f->st, 3, 1, &e), 0); /* Cy, R01-000003, was Ana */
	assert_int_equal(store_commit(f->st, &e), 0);
	assert_string_equal(q(f, "SELECT count(*) FROM customer WHERE local_number = 'R01-000003'"), "0");
	assert_string_equal(create(f, "{\"first_name\":\"Di\"}", false, 0, NULL), "R01-000004");
	/* renumbered: its old number is given up */
	exec(f, "UPDATE customer SET local_number = 'R01-000099' WHERE local_number = 'R01-000004'");
	assert_string_equal(q(f, "SELECT value FROM meta WHERE key = 'local_seq'"), "4");
	assert_string_equal(create(f, "{\"first_name\":\"Ed\"}", false, 0, NULL), "R01-000005");
	/* a lower number given up leaves the floor where it is */
	exec(f, "DELETE FROM customer WHERE local_number = 'R01-000002'");
	assert_string_equal(q(f, "SELECT value FROM meta WHERE key = 'local_seq'"), "4");
	assert_string_equal(create(f, "{\"first_name\":\"Fa\"}", false, 0, NULL), "R01-000006");
	assert_string_equal(q(f, "SELECT group_concat(local_number) FROM (SELECT local_number FROM customer ORDER BY 1)"),
	                    "R01-000001,R01-000005,R01-000006,R01-000099");
}

static void test_duplicates_and_given_id(void **state)
{
	struct fx *f = *state;
	const char *rec = "{\"async_id\":\"6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b\",\"first_name\":\"Ana\","
	                  "\"email\":\"ana@example.com\"}";
	cJSON *in, *doc = NULL;
	struct pa_err e;
	bool created = true;

	create(f, "{\"first_name\":\"Ana\",\"email\":\"ana@example.com\"}", false, 0, NULL);
	in = cJSON_Parse("{\"first_name\":\"Ann\",\"email\":\"ANA@example.com\",\"phone\":\"+351 911 234 567\"}");
	assert_int_equal(cust_create(f->st, in, false, &doc, &created, &e), 0);
	assert_true(created);
	/* the earlier customer only, never itself */
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "possible_duplicates")), 1);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "possible_duplicates"), 0),
	                                        "local_number")->valuestring, "R01-000001");
	cJSON_Delete(in);
	cJSON_Delete(doc);

	assert_string_equal(create(f, rec, true, 0, &created), "R01-000003");
	assert_true(created);
	assert_string_equal(create(f, rec, true, 0, &created), "R01-000003");
	assert_false(created);
	assert_string_equal(q(f, "SELECT count(*) FROM customer"), "3");
	create(f,
	       "{\"async_id\":\"6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b\",\"first_name\":\"Other\"}", true, EX_DATAERR,
	       NULL);
	assert_string_equal(q(f, "SELECT count(*) FROM customer"), "3");
	assert_string_equal(create(f, "{\"first_name\":\"Di\"}", false, 0, NULL), "R01-000004");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_numbers_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_floor_moves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_given_up_number_retired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_number_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counter_never_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_walk_and_seven_digits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicates_and_given_id, setup, teardown),
	};

	return cmocka_run_group_tests_name("customer", tests, NULL, NULL);
}
