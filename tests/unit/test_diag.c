/*
 * test_diag: what `status` and `doctor` read (common/diag).
 *
 * What happens: a database is filled by hand with customers, addresses,
 * transactions, statements and batches in every state; the readers are
 * run over it. The network helpers are run against a socket of our own
 * (listening, then closed), a reserved address that never answers, and
 * names that resolve and do not. CA bundles good, damaged and empty are
 * read; URLs and configuration values are checked one rule at a time.
 * What must hold: counts by state equal the rows (the majority state
 * computed as the rest); the oldest waiting record is the oldest pending
 * (or, for a customer, uploaded) one, never a rejected or finished one;
 * rejected records come oldest first per kind, capped, with the total;
 * an open date is one with transactions and no posted statement, with its
 * distinct unsynced customers; every network helper answers within its
 * timeout with a message that says what failed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/diag.h"
#include "common/util.h"

#define CERT                                                               \
	"-----BEGIN CERTIFICATE-----\n"                                        \
	"MIIBczCCARmgAwIBAgIUZYQkmB9wdRRr/cjxvCaryj2oBdswCgYIKoZIzj0EAwIw\n" \
	"DzENMAsGA1UEAwwEdGVzdDAeFw0yNjExMjUxMjUyMjNaFw0zNjExMjIxMjUyMjNa\n" \
	"MA8xDTALBgNVBAMMBHRlc3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAS/xfRJ\n" \
	"Z60HAOVx7UMLmDs+2LBwXOb02OZE5U+MyhrqWx2IcBcCFfYu6Mr9taXcpqsanTYJ\n" \
	"XXwhdLkTv2TQnui9o1MwUTAdBgNVHQ4EFgQUVUwK/GJ047S07j/bjnyhVQc2wTQw\n" \
	"HwYDVR0jBBgwFoAUVUwK/GJ047S07j/bjnyhVQc2wTQwDwYDVR0TAQH/BAUwAwEB\n" \
	"/zAKBggqhkjOPQQDAgNIADBFAiEAg3kU/Crwb3BCr55wkJsnAwC5K2wl6l+1vgnw\n" \
	"9UxK/z8CIDOY1+eWYVUf1xLBKAZQb0vmKTr5CTo8O8YkC818xvoJ\n"                 \
	"-----END CERTIFICATE-----\n"

struct fx {
	char dir[256];
	char path[300];
	struct store *st;
	struct pa_err e;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/test_diag.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/pos.db", f->dir);
	if (store_open(f->path, true, &f->st, &f->e) != 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[600];

	store_close(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* Runs test SQL (constant, made here) on the fixture's database. */
static void exec(struct fx *f, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(f->st->db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
	sqlite3_free(msg);
}

/* SQL for "started waiting age seconds ago" (NULL when age is 0). */
static const char *since_sql(int64_t age, char *buf, size_t n)
{
	if (!age)
		return "NULL";
	snprintf(buf, n, "unixepoch() - %lld", (long long)age);
	return buf;
}

/* SQL for a code ('code', or NULL). */
static const char *code_sql(const char *code, char *buf, size_t n)
{
	if (!code)
		return "NULL";
	snprintf(buf, n, "'%s'", code);
	return buf;
}

/* A customer row: id, state, waiting for age seconds (0: NULL), code. */
static void customer(struct fx *f, int id, const char *state, int64_t age, const char *code)
{
	char sql[700], sb[40], cb[64];

	snprintf(sql, sizeof(sql),
	         "INSERT INTO customer(id, async_id, local_number, account, origin, state, kind, first_name, created_at,"
	         " waiting_since, last_code, updated_at) VALUES (%d, 'a-%d', 'R01-%06d', %s, 'local', '%s', 'person',"
	         " 'Secret%d', '2026-11-25T00:00:00Z', %s, %s, 0)",
	         id, id, id, strcmp(state, "synced") == 0 ? "'C' || hex(randomblob(4))" : "NULL", state, id,
	         since_sql(age, sb, sizeof(sb)), code_sql(code, cb, sizeof(cb)));
	exec(f, sql);
}

/* A transaction row: n, date, customer id (0: none), state, age, code. */
static void txn(struct fx *f, int n, const char *date, int cust, const char *state, int64_t age, const char *code)
{
	char sql[700], sb[40], cb[64], cu[24];

	snprintf(cu, sizeof(cu), "%d", cust);
	snprintf(sql, sizeof(sql),
	         "INSERT INTO txn(txn_id, kind, business_date, customer_id, total_minor, body, state, waiting_since,"
	         " last_code, updated_at) VALUES ('S0001-R01-%06d', 'cash_and_carry', '%s', %s, 100, '{}', '%s', %s,"
	         " %s, 0)",
	         n, date, cust ? cu : "NULL", state, since_sql(age, sb, sizeof(sb)), code_sql(code, cb, sizeof(cb)));
	exec(f, sql);
}

/* An address row: n, customer id, state, age, code. */
static void address(struct fx *f, int n, int cust, const char *state, int64_t age, const char *code)
{
	char sql[700], sb[40], cb[64];

	snprintf(sql, sizeof(sql),
	         "INSERT INTO address(async_id, customer_id, origin, state, line1, created_at, waiting_since, last_code,"
	         " updated_at) VALUES ('ad-%d', %d, 'local', '%s', 'Rua Secreta', '2026-11-25T00:00:00Z', %s, %s, 0)",
	         n, cust, state, since_sql(age, sb, sizeof(sb)), code_sql(code, cb, sizeof(cb)));
	exec(f, sql);
}

/* ---- database readers ---------------------------------------------------- */

static void test_empty(void **state)
{
	struct fx *f = *state;
	struct diag_counts c;
	struct diag_waiting w;
	struct diag_meta m;
	int64_t total = -1;

	assert_int_equal(diag_count(f->st, &c, &f->e), 0);
	for (int k = 0; k < DIAG_NKINDS; k++)
		for (int i = 0; i < DIAG_MAX_STATES; i++)
			assert_int_equal(c.n[k][i], 0);
	assert_int_equal(diag_oldest_waiting(f->st, &w, &f->e), 0);
	assert_false(w.found);
	assert_int_equal(diag_rejected(f->st, 10, NULL, NULL, &total, &f->e), 0);
	assert_int_equal(total, 0);
	assert_int_equal(diag_open_dates(f->st, 10, NULL, NULL, &total, &f->e), 0);
	assert_int_equal(total, 0);
	assert_int_equal(diag_flagged(f->st, NULL, NULL, &total, &f->e), 0);
	assert_int_equal(total, 0);
	assert_int_equal(diag_meta(f->st, &m, &f->e), 0);
	assert_string_equal(m.last_upload, "");
	assert_string_equal(m.next_retry, "");
}

static void test_counts(void **state)
{
	struct fx *f = *state;
	struct diag_counts c;
	int n;
	const char *const *cs = diag_states(DIAG_CUSTOMER, &n);

	assert_int_equal(n, 4);
	assert_string_equal(cs[0], "pending");
	assert_string_equal(cs[3], "rejected");
	customer(f, 1, "pending", 10, NULL);
	customer(f, 2, "pending", 20, NULL);
	customer(f, 3, "uploaded", 30, NULL);
	for (int i = 4; i < 14; i++)
		customer(f, i, "synced", 0, NULL);
	customer(f, 14, "rejected", 5, "invalid_email");
	address(f, 1, 1, "pending", 5, NULL);
	address(f, 2, 4, "uploaded", 0, NULL);
	address(f, 3, 4, "uploaded", 0, NULL);
	txn(f, 1, "2026-11-24", 4, "uploaded", 0, NULL);
	txn(f, 2, "2026-11-25", 1, "pending", 5, NULL);
	txn(f, 3, "2026-11-25", 0, "rejected", 5, "invalid_transaction");
	assert_int_equal(diag_count(f->st, &c, &f->e), 0);
	assert_int_equal(c.n[DIAG_CUSTOMER][0], 2);
	assert_int_equal(c.n[DIAG_CUSTOMER][1], 1);
	assert_int_equal(c.n[DIAG_CUSTOMER][2], 10);
	assert_int_equal(c.n[DIAG_CUSTOMER][3], 1);
	assert_int_equal(c.n[DIAG_ADDRESS][0], 1);
	assert_int_equal(c.n[DIAG_ADDRESS][1], 2);
	assert_int_equal(c.n[DIAG_ADDRESS][2], 0);
	assert_int_equal(c.n[DIAG_TXN][0], 1);
	assert_int_equal(c.n[DIAG_TXN][1], 1);
	assert_int_equal(c.n[DIAG_TXN][2], 1);
	assert_string_equal(diag_kind_name(DIAG_TXN), "transaction");
}

static void test_oldest(void **state)
{
	struct fx *f = *state;
	struct diag_waiting w;

	/* Older but finished or rejected records do not count. */
	customer(f, 1, "rejected", 99999, "invalid_email");
	customer(f, 2, "synced", 0, NULL);
	txn(f, 1, "2026-11-20", 2, "uploaded", 0, NULL);
	customer(f, 3, "pending", 100, NULL);
	assert_int_equal(diag_oldest_waiting(f->st, &w, &f->e), 0);
	assert_true(w.found);
	assert_int_equal(w.kind, DIAG_CUSTOMER);
	assert_string_equal(w.id, "a-3");
	assert_string_equal(w.local_number, "R01-000003");
	assert_string_equal(w.state, "pending");
	assert_in_range(time(NULL) - w.since, 99, 102);

	/* An uploaded customer waits (for its account). */
	customer(f, 4, "uploaded", 500, NULL);
	assert_int_equal(diag_oldest_waiting(f->st, &w, &f->e), 0);
	assert_string_equal(w.id, "a-4");
	assert_string_equal(w.state, "uploaded");

	/* An address, named with its customer's local number. */
	address(f, 7, 3, "pending", 800, NULL);
	assert_int_equal(diag_oldest_waiting(f->st, &w, &f->e), 0);
	assert_int_equal(w.kind, DIAG_ADDRESS);
	assert_string_equal(w.id, "ad-7");
	assert_string_equal(w.local_number, "R01-000003");
	assert_string_equal(w.customer_state, "pending");

	/* A transaction without a customer. */
	txn(f, 9, "2026-11-25", 0, "pending", 900, NULL);
	assert_int_equal(diag_oldest_waiting(f->st, &w, &f->e), 0);
	assert_int_equal(w.kind, DIAG_TXN);
	assert_string_equal(w.id, "S0001-R01-000009");
	assert_string_equal(w.local_number, "");
	assert_string_equal(w.customer_state, "");
}

struct collected {
	struct diag_rejected r[10];
	int n;
	int stop_after; /* 0: never */
};

static int collect(void *ctx, const struct diag_rejected *r)
{
	struct collected *c = ctx;

	c->r[c->n++] = *r;
	return c->stop_after && c->n >= c->stop_after;
}

static void test_rejected(void **state)
{
	struct fx *f = *state;
	struct collected c;
	int64_t total;

	customer(f, 1, "rejected", 100, "invalid_email");
	customer(f, 2, "rejected", 300, "invalid_phone");
	customer(f, 3, "pending", 10, NULL);
	address(f, 1, 3, "rejected", 50, "invalid_address");
	txn(f, 1, "2026-11-25", 0, "rejected", 50, "invalid_transaction");

	memset(&c, 0, sizeof(c));
	assert_int_equal(diag_rejected(f->st, 10, collect, &c, &total, &f->e), 0);
	assert_int_equal(total, 4);
	assert_int_equal(c.n, 4);
	/* customers oldest first, then addresses, then transactions */
	assert_string_equal(c.r[0].id, "a-2");
	assert_string_equal(c.r[0].code, "invalid_phone");
	assert_string_equal(c.r[0].local_number, "R01-000002");
	assert_string_equal(c.r[1].id, "a-1");
	assert_int_equal(c.r[2].kind, DIAG_ADDRESS);
	assert_string_equal(c.r[2].id, "ad-1");
	assert_string_equal(c.r[2].local_number, "R01-000003");
	assert_string_equal(c.r[2].code, "invalid_address");
	assert_int_equal(c.r[3].kind, DIAG_TXN);
	assert_string_equal(c.r[3].id, "S0001-R01-000001");

	/* capped: still the full total */
	memset(&c, 0, sizeof(c));
	assert_int_equal(diag_rejected(f->st, 3, collect, &c, &total, &f->e), 0);
	assert_int_equal(total, 4);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.r[2].kind, DIAG_ADDRESS);

	/* the callback stops it */
	memset(&c, 0, sizeof(c));
	c.stop_after = 1;
	assert_int_equal(diag_rejected(f->st, 10, collect, &c, &total, &f->e), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(total, 4);
}

struct dates {
	struct diag_date d[10];
	int n;
};

static int collect_date(void *ctx, const struct diag_date *d)
{
	struct dates *c = ctx;

	c->d[c->n++] = *d;
	return 0;
}

static void test_open_dates(void **state)
{
	struct fx *f = *state;
	struct dates c;
	int64_t total;

	customer(f, 1, "synced", 0, NULL);
	customer(f, 2, "pending", 10, NULL);
	customer(f, 3, "uploaded", 10, NULL);
	customer(f, 4, "rejected", 10, "invalid_email");
	/* 11-22: posted, even though it names an unsynced customer */
	txn(f, 1, "2026-11-22", 2, "uploaded", 0, NULL);
	exec(f, "INSERT INTO statement(business_date, statement_id, idem_key, body, state, posting_id, frozen_at)"
	        " VALUES ('2026-11-22', 's1', 'k1', '{}', 'posted', 'P1', 0)");
	/* 11-23: all synced and uploaded, no statement: ready */
	txn(f, 2, "2026-11-23", 1, "uploaded", 0, NULL);
	txn(f, 3, "2026-11-23", 0, "uploaded", 0, NULL);
	/* 11-24: frozen statement, waiting to be posted */
	txn(f, 4, "2026-11-24", 1, "uploaded", 0, NULL);
	exec(f, "INSERT INTO statement(business_date, statement_id, idem_key, body, state, frozen_at)"
	        " VALUES ('2026-11-24', 's2', 'k2', '{}', 'frozen', 0)");
	/* 11-25: customers 2 (twice), 3 and 4 unsynced, 1 synced */
	txn(f, 5, "2026-11-25", 2, "pending", 10, NULL);
	txn(f, 6, "2026-11-25", 2, "pending", 10, NULL);
	txn(f, 7, "2026-11-25", 3, "uploaded", 0, NULL);
	txn(f, 8, "2026-11-25", 4, "pending", 10, NULL);
	txn(f, 9, "2026-11-25", 1, "rejected", 10, "invalid_transaction");
	txn(f, 10, "2026-11-25", 0, "uploaded", 0, NULL);

	memset(&c, 0, sizeof(c));
	assert_int_equal(diag_open_dates(f->st, 10, collect_date, &c, &total, &f->e), 0);
	assert_int_equal(total, 3);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.d[0].date, "2026-11-23");
	assert_int_equal(c.d[0].transactions, 2);
	assert_int_equal(c.d[0].not_uploaded, 0);
	assert_int_equal(c.d[0].unsynced, 0);
	assert_string_equal(c.d[0].statement, "");
	assert_string_equal(c.d[1].date, "2026-11-24");
	assert_string_equal(c.d[1].statement, "frozen");
	assert_string_equal(c.d[2].date, "2026-11-25");
	assert_int_equal(c.d[2].transactions, 6);
	assert_int_equal(c.d[2].not_uploaded, 4);
	assert_int_equal(c.d[2].unsynced, 3);

	memset(&c, 0, sizeof(c));
	assert_int_equal(diag_open_dates(f->st, 1, collect_date, &c, &total, &f->e), 0);
	assert_int_equal(total, 3);
	assert_int_equal(c.n, 1);
}

static int collect_flag(void *ctx, const struct diag_flagged *fl)
{
	char *out = ctx;

	util_copy(out, 64, fl->batch_id);
	return 0;
}

static void test_flagged_meta(void **state)
{
	struct fx *f = *state;
	struct diag_meta m;
	char got[64] = "";
	int64_t total;

	exec(f, "INSERT INTO batch(batch_id, idem_key, body, records, created_at) VALUES ('b1', 'k', x'00', 3, 0)");
	exec(f, "INSERT INTO batch(batch_id, idem_key, body, records, flagged, created_at)"
	        " VALUES ('b2', 'k', x'00', 5, 'HQ answered 400', 0)");
	assert_int_equal(diag_flagged(f->st, collect_flag, got, &total, &f->e), 0);
	assert_int_equal(total, 1);
	assert_string_equal(got, "b2");
	assert_int_equal(store_meta_set(f->st, "last_upload", "2026-11-25T09:00:00Z", &f->e), 0);
	assert_int_equal(store_meta_set(f->st, "last_error", "cannot connect", &f->e), 0);
	assert_int_equal(diag_meta(f->st, &m, &f->e), 0);
	assert_string_equal(m.last_upload, "2026-11-25T09:00:00Z");
	assert_string_equal(m.last_error, "cannot connect");
	assert_string_equal(m.last_download, "");
}

/* ---- text, URLs, configuration -------------------------------------------- */

static void test_span(void **state)
{
	static const struct {
		int64_t s;
		const char *want;
	} t[] = {{-5, "0 s"}, {0, "0 s"}, {59, "59 s"}, {60, "1 min"}, {3599, "59 min"}, {3600, "1 h 00 min"},
	         {3725, "1 h 02 min"}, {86399, "23 h 59 min"}, {86400, "1 d 00 h"}, {190000, "2 d 04 h"}};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		diag_span(t[i].s, buf, sizeof(buf));
		assert_string_equal(buf, t[i].want);
	}
}

static void test_url(void **state)
{
	static const struct {
		const char *url, *host, *port; /* host NULL: refused */
	} t[] = {
		{"https://hq.example.com", "hq.example.com", "443"},
		{"https://hq.example.com/", "hq.example.com", "443"},
		{"https://hq.example.com:8443/base/path", "hq.example.com", "8443"},
		{"https://127.0.0.1:1", "127.0.0.1", "1"},
		{"https://[::1]:8443/x", "::1", "8443"},
		{"https://[2001:db8::1]", "2001:db8::1", "443"},
		{"https://hq?x=1", "hq", "443"},
		{"http://hq.example.com", NULL, NULL},
		{"https://", NULL, NULL},
		{"https:///x", NULL, NULL},
		{"https://:443", NULL, NULL},
		{"https://hq:", NULL, NULL},
		{"https://hq:0", NULL, NULL},
		{"https://hq:65536", NULL, NULL},
		{"https://hq:12a", NULL, NULL},
		{"https://user:pw@hq", NULL, NULL},
		{"https://[::1", NULL, NULL},
		{"https://[::1]x", NULL, NULL},
	};
	char host[64], port[16], err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rc = diag_url_host(t[i].url, host, sizeof(host), port, sizeof(port), err, sizeof(err));
		if (t[i].host) {
			if (rc != 0)
				fail_msg("%s: refused: %s", t[i].url, err);
			assert_string_equal(host, t[i].host);
			assert_string_equal(port, t[i].port);
		} else if (rc == 0) {
			fail_msg("%s: accepted as %s port %s", t[i].url, host, port);
		} else {
			assert_true(strncmp(err, "[hq] url", 8) == 0);
		}
	}
}

static void test_config_values(void **state)
{
	struct cfg c;
	char err[256];

	(void)state;
	cfg_defaults(&c);
	assert_int_equal(diag_config_values(&c, err, sizeof(err)), -1); /* no url */
	util_copy(c.url, sizeof(c.url), "https://hq.example.com");
	util_copy(c.ca_file, sizeof(c.ca_file), "/nonexistent/ca.pem"); /* not this check's business */
	assert_int_equal(diag_config_values(&c, err, sizeof(err)), 0);
	c.batch_size = 501;
	assert_int_equal(diag_config_values(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "[sync] batch_size"));
	c.batch_size = 200;
	c.waiting_fail = 60;
	assert_int_equal(diag_config_values(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "waiting_fail"));
	c.waiting_fail = 86400;
	util_copy(c.client_cert, sizeof(c.client_cert), "/x.pem");
	assert_int_equal(diag_config_values(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "go together"));
	c.client_cert[0] = '\0';
	util_copy(c.deferred, sizeof(c.deferred), "[hq] connect_timeout must be a whole number");
	assert_int_equal(diag_config_values(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "connect_timeout"));
}

/* Writes text to dir/name; returns the path in out. */
static void write_file(const char *dir, const char *name, const char *text, char *out, size_t n)
{
	FILE *fp;

	snprintf(out, n, "%s/%s", dir, name);
	fp = fopen(out, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void test_ca_file(void **state)
{
	struct fx *f = *state;
	char path[400], err[512];
	int certs;

	write_file(f->dir, "one.pem", CERT, path, sizeof(path));
	assert_int_equal(diag_ca_file(path, &certs, err, sizeof(err)), 0);
	assert_int_equal(certs, 1);
	write_file(f->dir, "two.pem", "# HQ CA bundle\nsubject=CN=test\n" CERT "\n" CERT, path, sizeof(path));
	assert_int_equal(diag_ca_file(path, &certs, err, sizeof(err)), 0);
	assert_int_equal(certs, 2);
	write_file(f->dir, "cut.pem", "-----BEGIN CERTIFICATE-----\nMIIBczCCARmgAwIBAgIUZYQkmB9wdRRr\n", path,
	           sizeof(path));
	assert_int_equal(diag_ca_file(path, &certs, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "damaged"));
	write_file(f->dir, "short.pem",
	           "-----BEGIN CERTIFICATE-----\nMIIBczCCARmgAwIBAgIUZYQkmB9wdRRr\n-----END CERTIFICATE-----\n", path,
	           sizeof(path));
	assert_int_equal(diag_ca_file(path, &certs, err, sizeof(err)), -1);
	write_file(f->dir, "bad.pem", "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n",
	           path, sizeof(path));
	assert_int_equal(diag_ca_file(path, &certs, err, sizeof(err)), -1);
	write_file(f->dir, "key.pem", "-----BEGIN PRIVATE KEY-----\nMIGHAgEA\n-----END PRIVATE KEY-----\n", path,
	           sizeof(path));
	assert_int_equal(diag_ca_file(path, &certs, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no PEM certificate"));
	write_file(f->dir, "empty.pem", "", path, sizeof(path));
	assert_int_equal(diag_ca_file(path, &certs, err, sizeof(err)), -1);
	assert_int_equal(diag_ca_file("/nonexistent/ca.pem", &certs, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(diag_ca_file(f->dir, &certs, err, sizeof(err)), -1);
}

/* ---- the network ------------------------------------------------------------ */

static void test_resolve(void **state)
{
	char addrs[4][64], err[256];
	size_t n;
	double t0;

	(void)state;
	assert_int_equal(diag_resolve("127.0.0.1", "443", 2000, addrs, 4, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_string_equal(addrs[0], "127.0.0.1");
	assert_int_equal(diag_resolve("::1", "443", 2000, addrs, 4, &n, err, sizeof(err)), 0);
	assert_string_equal(addrs[0], "::1");
	assert_int_equal(diag_resolve("localhost", "443", 2000, addrs, 4, &n, err, sizeof(err)), 0);
	assert_true(n >= 1);
	t0 = util_mono();
	assert_int_equal(diag_resolve("no-such-host.invalid", "443", 2000, addrs, 4, &n, err, sizeof(err)), -1);
	assert_true(util_mono() - t0 < 2.5);
	assert_non_null(strstr(err, "no-such-host.invalid"));
	/* no time at all: given up on (the lookup thread finishes alone) */
	t0 = util_mono();
	assert_int_equal(diag_resolve("timeout-test.invalid", "443", 0, addrs, 4, &n, err, sizeof(err)), -1);
	assert_true(util_mono() - t0 < 0.5);
	assert_non_null(strstr(err, "timeout-test.invalid"));
}

static void test_tcp(void **state)
{
	char addrs[2][64] = {"127.0.0.1", "192.0.2.1"}, port[16], err[256];
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	size_t used;
	double t0;
	int fd;

	(void)state;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(port, sizeof(port), "%u", (unsigned)ntohs(sa.sin_port));
	assert_int_equal(diag_tcp_connect(addrs, 1, port, 2000, &used, err, sizeof(err)), 0);
	assert_int_equal(used, 0);
	close(fd);

	/* closed now: refused at once */
	t0 = util_mono();
	assert_int_equal(diag_tcp_connect(addrs, 1, port, 2000, &used, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "refused"));
	assert_true(util_mono() - t0 < 1.0);

	/* TEST-NET-1 never answers (or is unreachable): bounded by the timeout */
	t0 = util_mono();
	assert_int_equal(diag_tcp_connect(addrs + 1, 1, "443", 300, &used, err, sizeof(err)), -1);
	assert_true(util_mono() - t0 < 1.0);
	assert_non_null(strstr(err, "cannot connect to port 443"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oldest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_dates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flagged_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ca_file, setup, teardown),
		cmocka_unit_test(test_span),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_config_values),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_tcp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
