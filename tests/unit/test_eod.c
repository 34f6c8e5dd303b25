/*
 * test_eod: common/eod.c against a real store in a temporary directory,
 * no HQ: the oldest open date, the gate's counts and reasons (including
 * hq_unreachable from the bookkeeping and from this run), the exact
 * statement body (SQL sums, plain-digit integers past 2^53), the freeze
 * (refused while not ready, never rebuilt once made, closing the date to
 * txn_record). Posting is the end-to-end suite's (tests/e2e/3*-eod*).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/eod.h"
#include "common/log.h"
#include "common/txn.h"
#include "common/validate.h"

struct fixture {
	char dir[64];
	char path[128];
	struct store *st;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct pa_err e;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_eod.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/pos.db", f->dir);
	assert_int_equal(store_open(f->path, true, &f->st, &e), 0);
	store_identity(f->st, "S0001", "R01", "EUR");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char p[160];

	store_close(f->st);
	for (const char *const *s = (const char *const[]){"", "-wal", "-shm", "-sync.lock", NULL}; *s; s++) {
		snprintf(p, sizeof(p), "%s%s", f->path, *s);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Runs constant SQL; the test fails on error. */
static void exec(struct fixture *f, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(f->st->db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
	sqlite3_free(msg);
}

/* A customer row numbered n in state (synced ones get account C00000n),
 * with HQ's code when rejected. */
static void customer(struct fixture *f, int n, const char *state, const char *code)
{
	char sql[512];

	snprintf(sql, sizeof(sql),
	         "INSERT INTO customer(id, async_id, local_number, origin, state, kind, created_at, last_code,"
	         " last_message, updated_at) VALUES (%d, '00000000-0000-4000-8000-%012d', 'R01-%06d', 'local', '%s',"
	         " 'person', '2026-11-25T09:00:00Z', nullif('%s', ''), nullif('%s', ''), 0)",
	         n, n, n, state, code ? code : "", code ? "HQ says no" : "");
	exec(f, sql);
	if (strcmp(state, "synced") == 0) {
		snprintf(sql, sizeof(sql), "UPDATE customer SET account = 'C%06d' WHERE id = %d", n, n);
		exec(f, sql);
	}
}

/* A transaction row with one or two tenders. */
static void txn(struct fixture *f, int n, const char *date, int cust, long long total, const char *state,
                const char *t1, long long a1, const char *t2, long long a2)
{
	char sql[768], custcol[16];

	if (cust)
		snprintf(custcol, sizeof(custcol), "%d", cust);
	else
		snprintf(custcol, sizeof(custcol), "NULL");
	snprintf(sql, sizeof(sql),
	         "INSERT INTO txn(id, txn_id, kind, business_date, customer_id, total_minor, body, state, last_code,"
	         " updated_at) VALUES (%d, 'S0001-R01-%06d', 'cash_and_carry', '%s', %s, %lld, '{}', '%s', %s, 0);"
	         "INSERT INTO tender(txn, type, amount_minor) VALUES (%d, '%s', %lld);",
	         n, n, date, custcol, total, state, strcmp(state, "rejected") == 0 ? "'invalid_transaction'" : "NULL",
	         n, t1, a1);
	exec(f, sql);
	if (t2) {
		snprintf(sql, sizeof(sql), "INSERT INTO tender(txn, type, amount_minor) VALUES (%d, '%s', %lld)", n, t2,
		         a2);
		exec(f, sql);
	}
}

static void test_oldest_open(void **state)
{
	struct fixture *f = *state;
	char date[EOD_DATE_LEN + 1];
	bool found = true;
	struct pa_err e;

	assert_int_equal(eod_oldest_open(f->st, date, &found, &e), 0);
	assert_false(found);
	txn(f, 1, "2026-11-25", 0, 100, "uploaded", "cash", 100, NULL, 0);
	txn(f, 2, "2026-11-24", 0, 100, "uploaded", "cash", 100, NULL, 0);
	txn(f, 3, "2026-11-26", 0, 100, "pending", "cash", 100, NULL, 0);
	assert_int_equal(eod_oldest_open(f->st, date, &found, &e), 0);
	assert_true(found);
	assert_string_equal(date, "2026-11-24");
	/* posted: closed and skipped; frozen or refused: still open */
	exec(f, "INSERT INTO statement VALUES ('2026-11-24', 'a', 'k', '{}', 'posted', 'P1', 0, 0, NULL, NULL)");
	exec(f, "INSERT INTO statement VALUES ('2026-11-25', 'b', 'k', '{}', 'refused', NULL, 0, NULL, 'x', 'y')");
	assert_int_equal(eod_oldest_open(f->st, date, &found, &e), 0);
	assert_string_equal(date, "2026-11-25");
	exec(f, "UPDATE statement SET state = 'posted' WHERE business_date = '2026-11-25'");
	assert_int_equal(eod_oldest_open(f->st, date, &found, &e), 0);
	assert_string_equal(date, "2026-11-26");
	exec(f, "INSERT INTO statement VALUES ('2026-11-26', 'c', 'k', '{}', 'posted', 'P3', 0, 0, NULL, NULL)");
	assert_int_equal(eod_oldest_open(f->st, date, &found, &e), 0);
	assert_false(found);
}

static void test_gate_reasons(void **state)
{
	struct fixture *f = *state;
	struct eod_gate g;
	struct eod_net net;
	struct pa_err e;

	customer(f, 1, "synced", NULL);
	customer(f, 2, "pending", NULL);
	customer(f, 3, "uploaded", NULL);
	customer(f, 4, "rejected", "invalid_email");
	customer(f, 5, "pending", NULL); /* no transaction of the date names it */
	txn(f, 1, "2026-11-25", 1, 100, "uploaded", "cash", 100, NULL, 0);
	txn(f, 2, "2026-11-25", 2, 200, "pending", "cash", 200, NULL, 0);
	txn(f, 3, "2026-11-25", 3, 300, "uploaded", "card", 300, NULL, 0);
	txn(f, 4, "2026-11-25", 3, 300, "uploaded", "card", 300, NULL, 0);
	txn(f, 5, "2026-11-25", 4, 400, "pending", "cash", 400, NULL, 0);
	txn(f, 6, "2026-11-25", 0, 500, "rejected", "cash", 500, NULL, 0);
	txn(f, 7, "2026-11-26", 5, 500, "pending", "cash", 500, NULL, 0);

	assert_int_equal(eod_gate(f->st, "2026-11-25", NULL, &g, &e), 0);
	assert_int_equal(g.customers, 4);
	assert_int_equal(g.synced, 1);
	assert_int_equal(g.txns, 6);
	assert_int_equal(g.txns_uploaded, 3);
	assert_int_equal(g.rejected, 2);
	assert_int_equal(g.nblocks, 4);
	assert_string_equal(g.blocks[0].local_number, "R01-000002");
	assert_int_equal(g.blocks[0].reason, EOD_WAIT_UPLOAD);
	assert_string_equal(g.blocks[1].local_number, "R01-000003");
	assert_int_equal(g.blocks[1].reason, EOD_WAIT_ASSIGN);
	assert_string_equal(g.blocks[2].local_number, "R01-000004");
	assert_int_equal(g.blocks[2].reason, EOD_REJECTED);
	assert_string_equal(g.blocks[2].code, "invalid_email");
	assert_string_equal(g.blocks[3].txn_id, "S0001-R01-000006");
	assert_string_equal(g.blocks[3].code, "invalid_transaction");
	assert_false(g.unreachable);
	assert_false(eod_ready(&g));
	assert_string_equal(g.stmt_state, "");
	eod_gate_free(&g);

	/* An error after the last upload and download: HQ unreachable. */
	exec(f, "INSERT INTO meta VALUES ('last_upload', '2026-11-25T10:00:00Z'),"
	        " ('last_download', '2026-11-25T10:00:00Z'), ('last_error_at', '2026-11-25T10:00:05Z'),"
	        " ('last_error', 'cannot connect')");
	assert_int_equal(eod_gate(f->st, "2026-11-25", NULL, &g, &e), 0);
	assert_int_equal(g.blocks[0].reason, EOD_UNREACHABLE);
	assert_int_equal(g.blocks[1].reason, EOD_UNREACHABLE);
	assert_true(g.unreachable);
	assert_string_equal(g.last_error, "cannot connect");
	eod_gate_free(&g);

	/* This run's outcome: the download worked, the upload failed. */
	memset(&net, 0, sizeof(net));
	exec(f, "UPDATE meta SET value = '2026-11-25T09:00:00Z' WHERE key = 'last_error_at'");
	net.up_failed = true;
	snprintf(net.last_error, sizeof(net.last_error), "HQ answered 503");
	assert_int_equal(eod_gate(f->st, "2026-11-25", &net, &g, &e), 0);
	assert_int_equal(g.blocks[0].reason, EOD_UNREACHABLE);
	assert_int_equal(g.blocks[1].reason, EOD_WAIT_ASSIGN);
	assert_string_equal(g.last_error, "HQ answered 503");
	assert_string_equal(eod_reason_name(g.blocks[1].reason), "waiting_for_assignment");
	eod_gate_free(&g);
}

/* An address row n of customer cust in state, with purpose and HQ's
 * code when rejected (synced ones get address id A00000n). */
static void address(struct fixture *f, int n, int cust, const char *state, const char *purpose, const char *code)
{
	char sql[768];

	snprintf(sql, sizeof(sql),
	         "INSERT INTO address(id, async_id, address_id, customer_id, origin, state, purpose, line1, city,"
	         " postal_code, country, created_at, last_code, last_message, updated_at) VALUES (%d,"
	         " '00000000-0000-4000-9000-%012d', CASE '%s' WHEN 'synced' THEN 'A%06d' END, %d, 'local', '%s',"
	         " nullif('%s', ''), 'Rua', 'Lisboa', '1100', 'PT', 'x', nullif('%s', ''), nullif('%s', ''), 0)",
	         n, n, state, n, cust, state, purpose ? purpose : "", code ? code : "", code ? "HQ says no" : "");
	exec(f, sql);
}

/* Names addresses d (delivery) and i (invoice) on transaction n (0: none). */
static void names(struct fixture *f, int n, int d, int i)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "UPDATE txn SET delivery_address_id = nullif(%d, 0), invoice_address_id = nullif(%d, 0)"
	                           " WHERE id = %d", d, i, n);
	exec(f, sql);
}

/* The gate over addresses: each distinct referenced address counted once,
 * synced ones counted as synced, the others classified like customers
 * (pending: waiting_for_upload, uploaded: waiting_for_assignment, both
 * hq_unreachable when the network says so, rejected with HQ's code),
 * named by its customer's local number and purpose; unreferenced ones and
 * other dates' ones ignored; the freeze refuses while one is unsynced. */
static void test_gate_addresses(void **state)
{
	struct fixture *f = *state;
	struct eod_gate g;
	struct eod_net net;
	struct eod_stmt st;
	struct pa_err e;

	customer(f, 1, "synced", NULL);
	customer(f, 2, "synced", NULL);
	address(f, 1, 1, "synced", "delivery", NULL);
	address(f, 2, 1, "pending", "delivery", NULL);
	address(f, 3, 1, "uploaded", "invoice", NULL);
	address(f, 4, 2, "rejected", NULL, "invalid_address");
	address(f, 5, 2, "pending", "home", NULL); /* named only on another date */
	address(f, 6, 2, "pending", "home", NULL); /* named by no sale */
	txn(f, 1, "2026-11-25", 1, 100, "uploaded", "cash", 100, NULL, 0);
	txn(f, 2, "2026-11-25", 1, 100, "uploaded", "cash", 100, NULL, 0);
	txn(f, 3, "2026-11-25", 2, 100, "uploaded", "cash", 100, NULL, 0);
	txn(f, 4, "2026-11-26", 2, 100, "uploaded", "cash", 100, NULL, 0);
	names(f, 1, 1, 3);
	names(f, 2, 2, 3); /* address 3 twice: counted once */
	names(f, 3, 0, 4);
	names(f, 4, 5, 0);

	assert_int_equal(eod_gate(f->st, "2026-11-25", NULL, &g, &e), 0);
	assert_int_equal(g.customers, 2);
	assert_int_equal(g.addresses, 4);
	assert_int_equal(g.synced, 3);
	assert_int_equal(g.rejected, 1);
	assert_int_equal(g.nblocks, 3);
	assert_int_equal(g.blocks[0].kind, EOD_ADDRESS);
	assert_string_equal(g.blocks[0].async_id, "00000000-0000-4000-9000-000000000002");
	assert_string_equal(g.blocks[0].local_number, "R01-000001");
	assert_string_equal(g.blocks[0].purpose, "delivery");
	assert_string_equal(g.blocks[0].state, "pending");
	assert_int_equal(g.blocks[0].reason, EOD_WAIT_UPLOAD);
	assert_string_equal(g.blocks[1].purpose, "invoice");
	assert_int_equal(g.blocks[1].reason, EOD_WAIT_ASSIGN);
	assert_int_equal(g.blocks[2].kind, EOD_ADDRESS);
	assert_string_equal(g.blocks[2].local_number, "R01-000002");
	assert_string_equal(g.blocks[2].purpose, "");
	assert_int_equal(g.blocks[2].reason, EOD_REJECTED);
	assert_string_equal(g.blocks[2].code, "invalid_address");
	assert_false(eod_ready(&g));
	eod_gate_free(&g);

	/* this run's download failed: the uploaded address waits on HQ */
	memset(&net, 0, sizeof(net));
	net.down_failed = true;
	snprintf(net.last_error, sizeof(net.last_error), "reset");
	assert_int_equal(eod_gate(f->st, "2026-11-25", &net, &g, &e), 0);
	assert_int_equal(g.blocks[0].reason, EOD_WAIT_UPLOAD);
	assert_int_equal(g.blocks[1].reason, EOD_UNREACHABLE);
	assert_true(g.unreachable);
	eod_gate_free(&g);

	/* the freeze refuses while an address is unsynced, even with every
	 * customer synced and every transaction uploaded */
	assert_int_equal(eod_freeze(f->st, "2026-11-25", &st, &e), EX_TEMPFAIL);
	exec(f, "UPDATE address SET state = 'synced', address_id = 'A' || id, last_code = NULL WHERE id IN (2, 3, 4)");
	assert_int_equal(eod_gate(f->st, "2026-11-25", NULL, &g, &e), 0);
	assert_int_equal(g.nblocks, 0);
	assert_int_equal(g.synced, g.customers + g.addresses);
	assert_true(eod_ready(&g));
	eod_gate_free(&g);
	assert_int_equal(eod_freeze(f->st, "2026-11-25", &st, &e), 0);
	eod_stmt_free(&st);
}

static void test_build_exact(void **state)
{
	struct fixture *f = *state;
	struct pa_err e;
	char *body = NULL;
	size_t len = 0;
	int64_t count = 0;

	/* Sums past 2^53 stay exact and plain digits. */
	txn(f, 1, "2026-11-25", 0, 900000000000001LL, "uploaded", "card", 900000000000001LL, NULL, 0);
	txn(f, 2, "2026-11-25", 0, 900000000000002LL, "uploaded", "card", 450000000000001LL, "cash", 450000000000001LL);
	txn(f, 3, "2026-11-25", 0, -1299, "uploaded", "cash", -1299, NULL, 0);
	txn(f, 4, "2026-11-24", 0, 7, "uploaded", "voucher", 7, NULL, 0);
	assert_int_equal(eod_build(f->st, "2026-11-25", "11111111-1111-4111-8111-111111111111", &body, &len, &count, &e), 0);
	assert_int_equal(count, 3);
	assert_string_equal(body,
		"{\"statement_id\":\"11111111-1111-4111-8111-111111111111\",\"business_date\":\"2026-11-25\","
		"\"currency\":\"EUR\",\"transaction_count\":3,"
		"\"transactions\":[\"S0001-R01-000001\",\"S0001-R01-000002\",\"S0001-R01-000003\"],"
		"\"totals\":{\"sales_minor\":1799999999998704,"
		"\"by_tender\":{\"card\":1350000000000002,\"cash\":449999999998702}}}");
	assert_int_equal(len, strlen(body));
	free(body);
}

static void test_freeze(void **state)
{
	struct fixture *f = *state;
	struct eod_stmt s, again;
	struct eod_gate g;
	struct pa_err e;
	cJSON *out = NULL;
	bool created = true;
	int64_t n = -1;
	const char *late = "{\"txn_id\":\"S0001-R01-000009\",\"kind\":\"cash_and_carry\",\"business_date\":\"2026-11-25\","
	                   "\"currency\":\"EUR\",\"customer\":null,\"lines\":[{\"sku\":\"S\",\"qty\":1,\"unit_price_minor\":5}],"
	                   "\"tenders\":[{\"type\":\"cash\",\"amount_minor\":5}],\"total_minor\":5}";

	customer(f, 1, "uploaded", NULL);
	txn(f, 1, "2026-11-25", 1, 100, "uploaded", "cash", 100, NULL, 0);
	txn(f, 2, "2026-11-25", 0, 200, "pending", "card", 200, NULL, 0);

	/* Not ready: refused, nothing written. */
	assert_int_equal(eod_freeze(f->st, "2026-11-25", &s, &e), EX_TEMPFAIL);
	assert_string_equal(e.code, "not_ready");
	assert_int_equal(store_query_i(f->st, "SELECT count(*) FROM statement", 0, 0, 0, &n, &e), 0);
	assert_int_equal(n, 0);
	exec(f, "UPDATE txn SET state = 'uploaded'");
	assert_int_equal(eod_freeze(f->st, "2026-11-25", &s, &e), EX_TEMPFAIL);
	exec(f, "UPDATE customer SET state = 'synced', account = 'C000001'");

	/* Ready: frozen, and the date is closed to new transactions. */
	assert_int_equal(eod_freeze(f->st, "2026-11-25", &s, &e), 0);
	assert_string_equal(s.state, "frozen");
	assert_int_equal(s.txns, 2);
	assert_true(val_uuid(s.statement_id) && val_uuid(s.idem_key));
	assert_non_null(strstr(s.body, "\"sales_minor\":300"));
	assert_int_equal(eod_gate(f->st, "2026-11-25", NULL, &g, &e), 0);
	assert_string_equal(g.stmt_state, "frozen");
	assert_string_equal(g.statement_id, s.statement_id);
	assert_true(eod_ready(&g));
	eod_gate_free(&g);
	assert_int_equal(txn_record(f->st, late, strlen(late), &out, &created, &e), EX_DATAERR);
	assert_string_equal(e.code, "date_closed");
	assert_null(out);

	/* Never rebuilt: a second freeze returns the stored one unchanged. */
	exec(f, "UPDATE txn SET total_minor = 999 WHERE id = 1");
	assert_int_equal(eod_freeze(f->st, "2026-11-25", &again, &e), 0);
	assert_string_equal(again.statement_id, s.statement_id);
	assert_string_equal(again.idem_key, s.idem_key);
	assert_string_equal(again.body, s.body);
	eod_stmt_free(&again);
	assert_int_equal(eod_load(f->st, "2026-11-25", &again, &e), 0);
	assert_string_equal(again.body, s.body);
	eod_stmt_free(&again);
	assert_int_equal(eod_load(f->st, "2026-11-24", &again, &e), EX_DATAERR);
	eod_stmt_free(&s);

	/* A date without transactions cannot be frozen. */
	assert_int_equal(eod_freeze(f->st, "2026-11-20", &s, &e), EX_DATAERR);
	assert_string_equal(e.code, "no_transactions");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_oldest_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gate_reasons, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gate_addresses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_build_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_freeze, setup, teardown),
	};

	log_set_verbose(0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
